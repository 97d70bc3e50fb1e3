// A small read-only HDF5 layer for the Keras importer: RAII handles, string-list attributes and
// float datasets, with every failure turned into zfvis::Error and every size checked before
// anything is allocated. Internal to core (includes hdf5.h).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/import/keras/hdf5_raw.h"

namespace zfvis::keras {

/// Owns one HDF5 identifier and releases it with the matching close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  /// Takes ownership of `id` (which may be negative: then the handle is invalid).
  Handle(hid_t id, Closer close) : m_id(id), m_close(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  /// The raw identifier.
  hid_t get() const { return m_id; }
  /// True when the identifier is usable.
  bool valid() const { return m_id >= 0; }
  /// Closes the identifier now.
  void reset();

 private:
  hid_t m_id = H5I_INVALID_HID;
  Closer m_close = nullptr;
};

/// One HDF5 file opened read-only. Opening checks the signature and the object headers libhdf5
/// reads first (see hdf5_raw.h), silences HDF5's own error printing and disables filter plugins
/// (a file cannot make us load code). Groups and datasets are checked the same way before they
/// are opened.
class Hdf5File {
 public:
  /// Opens `path`; `role` starts every error message (e.g. "Keras model 'x.h5'").
  Hdf5File(const std::filesystem::path& path, std::string role);

  /// The root group.
  hid_t root() const { return m_file.get(); }
  /// Prefix for error messages, e.g. "Keras model 'x.h5'".
  const std::string& what() const { return m_what; }
  /// Size of the file in bytes.
  uint64_t fileSize() const { return m_size; }

  /// True when `obj` has an attribute called `name`.
  bool hasAttribute(hid_t obj, const std::string& name) const;
  /// A string attribute (scalar or one element; fixed length, or variable length read without
  /// libhdf5's heap code), nullopt when absent; throws when it is not a string or is longer than
  /// `maxBytes`.
  std::optional<std::string> stringAttribute(hid_t obj, const std::string& name,
                                             size_t maxBytes) const;
  /// A list-of-strings attribute as Keras writes it (in `name` or in chunks `name0`, `name1`,
  /// ...); an empty numeric array reads as an empty list; nullopt when absent.
  std::optional<std::vector<std::string>> stringListAttribute(hid_t obj,
                                                              const std::string& name) const;

  /// True when every link along `path` (relative, '/'-separated) exists (a soft or external link
  /// counts as existing and is not followed: opening refuses it). Throws on a damaged header.
  bool exists(hid_t parent, const std::string& path) const;
  /// Opens the group at `path` under `parent` (hard links only); throws naming `path`.
  Handle openGroup(hid_t parent, const std::string& path) const;
  /// Opens the dataset at `path` under `parent` (hard links only); throws naming `path`.
  Handle openDataset(hid_t parent, const std::string& path) const;

  /// Dimensions of a dataset (rank <= 8); throws on an unreadable or odd dataspace.
  std::vector<int64_t> datasetDims(hid_t dataset, const std::string& path) const;
  /// Reads a floating-point dataset (IEEE float16/32/64) as float32, with its own dimensions.
  /// Checks the type, the layout and that the file really holds the data before allocating.
  Tensor readFloats(hid_t dataset, const std::string& path) const;

 private:
  bool walkLinks(hid_t parent, const std::string& path, bool require) const;
  std::vector<std::string> readStrings(hid_t obj, hid_t attr, const std::string& name,
                                       size_t maxBytes) const;
  uint64_t objectAddress(hid_t obj, const std::string& attribute) const;

  std::string m_what;
  uint64_t m_size = 0;
  std::unique_ptr<RawHdf5> m_raw;  // checks structures before libhdf5 reads them
  Handle m_file;
};

/// Prepares HDF5 for use on the calling thread (silences automatic error printing; plugins off).
void prepareHdf5();

}  // namespace zfvis::keras
