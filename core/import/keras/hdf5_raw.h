// Bounds-checked reads of the few HDF5 structures that libhdf5 1.10 trusts blindly, done by zfvis
// before libhdf5 touches them (found by fuzzing tests/fuzz/fuzz_keras.cpp):
//  - object headers: libhdf5 allocates whatever chunk size a header claims (hundreds of GB);
//  - variable-length strings: libhdf5 loops forever on a damaged global heap collection and reads
//    or writes out of bounds on a damaged heap ID (H5HG_read only has asserts). h5py 3 writes
//    Keras' model_config as a variable-length string, so zfvis reads those strings itself.
// Internal to core.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace zfvis::keras {

class RawHdf5 {
 public:
  /// Opens `path` and reads the superblock at `superblock` (the offset of the HDF5 signature).
  /// `what` starts every error message. Throws Error when the superblock does not check out.
  RawHdf5(const std::filesystem::path& path, uint64_t superblock, std::string what);

  /// Addresses of the object headers libhdf5 reads when it opens the file (the root group and,
  /// for superblock version 2 or 3, the superblock extension).
  std::vector<uint64_t> openingObjectHeaders() const { return m_openingHeaders; }

  /// Checks that the object header at `address`, every continuation chunk and every message lie
  /// inside the file and inside their chunks, that attribute messages are well formed (libhdf5
  /// 1.10 reads their names and values without bounds checks), that datatypes are plain numbers
  /// or strings with sane fields, that dataspaces fit their messages, and that an old-style
  /// group's local heap (size, free list) and B-tree (levels, cycles, link names) are sound; no
  /// shared messages.
  void checkObjectHeader(uint64_t address) const;

  /// Reads the variable-length string attribute `name` of the object whose header is at
  /// `address`: `count` strings of at most `maxBytes` together, from the attribute message and
  /// the global heap, every offset checked.
  std::vector<std::string> vlenStringAttribute(uint64_t address, const std::string& name,
                                               size_t count, size_t maxBytes) const;

 private:
  struct Message {
    uint64_t type = 0;                            // header message type
    uint64_t flags = 0;                           // header message flags
    const std::vector<uint8_t>* chunk = nullptr;  // the chunk holding it
    uint64_t body = 0, size = 0;                  // its data within the chunk
  };
  /// An attribute message, checked: name terminated inside it, value size = elements x element
  /// size inside it.
  struct Attribute {
    std::string name;
    uint64_t dataAt = 0, dataEnd = 0;  // its value within the chunk
    bool variableLength = false;       // datatype class 9
  };
  Attribute parseAttribute(const Message& m) const;
  /// Checks a local heap (bounds, free list) and returns its data segment.
  std::vector<uint8_t> checkLocalHeap(uint64_t address) const;
  /// Checks an old-style group's B-tree and symbol nodes against its heap's data segment.
  void checkGroupBTree(uint64_t root, const std::vector<uint8_t>& names) const;
  /// Checks the datatype encoded at [at, end); returns its encoded size.
  uint64_t checkDatatype(const std::vector<uint8_t>& d, uint64_t at, uint64_t end, int depth) const;
  uint64_t dataspaceElements(const std::vector<uint8_t>& d, uint64_t at, uint64_t end) const;
  /// Walks every message of the header at `address` (following continuations); `visit` returns
  /// true to stop.
  template <typename Visit>
  void walkObjectHeader(uint64_t address, Visit visit) const;

  [[noreturn]] void fail(const std::string& why) const;
  std::vector<uint8_t> bytes(uint64_t offset, uint64_t n, const char* what) const;
  uint64_t absolute(uint64_t address, const char* what) const;
  uint64_t field(const std::vector<uint8_t>& data, uint64_t at, size_t n, const char* what) const;
  std::string heapString(uint64_t collection, uint64_t index, uint64_t length) const;

  mutable std::ifstream m_in;
  std::string m_what;
  mutable std::string m_context;  // "attribute 'x': " while reading one
  uint64_t m_size = 0;
  uint64_t m_base = 0;   // addresses are relative to this offset
  size_t m_offsets = 8;  // size of an address
  size_t m_lengths = 8;  // size of a length
  std::vector<uint64_t> m_openingHeaders;
};

}  // namespace zfvis::keras
