#include "core/import/keras/hdf5_file.h"

#include <H5PLpublic.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#include "core/base/error.h"

namespace zfvis::keras {

namespace {

constexpr size_t kMaxListEntries = 1 << 20;         // layer / weight names in one attribute
constexpr size_t kMaxListBytes = size_t(64) << 20;  // all names of one list together
constexpr int kMaxRank = 8;                         // weights are rank 1, 2 or 4
constexpr uint64_t kMaxChunkBytes = uint64_t(256) << 20;
constexpr uint64_t kMaxCompression = 1100;  // deflate cannot do better than ~1032:1

const std::array<unsigned char, 8> kSignature = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

// The HDF5 signature sits at 0, 512, 1024, 2048, ... (after an optional user block); returns its
// offset, or -1.
int64_t signatureOffset(const std::filesystem::path& path, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return -1;
  for (uint64_t offset = 0; offset + kSignature.size() <= size;
       offset = offset ? offset * 2 : 512) {
    std::array<unsigned char, 8> buf{};
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(buf.data()), buf.size())) return -1;
    if (buf == kSignature) return static_cast<int64_t>(offset);
  }
  return -1;
}

// Keras 3 saves .keras files as zip archives.
bool isZip(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string bytesText(uint64_t b) {
  return std::to_string(b) + " bytes";
}

// True for the standard IEEE binary16 / binary32 / binary64 layouts (either byte order).
bool isIeeeFloat(hid_t type) {
  size_t size = H5Tget_size(type);
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
  if (H5Tget_offset(type) != 0 || H5Tget_precision(type) != size * 8) return false;
  H5T_order_t order = H5Tget_order(type);
  if (order != H5T_ORDER_LE && order != H5T_ORDER_BE) return false;
  if (H5Tget_norm(type) != H5T_NORM_IMPLIED) return false;
  struct Layout {
    size_t size, spos, epos, esize, mpos, msize, ebias;
  };
  constexpr Layout layouts[] = {
      {2, 15, 10, 5, 0, 10, 15}, {4, 31, 23, 8, 0, 23, 127}, {8, 63, 52, 11, 0, 52, 1023}};
  for (const Layout& l : layouts)
    if (size == l.size && spos == l.spos && epos == l.epos && esize == l.esize && mpos == l.mpos &&
        msize == l.msize && H5Tget_ebias(type) == l.ebias)
      return true;
  return false;
}

}  // namespace

Handle::Handle(Handle&& other) noexcept : m_id(other.m_id), m_close(other.m_close) {
  other.m_id = H5I_INVALID_HID;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    m_id = other.m_id;
    m_close = other.m_close;
    other.m_id = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (m_id >= 0 && m_close) m_close(m_id);
  m_id = H5I_INVALID_HID;
}

void prepareHdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5PLset_loading_state(0);  // never dlopen() filter plugins named by a file
  });
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // per thread in thread-safe builds
}

Hdf5File::Hdf5File(const std::filesystem::path& path, std::string role) : m_what(std::move(role)) {
  prepareHdf5();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(m_what + ": " +
                (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  m_size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(m_what + ": cannot read the file size (" + ec.message() + ")");
  const int64_t superblock = signatureOffset(path, m_size);
  if (superblock < 0) {
    if (isZip(path))
      throw Error(m_what +
                  ": is a Keras 3 .keras archive (zip), not HDF5; save the model with "
                  "model.save(\"model.h5\") to read it");
    throw Error(m_what + ": not an HDF5 file (no HDF5 signature; expected a Keras .h5 file)");
  }
  m_raw = std::make_unique<RawHdf5>(path, static_cast<uint64_t>(superblock), m_what);
  for (uint64_t header : m_raw->openingObjectHeaders()) m_raw->checkObjectHeader(header);
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.valid()) throw Error(m_what + ": cannot set up HDF5");
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  m_file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!m_file.valid())
    throw Error(m_what + ": cannot open it as HDF5 (truncated or damaged file?)");
}

uint64_t Hdf5File::objectAddress(hid_t obj, const std::string& attribute) const {
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  haddr_t addr = HADDR_UNDEF;
  if (H5Oget_info3(obj, &info, H5O_INFO_BASIC) < 0 ||
      H5VLnative_token_to_addr(obj, info.token, &addr) < 0)
    throw Error(m_what + ": cannot locate the object holding attribute '" + attribute + "'");
  return addr;
#else
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0)
    throw Error(m_what + ": cannot locate the object holding attribute '" + attribute + "'");
  return info.addr;
#endif
}

bool Hdf5File::hasAttribute(hid_t obj, const std::string& name) const {
  return H5Aexists(obj, name.c_str()) > 0;
}

std::vector<std::string> Hdf5File::readStrings(hid_t obj, hid_t attr, const std::string& name,
                                               size_t maxBytes) const {
  Handle type(H5Aget_type(attr), H5Tclose);
  Handle space(H5Aget_space(attr), H5Sclose);
  if (!type.valid() || !space.valid())
    throw Error(m_what + ": attribute '" + name + "' is unreadable");
  H5S_class_t spaceClass = H5Sget_simple_extent_type(space.get());
  if (spaceClass == H5S_NULL) return {};
  if (spaceClass != H5S_SCALAR && spaceClass != H5S_SIMPLE)
    throw Error(m_what + ": attribute '" + name + "' has an unreadable dataspace");
  int rank = H5Sget_simple_extent_ndims(space.get());
  hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (rank < 0 || rank > 1 || points < 0)
    throw Error(m_what + ": attribute '" + name + "' is not a list of strings");
  const size_t n = static_cast<size_t>(points);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    if (n == 0) return {};  // Keras writes np.asarray([]) for layers without weights
    throw Error(m_what + ": attribute '" + name + "' is not a string");
  }
  if (n > kMaxListEntries)
    throw Error(m_what + ": attribute '" + name + "' has " + std::to_string(n) +
                " entries (at most " + std::to_string(kMaxListEntries) + " supported)");
  std::vector<std::string> out;
  out.reserve(n);
  auto tooLong = [&] {
    return Error(m_what + ": attribute '" + name + "' is longer than " + bytesText(maxBytes));
  };
  H5T_cset_t cset = H5Tget_cset(type.get());
  if (cset != H5T_CSET_ASCII && cset != H5T_CSET_UTF8) cset = H5T_CSET_ASCII;
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!mem.valid()) throw Error(m_what + ": cannot set up HDF5 string type");
  H5Tset_cset(mem.get(), cset);
  htri_t variable = H5Tis_variable_str(type.get());
  if (variable < 0) throw Error(m_what + ": attribute '" + name + "' has an unreadable type");
  if (variable) {
    // libhdf5's own conversion trusts the global heap (it hangs or overruns on damaged ones):
    // read the strings from the file bytes with every offset checked instead.
    return m_raw->vlenStringAttribute(objectAddress(obj, name), name, n, maxBytes);
  }
  size_t size = H5Tget_size(type.get());
  if (size == 0) throw Error(m_what + ": attribute '" + name + "' has an unreadable type");
  if (n && size > maxBytes / n) throw tooLong();
  H5Tset_size(mem.get(), size);
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  std::vector<char> buf(std::max<size_t>(size * n, 1), '\0');
  if (H5Aread(attr, mem.get(), buf.data()) < 0)
    throw Error(m_what + ": cannot read attribute '" + name + "'");
  for (size_t i = 0; i < n; ++i) {
    const char* p = buf.data() + i * size;
    out.emplace_back(p, strnlen(p, size));
  }
  return out;
}

std::optional<std::string> Hdf5File::stringAttribute(hid_t obj, const std::string& name,
                                                     size_t maxBytes) const {
  if (!hasAttribute(obj, name)) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) throw Error(m_what + ": cannot open attribute '" + name + "'");
  std::vector<std::string> v = readStrings(obj, attr.get(), name, maxBytes);
  if (v.size() != 1) throw Error(m_what + ": attribute '" + name + "' is not a single string");
  return v[0];
}

std::optional<std::vector<std::string>> Hdf5File::stringListAttribute(
    hid_t obj, const std::string& name) const {
  auto readOne = [&](const std::string& n) {
    Handle attr(H5Aopen(obj, n.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) throw Error(m_what + ": cannot open attribute '" + n + "'");
    return readStrings(obj, attr.get(), n, kMaxListBytes);
  };
  if (hasAttribute(obj, name)) return readOne(name);
  // Keras splits long lists into name0, name1, ... (HDF5 object header limit).
  std::vector<std::string> all;
  size_t chunk = 0;
  for (; hasAttribute(obj, name + std::to_string(chunk)); ++chunk) {
    std::vector<std::string> part = readOne(name + std::to_string(chunk));
    if (all.size() + part.size() > kMaxListEntries)
      throw Error(m_what + ": attribute '" + name + "' has too many entries");
    all.insert(all.end(), part.begin(), part.end());
  }
  if (chunk == 0) return std::nullopt;
  return all;
}

bool Hdf5File::walkLinks(hid_t parent, const std::string& path, bool require) const {
  // Component by component: each must be a hard link, and its object header must check out
  // before libhdf5 reads it (to look up the next component or to open it).
  std::string prefix;
  for (const std::string& part : splitPath(path)) {
    if (part.empty() || part == "." || part == "..") {
      if (!require) return false;
      throw Error(m_what + ": invalid object path '" + path + "'");
    }
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) {
      if (!require) return false;
      throw Error(m_what + ": '" + path + "' not found ('" + prefix + "' is missing)");
    }
    H5L_info_t info;
    if (H5Lget_info(parent, prefix.c_str(), &info, H5P_DEFAULT) < 0)
      throw Error(m_what + ": cannot read link '" + prefix + "'");
    if (info.type != H5L_TYPE_HARD) {
      // Never traverse a soft or external link (another file, a device).
      if (!require) return true;  // it exists; opening it will refuse it
      throw Error(m_what + ": '" + prefix +
                  "' is a soft or external link (only plain groups and datasets are read)");
    }
#if H5_VERSION_GE(1, 12, 0)
    haddr_t addr = HADDR_UNDEF;
    if (H5VLnative_token_to_addr(parent, info.u.token, &addr) < 0)
      throw Error(m_what + ": cannot locate '" + prefix + "'");
    m_raw->checkObjectHeader(addr);
#else
    m_raw->checkObjectHeader(info.u.address);
#endif
  }
  return true;
}

bool Hdf5File::exists(hid_t parent, const std::string& path) const {
  return walkLinks(parent, path, false);
}

Handle Hdf5File::openGroup(hid_t parent, const std::string& path) const {
  walkLinks(parent, path, true);
  Handle g(H5Gopen2(parent, path.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) throw Error(m_what + ": '" + path + "' is not a readable group");
  return g;
}

Handle Hdf5File::openDataset(hid_t parent, const std::string& path) const {
  walkLinks(parent, path, true);
  Handle d(H5Dopen2(parent, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) throw Error(m_what + ": '" + path + "' is not a readable dataset");
  return d;
}

std::vector<int64_t> Hdf5File::datasetDims(hid_t dataset, const std::string& path) const {
  Handle space(H5Dget_space(dataset), H5Sclose);
  if (!space.valid()) throw Error(m_what + ": dataset '" + path + "' has no readable dataspace");
  H5S_class_t cls = H5Sget_simple_extent_type(space.get());
  if (cls == H5S_SCALAR) return {};
  if (cls != H5S_SIMPLE) throw Error(m_what + ": dataset '" + path + "' holds no data");
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > kMaxRank)
    throw Error(m_what + ": dataset '" + path + "' has rank " + std::to_string(rank) +
                " (weights have rank 1 to 4)");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) != rank)
    throw Error(m_what + ": dataset '" + path + "' has unreadable dimensions");
  std::vector<int64_t> out;
  for (hsize_t d : dims) {
    if (d > (hsize_t(1) << 40))
      throw Error(m_what + ": dataset '" + path + "' has an absurd dimension " + std::to_string(d));
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

Tensor Hdf5File::readFloats(hid_t dataset, const std::string& path) const {
  const std::string where = m_what + ": dataset '" + path + "'";
  std::vector<int64_t> dims = datasetDims(dataset, path);
  uint64_t numel = 1;
  for (int64_t d : dims) {
    if (d != 0 && numel > uint64_t(Tensor::kMaxElements) / uint64_t(d))
      throw Error(where + " is too large (" + Shape(dims).str() + ")");
    numel *= uint64_t(d);
  }
  if (numel > uint64_t(Tensor::kMaxElements))
    throw Error(where + " is too large (" + Shape(dims).str() + ")");

  Handle type(H5Dget_type(dataset), H5Tclose);
  if (!type.valid()) throw Error(where + " has an unreadable type");
  if (H5Tget_class(type.get()) != H5T_FLOAT || !isIeeeFloat(type.get()))
    throw Error(where + " is not IEEE float16/32/64 data");
  const uint64_t declared = numel * H5Tget_size(type.get());

  Handle dcpl(H5Dget_create_plist(dataset), H5Pclose);
  if (!dcpl.valid()) throw Error(where + " has unreadable storage properties");
  H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT && layout != H5D_CHUNKED)
    throw Error(where + " uses an unsupported storage layout (virtual or unknown)");
  if (H5Pget_external_count(dcpl.get()) != 0)
    throw Error(where + " is stored in external files (not supported)");
  int filters = H5Pget_nfilters(dcpl.get());
  if (filters < 0) throw Error(where + " has unreadable filters");
  if (layout == H5D_CHUNKED) {
    int rank = H5Pget_chunk(dcpl.get(), 0, nullptr);
    if (rank != static_cast<int>(dims.size()))
      throw Error(where + " has a chunk rank that does not match its dimensions");
    std::vector<hsize_t> chunk(dims.size());
    if (rank > 0 && H5Pget_chunk(dcpl.get(), rank, chunk.data()) != rank)
      throw Error(where + " has unreadable chunk dimensions");
    uint64_t chunkBytes = H5Tget_size(type.get());
    for (hsize_t c : chunk) {
      if (c == 0 || c > kMaxChunkBytes || chunkBytes * c > kMaxChunkBytes)
        throw Error(where + " has absurd chunk dimensions");
      chunkBytes *= c;
    }
  }
  // The file must really hold the data: compare with what is stored (and the file size).
  const uint64_t stored = std::min<uint64_t>(H5Dget_storage_size(dataset), m_size);
  const bool ok = filters == 0 ? declared <= stored : declared <= stored * kMaxCompression;
  if (!ok)
    throw Error(where + " claims " + Shape(dims).str() + " (" + bytesText(declared) +
                ") but the file stores only " + bytesText(stored) + " for it (truncated file?)");

  Tensor t{Shape(dims)};
  if (numel && H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0)
    throw Error(where + " cannot be read (truncated or damaged file?)");
  return t;
}

}  // namespace zfvis::keras
