#include "core/base/npy.h"

#include <cstring>
#include <regex>

#include "core/base/atomic_file.h"
#include "core/base/error.h"

namespace zfvis {

namespace {

struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  size_t dataOffset = 0;
};

Header parseHeader(const std::string& b, const std::string& what) {
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    throw Error(what + ": not a .npy file (missing the \\x93NUMPY magic)");
  int major = static_cast<unsigned char>(b[6]);
  size_t headerLen = 0, start = 0;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw Error(what + ": truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    start = 12;
  } else {
    throw Error(what + ": unsupported .npy format version " + std::to_string(major));
  }
  if (headerLen > 1 << 20 || start + headerLen > b.size())
    throw Error(what + ": truncated .npy header");
  std::string h = b.substr(start, headerLen);
  Header out;
  out.dataOffset = start + headerLen;
  std::smatch m;
  if (!std::regex_search(h, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw Error(what + ": .npy header has no 'descr'");
  out.descr = m[1];
  if (std::regex_search(h, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")))
    out.fortran = m[1] == "True";
  if (!std::regex_search(h, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw Error(what + ": .npy header has no 'shape'");
  // "3, 67, 67" or "3," or "": every entry must be a non-negative decimal integer, so a shape
  // such as (3, -67, 67) or (3, 6.5) is refused rather than read digit by digit.
  const std::string dims = m[1];
  size_t at = 0;
  while (at < dims.size()) {
    size_t comma = dims.find(',', at);
    if (comma == std::string::npos) comma = dims.size();
    std::string d = dims.substr(at, comma - at);
    d.erase(0, d.find_first_not_of(" \t"));
    d.erase(d.find_last_not_of(" \t") + 1);
    if (d.empty() && comma == dims.size() && !out.shape.empty()) break;  // "(3,)"
    if (d.empty() || d.size() > 12 || d.find_first_not_of("0123456789") != std::string::npos)
      throw Error(what + ": .npy shape (" + dims + ") has the dimension '" + d +
                  "', expected non-negative whole numbers");
    out.shape.push_back(std::stoll(d));
    at = comma + 1;
  }
  if (out.fortran)
    throw Error(what + ": Fortran-order .npy arrays are not supported (expected C order)");
  return out;
}

std::string headerFor(const std::string& descr, const Shape& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.rank(); ++i) dims += std::to_string(shape[i]) + ", ";
  if (shape.rank() > 1) dims.resize(dims.size() - 2);  // "(3, 4)"; rank 1 keeps "(3,)"
  if (shape.rank() == 1) dims.resize(dims.size() - 1);
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xff);
  out += char((dict.size() >> 8) & 0xff);
  return out + dict;
}

void checkSize(const Header& h, size_t itemSize, size_t available, const std::string& what,
               int64_t& count) {
  count = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && count > Tensor::kMaxElements / d) throw Error(what + ": .npy shape is too large");
    count *= d;
  }
  if (size_t(count) * itemSize > available)
    throw Error(what + ": .npy data is truncated (" + std::to_string(available) + " bytes for " +
                std::to_string(count) + " elements of " + h.descr + ")");
}

}  // namespace

Tensor parseNpy(const std::string& bytes, const std::string& what) {
  Header h = parseHeader(bytes, what);
  int64_t count = 0;
  size_t available = bytes.size() - h.dataOffset;
  const char* data = bytes.data() + h.dataOffset;
  if (h.descr == "<f4" || h.descr == "|f4") {
    checkSize(h, 4, available, what, count);
    return Tensor::fromData(Shape(h.shape), reinterpret_cast<const float*>(data));
  }
  if (h.descr == "<f8") {
    checkSize(h, 8, available, what, count);
    Tensor t{Shape(h.shape)};
    for (int64_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, data + 8 * i, 8);
      t[i] = static_cast<float>(v);
    }
    return t;
  }
  throw Error(what + ": .npy dtype is '" + h.descr + "', expected little-endian float32 ('<f4')");
}

Tensor readNpy(const std::filesystem::path& path) {
  return parseNpy(readFile(path), "'" + path.string() + "'");
}

std::string npyBytes(const Tensor& t) {
  std::string out = headerFor("<f4", t.shape());
  out.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.numel()) * 4);
  return out;
}

void writeNpy(const std::filesystem::path& path, const Tensor& t) {
  writeFileAtomic(path, npyBytes(t));
}

void writeNpyInt32(const std::filesystem::path& path, const Shape& shape,
                   const std::vector<int32_t>& values) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    throw Error("writeNpyInt32: " + std::to_string(values.size()) + " values for shape " +
                shape.str());
  std::string out = headerFor("<i4", shape);
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  writeFileAtomic(path, out);
}

NpyInt32 readNpyInt32(const std::filesystem::path& path) {
  std::string bytes = readFile(path);
  std::string what = "'" + path.string() + "'";
  Header h = parseHeader(bytes, what);
  if (h.descr != "<i4") throw Error(what + ": .npy dtype is '" + h.descr + "', expected '<i4'");
  int64_t count = 0;
  checkSize(h, 4, bytes.size() - h.dataOffset, what, count);
  NpyInt32 out;
  out.shape = Shape(h.shape);
  out.values.resize(static_cast<size_t>(count));
  std::memcpy(out.values.data(), bytes.data() + h.dataOffset, static_cast<size_t>(count) * 4);
  return out;
}

}  // namespace zfvis
