#include "core/import/keras/hdf5_raw.h"

#include <cstring>
#include <deque>
#include <set>
#include <utility>

#include "core/base/error.h"

namespace zfvis::keras {

namespace {

constexpr uint64_t kMaxCollectionBytes = uint64_t(256) << 20;
constexpr uint64_t kMaxChunkBytes = uint64_t(256) << 20;
constexpr size_t kMaxChunks = 4096;       // object header chunks followed
constexpr size_t kMaxMessages = 1 << 20;  // messages looked at in one header
constexpr uint64_t kAttributeMessage = 0x000C;
constexpr uint64_t kContinuationMessage = 0x0010;
constexpr uint64_t kSymbolTableMessage = 0x0011;
constexpr uint64_t kDataspaceMessage = 0x0001;
constexpr uint64_t kDatatypeMessage = 0x0003;

// Little-endian unsigned integer of `n` bytes (n <= 8).
uint64_t le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

uint64_t tag(const char* s) {
  return le(reinterpret_cast<const uint8_t*>(s), 4);
}

uint64_t align8(uint64_t v) {
  return (v + 7) & ~uint64_t(7);
}

bool undefinedAddress(uint64_t v, size_t bytes) {
  return bytes == 8 ? v == ~uint64_t(0) : v == (uint64_t(1) << (8 * bytes)) - 1;
}

}  // namespace

RawHdf5::RawHdf5(const std::filesystem::path& path, uint64_t superblock, std::string what)
    : m_in(path, std::ios::binary), m_what(std::move(what)) {
  std::error_code ec;
  m_size = std::filesystem::file_size(path, ec);
  if (!m_in || ec) fail("cannot read the file");
  std::vector<uint8_t> sb = bytes(
      superblock, std::min<uint64_t>(96, m_size - std::min(m_size, superblock)), "the superblock");
  const uint64_t version = field(sb, 8, 1, "the superblock");
  uint64_t at = 0;
  if (version == 0 || version == 1) {
    m_offsets = field(sb, 13, 1, "the superblock");
    m_lengths = field(sb, 14, 1, "the superblock");
    at = version == 0 ? 24 : 28;
  } else if (version == 2 || version == 3) {
    m_offsets = field(sb, 9, 1, "the superblock");
    m_lengths = field(sb, 10, 1, "the superblock");
    at = 12;
  } else {
    fail("unknown superblock version " + std::to_string(version));
  }
  for (size_t s : {m_offsets, m_lengths})
    if (s != 2 && s != 4 && s != 8) fail("the superblock gives an unsupported address size");
  // Addresses are relative to the base address, which libhdf5 replaces by the signature's
  // offset whenever the two differ (H5F__super_read): do the same, so that the structures
  // checked here are the ones libhdf5 reads.
  m_base = superblock;
  const size_t o = m_offsets;
  if (version <= 1) {
    // base, free space, end of file, driver info, then the root group's symbol table entry:
    // link name offset, object header address.
    m_openingHeaders.push_back(field(sb, at + 5 * o, o, "the superblock"));
  } else {
    // base, superblock extension, end of file, root group object header.
    const uint64_t extension = field(sb, at + o, o, "the superblock");
    if (!undefinedAddress(extension, o)) m_openingHeaders.push_back(extension);
    m_openingHeaders.push_back(field(sb, at + 3 * o, o, "the superblock"));
  }
}

void RawHdf5::fail(const std::string& why) const {
  throw Error(m_what + ": " + m_context + why + " (damaged file?)");
}

std::vector<uint8_t> RawHdf5::bytes(uint64_t offset, uint64_t n, const char* what) const {
  if (offset > m_size || n > m_size - offset) fail(std::string(what) + " lies outside the file");
  std::vector<uint8_t> buf(static_cast<size_t>(n));
  m_in.clear();
  m_in.seekg(static_cast<std::streamoff>(offset));
  if (n && !m_in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n)))
    fail(std::string("cannot read ") + what);
  return buf;
}

uint64_t RawHdf5::absolute(uint64_t address, const char* what) const {
  if (address > m_size - m_base) fail(std::string(what) + " lies outside the file");
  return m_base + address;
}

uint64_t RawHdf5::field(const std::vector<uint8_t>& data, uint64_t at, size_t n,
                        const char* what) const {
  if (at > data.size() || n > data.size() - at) fail(std::string(what) + " is cut short");
  return le(data.data() + at, n);
}

template <typename Visit>
void RawHdf5::walkObjectHeader(uint64_t address, Visit visit) const {
  struct Chunk {
    uint64_t offset, length;
  };
  std::deque<Chunk> chunks;
  const char* kHeader = "an object header";
  const uint64_t header = absolute(address, kHeader);
  std::vector<uint8_t> prefix = bytes(header, std::min<uint64_t>(64, m_size - header), kHeader);
  bool v2 = false, creationOrder = false;
  if (field(prefix, 0, 4, kHeader) == tag("OHDR")) {
    v2 = true;
    if (field(prefix, 4, 1, kHeader) != 2) fail("unknown object header version");
    const uint64_t flags = field(prefix, 5, 1, kHeader);
    creationOrder = flags & 0x04;
    const uint64_t at = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const size_t width = size_t(1) << (flags & 0x03);
    chunks.push_back({header + at + width, field(prefix, at, width, kHeader)});
  } else if (field(prefix, 0, 1, kHeader) == 1) {
    chunks.push_back({header + 16, field(prefix, 8, 4, kHeader)});  // 16-byte v1 prefix
  } else {
    fail("unknown object header version");
  }
  const uint64_t messageHeader = v2 ? (creationOrder ? 6 : 4) : 8;
  size_t seenChunks = 0, seenMessages = 0;
  while (!chunks.empty()) {
    const Chunk c = chunks.front();
    chunks.pop_front();
    if (++seenChunks > kMaxChunks) fail("an object header has too many chunks");
    if (c.length > kMaxChunkBytes) fail("an object header chunk is too large");
    const std::vector<uint8_t> data = bytes(c.offset, c.length, "an object header chunk");
    const char* kChunk = "an object header chunk";
    uint64_t at = 0;
    while (at + messageHeader <= data.size()) {
      if (++seenMessages > kMaxMessages) fail("an object header has too many messages");
      Message m;
      m.type = v2 ? field(data, at, 1, kChunk) : field(data, at, 2, kChunk);
      m.size = v2 ? field(data, at + 1, 2, kChunk) : field(data, at + 2, 2, kChunk);
      m.flags = v2 ? field(data, at + 3, 1, kChunk) : field(data, at + 4, 1, kChunk);
      m.body = at + messageHeader;
      m.chunk = &data;
      if (m.size > data.size() - m.body) fail("an object header message is cut short");
      if (m.type == kContinuationMessage) {
        const uint64_t start = absolute(field(data, m.body, m_offsets, kChunk), kChunk);
        const uint64_t length = field(data, m.body + m_offsets, m_lengths, kChunk);
        if (length > m_size - start) fail("an object header continuation lies outside the file");
        if (v2) {  // "OCHK" signature, messages, checksum
          if (length < 8) fail("an object header continuation is too short");
          chunks.push_back({start + 4, length - 8});
        } else {
          chunks.push_back({start, length});
        }
      } else if (visit(m)) {
        return;
      }
      at = m.body + m.size;
    }
  }
}

uint64_t RawHdf5::dataspaceElements(const std::vector<uint8_t>& d, uint64_t at,
                                    uint64_t end) const {
  const char* kSpace = "a dataspace";
  const uint64_t version = field(d, at, 1, kSpace);
  const uint64_t rank = field(d, at + 1, 1, kSpace);
  const uint64_t flags = field(d, at + 2, 1, kSpace);
  if (rank > 32) fail("a dataspace has rank " + std::to_string(rank));
  uint64_t dimsAt = 0;
  if (version == 1) {
    dimsAt = at + 8;
  } else if (version == 2) {
    const uint64_t type = field(d, at + 3, 1, kSpace);
    if (type == 0) return 1;  // scalar
    if (type == 2) return 0;  // null
    dimsAt = at + 4;
  } else {
    fail("a dataspace has unknown version " + std::to_string(version));
  }
  if (rank == 0) return 1;  // version 1 scalar
  const uint64_t needed = rank * m_lengths * ((flags & 0x01) ? 2 : 1);
  if (dimsAt > end || needed > end - dimsAt) fail("a dataspace is cut short");
  uint64_t n = 1;
  for (uint64_t i = 0; i < rank; ++i) {
    const uint64_t dim = field(d, dimsAt + i * m_lengths, m_lengths, kSpace);
    if (dim != 0 && n > (uint64_t(1) << 48) / dim) fail("a dataspace is absurd");
    n *= dim;
  }
  return n;
}

uint64_t RawHdf5::checkDatatype(const std::vector<uint8_t>& d, uint64_t at, uint64_t end,
                                int depth) const {
  const char* kType = "a datatype";
  if (at > end || end - at < 8) fail("a datatype is cut short");
  const uint64_t typeClass = field(d, at, 1, kType) & 0x0f;
  const uint64_t size = field(d, at + 4, 4, kType);
  auto need = [&](uint64_t n) {
    if (end - at < n) fail("a datatype is cut short");
  };
  switch (typeClass) {
    case 0: {  // fixed-point: bit offset, precision
      need(12);
      if (size != 1 && size != 2 && size != 4 && size != 8) fail("an integer type has an odd size");
      if (field(d, at + 8, 2, kType) + field(d, at + 10, 2, kType) > 8 * size)
        fail("an integer type has an odd precision");
      return 12;
    }
    case 1: {  // floating point: offset, precision, exponent / mantissa position and size, bias
      need(20);
      if (size != 2 && size != 4 && size != 8) fail("a floating-point type has an odd size");
      const uint64_t bits = 8 * size;
      const uint64_t offset = field(d, at + 8, 2, kType), precision = field(d, at + 10, 2, kType);
      const uint64_t epos = field(d, at + 12, 1, kType), esize = field(d, at + 13, 1, kType);
      const uint64_t mpos = field(d, at + 14, 1, kType), msize = field(d, at + 15, 1, kType);
      if (offset + precision > bits || epos + esize > precision || mpos + msize > precision ||
          esize == 0 || esize > 32 || msize == 0 || msize > 64)
        fail("a floating-point type has odd fields");
      return 20;
    }
    case 3:  // string
      if (size == 0) fail("a string type has size 0");
      return 8;
    case 9: {  // variable-length: its base type follows
      if (depth > 0) fail("a nested variable-length type is not read");
      return 8 + checkDatatype(d, at + 8, end, depth + 1);
    }
    default:
      fail("a datatype of class " + std::to_string(typeClass) +
           " is not read (zfvis reads numbers and strings)");
  }
}

RawHdf5::Attribute RawHdf5::parseAttribute(const Message& m) const {
  const std::vector<uint8_t>& d = *m.chunk;
  const char* kAttr = "an attribute message";
  const uint64_t end = m.body + m.size;
  const uint64_t version = field(d, m.body, 1, kAttr);
  const uint64_t flags = version == 1 ? 0 : field(d, m.body + 1, 1, kAttr);
  const uint64_t nameSize = field(d, m.body + 2, 2, kAttr);
  const uint64_t typeSize = field(d, m.body + 4, 2, kAttr);
  const uint64_t spaceSize = field(d, m.body + 6, 2, kAttr);
  uint64_t nameAt = m.body + 8, typeAt = 0, spaceAt = 0, dataAt = 0;
  if (version == 1) {
    typeAt = nameAt + align8(nameSize);
    spaceAt = typeAt + align8(typeSize);
    dataAt = spaceAt + align8(spaceSize);
  } else if (version == 2 || version == 3) {
    if (version == 3) ++nameAt;  // name character set
    typeAt = nameAt + nameSize;
    spaceAt = typeAt + typeSize;
    dataAt = spaceAt + spaceSize;
  } else {
    fail("unknown attribute message version " + std::to_string(version));
  }
  if (nameSize == 0 || dataAt > end) fail("an attribute message is cut short");
  const char* n = reinterpret_cast<const char*>(d.data() + nameAt);
  const size_t len = strnlen(n, static_cast<size_t>(nameSize));
  if (len == nameSize) fail("an attribute name is not terminated");
  Attribute a;
  a.name.assign(n, len);
  a.dataAt = dataAt;
  a.dataEnd = end;
  if (flags & 0x03) return a;  // shared datatype or dataspace: sizes live elsewhere
  checkDatatype(d, typeAt, typeAt + typeSize, 0);
  const uint64_t typeClass = field(d, typeAt, 1, kAttr) & 0x0f;
  a.variableLength = typeClass == 9;
  // libhdf5 copies elements x the declared size: for variable-length data that size must be
  // the on-disk element (length, heap collection address, index).
  const uint64_t element = field(d, typeAt + 4, 4, kAttr);
  if (a.variableLength && element != 4 + m_offsets + 4)
    fail("attribute '" + a.name + "' has a variable-length type of odd size");
  const uint64_t count = dataspaceElements(d, spaceAt, spaceAt + spaceSize);
  if (element != 0 && count > (end - dataAt) / element)
    fail("attribute '" + a.name + "' claims more data than its message holds");
  return a;
}

void RawHdf5::checkGroupBTree(uint64_t root, const std::vector<uint8_t>& names) const {
  // Version 1 B-tree of an old-style group: "TREE", type 0, level, entries used, siblings, then
  // key 0, child 0, ..., child n-1, key n; the children of level 0 nodes are symbol table nodes
  // ("SNOD") whose entries name links by their offset in the local heap. libhdf5 1.10 recurses
  // into children without checking their level (a node that is its own child recurses until the
  // stack overflows) and compares names it assumes are terminated inside the heap.
  const char* kTree = "a group's B-tree";
  constexpr size_t kMaxNodes = 1 << 16;
  constexpr int64_t kAnyLevel = -1, kSymbolNode = -2;
  std::set<uint64_t> seen;
  std::vector<std::pair<uint64_t, int64_t>> stack = {{root, kAnyLevel}};  // node, what it must be
  while (!stack.empty()) {
    const auto [address, expected] = stack.back();
    stack.pop_back();
    if (!seen.insert(address).second || seen.size() > kMaxNodes)
      fail("a group's B-tree has a cycle or too many nodes");
    const uint64_t at = absolute(address, kTree);
    const std::vector<uint8_t> head = bytes(at, 8, kTree);
    if (expected == kSymbolNode) {
      if (field(head, 0, 4, kTree) != tag("SNOD")) fail("a group's symbol node is damaged");
      const uint64_t count = field(head, 6, 2, kTree);
      const uint64_t entry = 2 * m_offsets + 24;  // name offset, header address, cache, scratch
      const std::vector<uint8_t> node = bytes(at, 8 + count * entry, kTree);
      for (uint64_t i = 0; i < count; ++i) {
        const uint64_t name = field(node, 8 + i * entry, m_offsets, kTree);
        if (name >= names.size() ||
            std::memchr(names.data() + name, 0, names.size() - name) == nullptr)
          fail("a group's symbol table names a link outside its local heap");
      }
      continue;
    }
    if (field(head, 0, 4, kTree) != tag("TREE") || field(head, 4, 1, kTree) != 0)
      fail("a group's B-tree node is damaged");
    const int64_t level = static_cast<int64_t>(field(head, 5, 1, kTree));
    if (expected != kAnyLevel && level != expected)
      fail("a group's B-tree has a node at the wrong level");
    const uint64_t entries = field(head, 6, 2, kTree);
    const uint64_t stride = m_lengths + m_offsets;  // key, child
    const uint64_t first = 8 + 2 * m_offsets;       // after the sibling addresses
    const std::vector<uint8_t> node = bytes(at, first + entries * stride + m_lengths, kTree);
    for (uint64_t i = 0; i < entries; ++i)
      stack.push_back({field(node, first + i * stride + m_lengths, m_offsets, kTree),
                       level > 0 ? level - 1 : kSymbolNode});
  }
}

std::vector<uint8_t> RawHdf5::checkLocalHeap(uint64_t address) const {
  const char* kHeap = "a group's local heap";
  const std::vector<uint8_t> h =
      bytes(absolute(address, kHeap), 8 + 2 * m_lengths + m_offsets, kHeap);
  if (field(h, 0, 4, kHeap) != tag("HEAP") || field(h, 4, 1, kHeap) != 0)
    fail("a group's symbol table does not point to a local heap");
  const uint64_t size = field(h, 8, m_lengths, kHeap);
  const uint64_t freeList = field(h, 8 + m_lengths, m_lengths, kHeap);
  const uint64_t data = field(h, 8 + 2 * m_lengths, m_offsets, kHeap);
  if (size > kMaxChunkBytes || data > m_size - m_base || size > m_size - m_base - data)
    fail("a group's local heap lies outside the file");
  // The free list: blocks (next offset, size) inside the data segment, ending with offset 1.
  // libhdf5 1.10 follows it without looking for cycles, allocating a node per step forever.
  constexpr uint64_t kEnd = 1;
  std::vector<uint8_t> segment = bytes(m_base + data, size, kHeap);
  std::set<uint64_t> seen;
  for (uint64_t block = freeList; block != kEnd;) {
    if (block >= size || size - block < 2 * m_lengths || !seen.insert(block).second)
      fail("a group's local heap has a damaged free list");
    const uint64_t next = field(segment, block, m_lengths, kHeap);
    const uint64_t blockSize = field(segment, block + m_lengths, m_lengths, kHeap);
    if (blockSize > size - block) fail("a group's local heap has a damaged free list");
    block = next;
  }
  return segment;
}

void RawHdf5::checkObjectHeader(uint64_t address) const {
  walkObjectHeader(address, [&](const Message& m) {
    // A shared message is a reference to one stored elsewhere (a committed datatype, a shared
    // message table) that libhdf5 would decode unchecked; Keras files have none.
    if (m.flags & 0x02) fail("a shared header message is not read");
    if (m.type == kAttributeMessage) parseAttribute(m);
    if (m.type == kDatatypeMessage) checkDatatype(*m.chunk, m.body, m.body + m.size, 0);
    if (m.type == kDataspaceMessage) dataspaceElements(*m.chunk, m.body, m.body + m.size);
    if (m.type == kSymbolTableMessage) {  // an old-style group: B-tree and local heap addresses
      const char* kTable = "a symbol table message";
      const std::vector<uint8_t> names =
          checkLocalHeap(field(*m.chunk, m.body + m_offsets, m_offsets, kTable));
      checkGroupBTree(field(*m.chunk, m.body, m_offsets, kTable), names);
    }
    return false;
  });
}

std::string RawHdf5::heapString(uint64_t collection, uint64_t index, uint64_t length) const {
  const char* kHeap = "a global heap collection";
  const uint64_t start = absolute(collection, kHeap);
  std::vector<uint8_t> head = bytes(start, 8 + m_lengths, kHeap);
  if (field(head, 0, 4, kHeap) != tag("GCOL") || field(head, 4, 1, kHeap) != 1)
    fail("a string points to something that is not a global heap collection");
  const uint64_t size = field(head, 8, m_lengths, kHeap);
  if (size < 8 + m_lengths || size > kMaxCollectionBytes)
    fail("a global heap collection has an impossible size");
  const std::vector<uint8_t> data = bytes(start, size, kHeap);
  // libhdf5's walk over the collection, except that every step must move forward and stay
  // inside (libhdf5 1.10 loops forever on a zero-sized free space).
  const uint64_t objectHeader = 8 + m_lengths;
  std::string found;
  bool haveIt = false;
  for (uint64_t at = 8 + m_lengths; at + objectHeader <= size;) {
    const uint64_t objIndex = field(data, at, 2, kHeap);
    const uint64_t objSize = field(data, at + 8, m_lengths, kHeap);
    uint64_t need = 0;
    if (objIndex > 0) {
      if (objSize > size) fail("a global heap object is larger than its collection");
      need = objectHeader + align8(objSize);
      if (need > size - at) fail("a global heap object runs past its collection");
      if (objIndex == index) {
        if (objSize != length) fail("a string's length does not match its global heap object");
        const char* p = reinterpret_cast<const char*>(data.data() + at + objectHeader);
        found.assign(p, strnlen(p, static_cast<size_t>(objSize)));
        haveIt = true;
      }
    } else {
      need = objSize;  // the free space, its header included
      if (need < objectHeader || need > size - at)
        fail("a global heap collection has damaged free space");
    }
    at += need;
  }
  if (index == 0 || !haveIt) fail("a string refers to a missing global heap object");
  return found;
}

std::vector<std::string> RawHdf5::vlenStringAttribute(uint64_t address, const std::string& name,
                                                      size_t count, size_t maxBytes) const {
  struct Context {  // errors name the attribute
    std::string& text;
    Context(std::string& t, const std::string& name) : text(t) {
      text = "attribute '" + name + "': ";
    }
    ~Context() { text.clear(); }
  } context(m_context, name);
  std::vector<uint8_t> value;
  bool found = false;
  walkObjectHeader(address, [&](const Message& m) {
    if (m.type != kAttributeMessage || (m.flags & 0x02)) return false;  // 0x02: shared message
    const Attribute a = parseAttribute(m);
    if (a.name != name) return false;
    if (!a.variableLength) fail("is not a variable-length string");
    value.assign(m.chunk->begin() + static_cast<std::ptrdiff_t>(a.dataAt),
                 m.chunk->begin() + static_cast<std::ptrdiff_t>(a.dataEnd));
    found = true;
    return true;
  });
  if (!found)
    fail("attribute '" + name +
         "' is not in its object header (variable-length strings are "
         "not read from dense attribute storage)");
  const uint64_t element = 4 + m_offsets + 4;  // length, collection address, object index
  if (count > value.size() / element) fail("holds fewer strings than it declares");
  std::vector<std::string> out;
  out.reserve(count);
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t at = i * element;
    const uint64_t length = field(value, at, 4, "an attribute value");
    total += length;
    if (total > maxBytes)
      throw Error(m_what + ": attribute '" + name + "' is longer than " + std::to_string(maxBytes) +
                  " bytes");
    if (length == 0) {
      out.emplace_back();
      continue;
    }
    out.push_back(heapString(field(value, at + 4, m_offsets, "an attribute value"),
                             field(value, at + 4 + m_offsets, 4, "an attribute value"), length));
  }
  return out;
}

}  // namespace zfvis::keras
