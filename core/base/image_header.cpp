#include "core/base/image_header.h"

#include <cctype>
#include <cstdlib>
#include <optional>

namespace zfvis {

namespace {

// Bounds-checked reads: nullopt past the end of the bytes.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : m_b(b) {}
  size_t size() const { return m_b.size(); }
  bool startsWith(size_t at, std::string_view s) const {
    return at <= m_b.size() && m_b.substr(at).substr(0, s.size()) == s;
  }
  std::optional<uint64_t> be(size_t at, int n) const {
    if (at > m_b.size() || m_b.size() - at < size_t(n)) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | uint8_t(m_b[at + i]);
    return v;
  }
  std::optional<uint64_t> le(size_t at, int n) const {
    if (at > m_b.size() || m_b.size() - at < size_t(n)) return std::nullopt;
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(m_b[at + i]);
    return v;
  }
  std::optional<uint64_t> read(bool bigEndian, size_t at, int n) const {
    return bigEndian ? be(at, n) : le(at, n);
  }
  std::string_view view() const { return m_b; }

 private:
  std::string_view m_b;
};

ImageHeader sized(const char* format, std::optional<uint64_t> w, std::optional<uint64_t> h) {
  ImageHeader out{format, 0, 0};
  // Dimensions above 2^31 are not images any decoder here accepts: treat them as damage.
  if (w && h && *w > 0 && *h > 0 && *w < (uint64_t(1) << 31) && *h < (uint64_t(1) << 31)) {
    out.width = int64_t(*w);
    out.height = int64_t(*h);
  }
  return out;
}

ImageHeader png(const Bytes& b) {
  if (!b.startsWith(12, "IHDR")) return {"PNG", 0, 0};
  return sized("PNG", b.be(16, 4), b.be(20, 4));
}

ImageHeader jpeg(const Bytes& b) {
  size_t at = 2;
  while (at < b.size()) {
    if (uint8_t(b.view()[at]) != 0xFF) break;
    while (at < b.size() && uint8_t(b.view()[at]) == 0xFF) ++at;  // fill bytes
    if (at >= b.size()) break;
    const uint8_t marker = uint8_t(b.view()[at++]);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image or scan data before a frame
    const auto length = b.be(at, 2);
    if (!length || *length < 2) break;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
      return sized("JPEG", b.be(at + 5, 2), b.be(at + 3, 2));
    at += *length;
  }
  return {"JPEG", 0, 0};
}

ImageHeader bmp(const Bytes& b) {
  const auto dib = b.le(14, 4);
  if (!dib) return {"BMP", 0, 0};
  if (*dib == 12) return sized("BMP", b.le(18, 2), b.le(20, 2));  // OS/2 core header
  const auto w = b.le(18, 4), h = b.le(22, 4);
  if (!w || !h) return {"BMP", 0, 0};
  // Signed 32-bit; a negative height means top-down rows.
  const int64_t sw = int32_t(uint32_t(*w)), sh = int32_t(uint32_t(*h));
  return sized("BMP", sw > 0 ? std::optional<uint64_t>(sw) : std::nullopt,
               sh != 0 && sh != INT32_MIN ? std::optional<uint64_t>(std::llabs(sh)) : std::nullopt);
}

ImageHeader tiff(const Bytes& b) {
  const bool big = b.startsWith(0, "MM");
  const auto version = b.read(big, 2, 2);
  const bool bigTiff = version == 43u;
  auto ifd = bigTiff ? b.read(big, 8, 8) : b.read(big, 4, 4);
  if (!ifd) return {"TIFF", 0, 0};
  const size_t countSize = bigTiff ? 8 : 2, entrySize = bigTiff ? 20 : 12;
  const auto count = b.read(big, size_t(*ifd), int(countSize));
  if (!count || *count > 4096) return {"TIFF", 0, 0};
  std::optional<uint64_t> width, height;
  for (uint64_t i = 0; i < *count; ++i) {
    const size_t e = size_t(*ifd) + countSize + size_t(i) * entrySize;
    const auto tag = b.read(big, e, 2), type = b.read(big, e + 2, 2);
    if (!tag || !type) break;
    if (*tag != 256 && *tag != 257) continue;
    const size_t value = e + (bigTiff ? 12 : 8);
    std::optional<uint64_t> v;
    if (*type == 3) v = b.read(big, value, 2);              // SHORT
    if (*type == 4) v = b.read(big, value, 4);              // LONG
    if (*type == 16 && bigTiff) v = b.read(big, value, 8);  // LONG8
    (*tag == 256 ? width : height) = v;
  }
  return sized("TIFF", width, height);
}

ImageHeader webp(const Bytes& b) {
  if (b.startsWith(12, "VP8 ")) {
    if (!b.startsWith(23, "\x9d\x01\x2a")) return {"WebP", 0, 0};
    const auto w = b.le(26, 2), h = b.le(28, 2);
    if (!w || !h) return {"WebP", 0, 0};
    return sized("WebP", *w & 0x3fff, *h & 0x3fff);
  }
  if (b.startsWith(12, "VP8L")) {
    const auto bits = b.le(21, 4);
    if (!bits || b.be(20, 1) != 0x2fu) return {"WebP", 0, 0};
    return sized("WebP", (*bits & 0x3fff) + 1, ((*bits >> 14) & 0x3fff) + 1);
  }
  if (b.startsWith(12, "VP8X")) {
    const auto w = b.le(24, 3), h = b.le(27, 3);
    if (!w || !h) return {"WebP", 0, 0};
    return sized("WebP", *w + 1, *h + 1);
  }
  return {"WebP", 0, 0};
}

// The next whitespace-separated token of a PNM header, skipping '#' comments.
std::string_view pnmToken(std::string_view s, size_t& at) {
  while (at < s.size()) {
    if (s[at] == '#') {
      while (at < s.size() && s[at] != '\n' && s[at] != '\r') ++at;
    } else if (std::isspace(uint8_t(s[at]))) {
      ++at;
    } else {
      break;
    }
  }
  const size_t start = at;
  while (at < s.size() && !std::isspace(uint8_t(s[at])) && s[at] != '#') ++at;
  return s.substr(start, at - start);
}

std::optional<uint64_t> decimal(std::string_view t) {
  if (t.empty() || t.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

ImageHeader pnm(const Bytes& b) {
  const std::string_view s = b.view().substr(0, 4096);
  if (s[1] == '7') {  // PAM: "WIDTH n" and "HEIGHT n" lines up to ENDHDR
    std::optional<uint64_t> w, h;
    size_t at = 2;
    for (int i = 0; i < 64; ++i) {
      const std::string_view key = pnmToken(s, at);
      if (key.empty() || key == "ENDHDR") break;
      if (key == "WIDTH") w = decimal(pnmToken(s, at));
      if (key == "HEIGHT") h = decimal(pnmToken(s, at));
    }
    return sized("PAM", w, h);
  }
  size_t at = 2;
  const auto w = decimal(pnmToken(s, at));
  const auto h = decimal(pnmToken(s, at));
  return sized(s[1] == 'f' || s[1] == 'F' ? "PFM" : "PNM", w, h);
}

ImageHeader radiance(const Bytes& b) {
  const std::string_view s = b.view().substr(0, 65536);
  const size_t blank = s.find("\n\n");
  if (blank == std::string_view::npos) return {"HDR", 0, 0};
  // The resolution line: "-Y rows +X columns" (or another order of signs and axes).
  size_t at = blank + 2;
  std::optional<uint64_t> w, h;
  for (int i = 0; i < 2; ++i) {
    const std::string_view axis = pnmToken(s, at);
    const auto n = decimal(pnmToken(s, at));
    if (axis.size() != 2 || (axis[0] != '+' && axis[0] != '-')) return {"HDR", 0, 0};
    (axis[1] == 'X' ? w : h) = n;
  }
  return sized("HDR", w, h);
}

ImageHeader jpeg2000Codestream(const Bytes& b, size_t at) {
  // SIZ marker segment right after SOC: Xsiz, Ysiz, XOsiz, YOsiz.
  const auto xs = b.be(at + 8, 4), ys = b.be(at + 12, 4);
  const auto xo = b.be(at + 16, 4), yo = b.be(at + 20, 4);
  if (!b.startsWith(at, "\xff\x4f\xff\x51") || !xs || !ys || !xo || !yo || *xo >= *xs || *yo >= *ys)
    return {"JPEG 2000", 0, 0};
  return sized("JPEG 2000", *xs - *xo, *ys - *yo);
}

ImageHeader jp2(const Bytes& b) {
  // Boxes: length (4), type (4); length 1 = 64-bit length follows, 0 = to the end. The image
  // header box 'ihdr' (height, width) sits in the 'jp2h' superbox.
  size_t at = 0, end = b.size();
  for (int i = 0; i < 256 && at < end; ++i) {
    auto length = b.be(at, 4);
    if (!length) break;
    size_t header = 8;
    if (*length == 1) {
      length = b.be(at + 8, 8);
      header = 16;
    } else if (*length == 0) {
      length = end - at;
    }
    if (!length || *length < header || *length > end - at) break;
    if (b.startsWith(at + 4, "jp2h")) {
      end = at + size_t(*length);
      at += header;
      continue;
    }
    if (b.startsWith(at + 4, "ihdr")) return sized("JPEG 2000", b.be(at + 12, 4), b.be(at + 8, 4));
    at += size_t(*length);
  }
  return {"JPEG 2000", 0, 0};
}

}  // namespace

ImageHeader readImageHeader(std::string_view bytes) {
  const Bytes b(bytes);
  if (b.startsWith(0, "\x89PNG\r\n\x1a\n")) return png(b);
  if (b.startsWith(0, "\xff\xd8\xff")) return jpeg(b);
  if (b.startsWith(0, "BM")) return bmp(b);
  if (b.startsWith(0, std::string_view("II*\0", 4)) ||
      b.startsWith(0, std::string_view("MM\0*", 4)) ||
      b.startsWith(0, std::string_view("II+\0", 4)) ||
      b.startsWith(0, std::string_view("MM\0+", 4)))
    return tiff(b);
  if (b.startsWith(0, "RIFF") && b.startsWith(8, "WEBP")) return webp(b);
  if (b.size() >= 3 && bytes[0] == 'P' &&
      std::string_view("1234567fF").find(bytes[1]) != std::string_view::npos &&
      std::isspace(uint8_t(bytes[2])))
    return pnm(b);
  if (b.startsWith(0, "\x59\xa6\x6a\x95")) return sized("Sun raster", b.be(4, 4), b.be(8, 4));
  if (b.startsWith(0, "#?RADIANCE") || b.startsWith(0, "#?RGBE")) return radiance(b);
  if (b.startsWith(0, "\xff\x4f\xff\x51")) return jpeg2000Codestream(b, 0);
  if (b.startsWith(0, std::string_view("\0\0\0\x0cjP  \r\n\x87\n", 12))) return jp2(b);
  return {};
}

}  // namespace zfvis
