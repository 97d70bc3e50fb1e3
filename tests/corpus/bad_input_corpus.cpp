#include "tests/corpus/bad_input_corpus.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base/npy.h"
#include "tests/import/onnx/onnx_test_util.h"

namespace zfvis::test {

namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = ZFVIS_FIXTURES_DIR;
const std::string kChelsea = std::string(ZFVIS_SOURCE_DIR) + "/resources/images/chelsea.png";

std::string slurpFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spitFile(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

void putBe32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = char((v >> (24 - 8 * i)) & 0xff);
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  putBe32(s, 0, v);
  return s;
}

std::string pngChunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  return be32(uint32_t(data.size())) + body +
         be32(uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

std::string ihdr(uint32_t width, uint32_t height, char depth, char colour) {
  return be32(width) + be32(height) + depth + colour + std::string("\0\0\0", 3);
}

// A valid 8-bit grey PNG of zeros, deflated row by row: a 30000 x 30000 image takes 875 KB.
std::string zeroPng(uint32_t width, uint32_t height) {
  z_stream z{};
  deflateInit(&z, 9);
  std::vector<unsigned char> row(size_t(width) + 1, 0), buf(1 << 16);
  std::string idat;
  for (uint32_t y = 0; y < height; ++y) {
    z.next_in = row.data();
    z.avail_in = uInt(row.size());
    do {
      z.next_out = buf.data();
      z.avail_out = uInt(buf.size());
      deflate(&z, y + 1 == height ? Z_FINISH : Z_NO_FLUSH);
      idat.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return "\x89PNG\r\n\x1a\n" + pngChunk("IHDR", ihdr(width, height, 8, 0)) +
         pngChunk("IDAT", idat) + pngChunk("IEND", "");
}

// `bytes` with `flips` random bits inverted (never in the first `keep` bytes).
std::string bitFlipped(std::string bytes, uint32_t seed, int flips, size_t keep = 0) {
  std::mt19937 gen(seed);
  for (int i = 0; i < flips && bytes.size() > keep; ++i) {
    const size_t at = keep + gen() % (bytes.size() - keep);
    bytes[at] = char(bytes[at] ^ (1 << (gen() % 8)));
  }
  return bytes;
}

std::string encode(const std::string& ext, const cv::Mat& m) {
  std::vector<uchar> out;
  cv::imencode(ext, m, out);
  return std::string(out.begin(), out.end());
}

std::string npyHeader(const std::string& descr, const std::string& shape, bool fortran = false) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  dict.resize(((dict.size() + 11) / 64 + 1) * 64 - 11, ' ');
  dict += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() & 0xff) + char(dict.size() >> 8) +
         dict;
}

class Corpus {
 public:
  explicit Corpus(fs::path inputs) : m_in(std::move(inputs)) { fs::create_directories(m_in); }

  // Writes an input file; returns its path.
  std::string file(const std::string& name, const std::string& bytes) {
    spitFile(m_in / name, bytes);
    return (m_in / name).string();
  }
  std::string path(const std::string& name) const { return (m_in / name).string(); }

  void add(std::string name, std::vector<std::string> args, std::set<int> codes,
           std::vector<std::string> words = {}, std::function<void(const fs::path&)> setup = {}) {
    m_cases.push_back(
        {std::move(name), std::move(args), std::move(codes), std::move(words), std::move(setup)});
  }

  std::vector<CorpusCase> take() { return std::move(m_cases); }

 private:
  fs::path m_in;
  std::vector<CorpusCase> m_cases;
};

using Args = std::vector<std::string>;

Args predictOn(const std::string& image, Args extra = {}) {
  Args a = {"predict", "--model", "nin", "--image", image};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

void argumentCases(Corpus& c) {
  // Every command refuses an unknown option, and a flag given a value.
  for (const char* command : {"models", "summary", "layers", "predict", "activations", "filters",
                              "compare", "deconv", "occlusion", "export", "bench", "fetch"})
    c.add(std::string("args/unknown-option-") + command, {command, "--frobnicate"}, {2},
          {"unknown option --frobnicate"});
  c.add("args/unknown-command", {"fly"}, {2}, {"unknown command 'fly'"});
  c.add("args/none", {}, {2});
  c.add("args/flag-with-value", {"layers", "--model", "nin", "--json=1"}, {2},
        {"--json takes no value"});
  c.add("args/positional", {"layers", "nin"}, {2}, {"unexpected argument 'nin'"});
  c.add("args/missing-value-last", predictOn(kChelsea, {"--top"}), {2}, {"--top needs a value"});
  c.add("args/missing-required-image", {"predict", "--model", "nin"}, {2}, {"--image"});
  c.add("args/missing-required-layer", {"activations", "--model", "nin", "--image", kChelsea}, {2},
        {"--layer"});
  c.add("args/given-twice", predictOn(kChelsea, {"--top", "1", "--top", "2"}), {2},
        {"--top given twice"});
  // Numbers: whole string, in range, no wrap-around (4294967297 used to become 1).
  const Args deconv = {"deconv", "--model", "nin", "--image", kChelsea, "--layer", "conv1"};
  auto with = [](Args a, Args extra) {
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  for (const char* v : {"4294967297,2", "2,4294967297", "-1,2", "1,2,3", "1", "a,b", ",", "1,,2",
                        "", " 1,2", "+1,2", "1.5,2"})
    c.add(std::string("args/position-'") + v + "'", with(deconv, {"--position", v}), {2},
          {"--position expects"});
  for (const char* v : {"4294967297", "-1", "0", "", " 5", "+5", "0x10", "5.0", "5x", "1e3",
                        "99999999999999999999"})
    c.add(std::string("args/top-'") + v + "'", predictOn(kChelsea, {"--top", v}), {2},
          {"--top expects an integer from 1 to 100000"});
  const std::vector<std::pair<Args, std::string>> numbers = {
      {predictOn(kChelsea, {"--threads", "99999999999999999999"}), "--threads expects"},
      {predictOn(kChelsea, {"--threads", "0"}), "--threads expects"},
      {predictOn(kChelsea, {"--max-pixels", "0"}), "--max-pixels expects"},
      {predictOn(kChelsea, {"--max-pixels", "-5"}), "--max-pixels expects"},
      {predictOn(kChelsea, {"--max-pixels", "99999999999999999999"}), "--max-pixels expects"},
      {with(deconv, {"--channel", "-5"}), "--channel expects"},
      {with(deconv, {"--channel", "2147483648"}), "--channel expects"},
      {with(deconv, {"--top", "0"}), "--top expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--patch", "2147483648"},
       "--patch expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--stride", "0"}, "--stride expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--class", "-1"}, "--class expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--batch", "-3"}, "--batch expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--fill", "nan"}, "--fill expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--fill", "inf"}, "--fill expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--fill", "1e39"}, "--fill expects"},
      {{"occlusion", "--model", "nin", "--image", kChelsea, "--fill", "1,5"}, "--fill expects"},
      {{"filters", "--model", "nin", "--layer", "conv1", "--columns", "0"}, "--columns expects"},
      {{"filters", "--model", "nin", "--layer", "conv1", "--scale", "65"}, "--scale expects"},
      {{"compare", "--model", "nin", "--model", "nin", "--scale", "-1"}, "--scale expects"},
      {{"bench", "--model", "nin", "--iters", "0"}, "--iters expects"},
      {{"bench", "--model", "nin", "--batch", "4294967297"}, "--batch expects"},
      {{"export", "--model", "nin", "--image", kChelsea, "--out", "{dir}/r", "--top", "-1"},
       "--top expects"},
      {{"fetch", "bvlc-alexnet", "--timeout", "-1"}, "--timeout expects"},
      {{"fetch", "bvlc-alexnet", "--min-rate", "fast"}, "--min-rate expects"},
      {{"fetch", "--list", "--rate-window", "0"}, "--rate-window expects"},
  };
  for (size_t i = 0; i < numbers.size(); ++i)
    c.add("args/number-" + std::to_string(i) + "-" + numbers[i].first[0], numbers[i].first, {2},
          {numbers[i].second});
  // Names that are not one of the choices.
  const std::vector<Args> choices = {
      with(deconv, {"--mode", "sideways"}),
      with(deconv, {"--lrn", "maybe"}),
      predictOn(kChelsea, {"--preprocess", "vgg"}),
      {"activations", "--model", "nin", "--image", kChelsea, "--layer", "conv1", "--normalize",
       "max"},
      {"activations", "--model", "nin", "--image", kChelsea, "--layer", "conv1", "--colormap",
       "rainbow"},
      {"filters", "--model", "nin", "--layer", "conv1", "--order", "rbg"},
      {"export", "--model", "nin", "--image", kChelsea, "--out", "{dir}/r", "--projections",
       "some"},
  };
  for (size_t i = 0; i < choices.size(); ++i)
    c.add("args/choice-" + std::to_string(i) + "-" + choices[i][0], choices[i], {2});
  // Options that cannot go together.
  c.add("args/top-with-channel", with(deconv, {"--top", "3", "--channel", "1"}), {2}, {"--top"});
  c.add("args/filters-mean-and-rgb",
        {"filters", "--model", "nin", "--layer", "conv1", "--mean", "--rgb"}, {2},
        {"at most one of"});
  c.add("args/occlusion-channel-without-layer",
        {"occlusion", "--model", "nin", "--image", kChelsea, "--channel", "3"}, {2},
        {"--channel needs --layer"});
  c.add("args/compare-one-model", {"compare", "--model", "nin"}, {2}, {"give two"});
  c.add("args/fetch-list-and-id", {"fetch", "bvlc-alexnet", "--list"}, {2});
  // Valid syntax, impossible for this model: a runtime failure naming the range (exit 1).
  c.add("range/deconv-channel", with(deconv, {"--channel", "500"}), {1},
        {"layer 'conv1' has 96 channels (0..95); --channel 500 is out of range"});
  c.add("range/deconv-position", with(deconv, {"--position", "60,0"}), {1},
        {"--position 60 is out of range"});
  c.add("range/occlusion-class",
        {"occlusion", "--model", "nin", "--image", kChelsea, "--class", "1000"}, {1},
        {"model 'nin' has 256 classes (0..255); --class 1000 is out of range"});
  c.add("range/occlusion-patch",
        {"occlusion", "--model", "nin", "--image", kChelsea, "--patch", "300"}, {1},
        {"--patch 300 is out of range"});
  c.add(
      "range/occlusion-channel",
      {"occlusion", "--model", "nin", "--image", kChelsea, "--layer", "relu5", "--channel", "999"},
      {1}, {"layer 'relu5' has 256 channels (0..255); --channel 999 is out of range"});
  c.add("range/filters-channel",
        {"filters", "--model", "nin", "--layer", "conv1", "--channel", "3"}, {1},
        {"layer 'conv1' has 3 input channels (0..2); --channel 3 is out of range"});
  c.add("range/filters-rgb", {"filters", "--model", "nin", "--layer", "conv2", "--rgb"}, {1},
        {"--rgb needs 3 input channels"});
  c.add("range/layer-index",
        {"activations", "--model", "nin", "--image", kChelsea, "--layer", "99"}, {1},
        {"layer index 99 is out of range"});
  c.add("range/layer-name",
        {"activations", "--model", "nin", "--image", kChelsea, "--layer", "conv9"}, {1},
        {"no layer named 'conv9'"});
  c.add("range/filters-not-conv", {"filters", "--model", "nin", "--layer", "relu1"}, {1},
        {"relu1"});
  c.add("range/unknown-builtin", {"layers", "--model", "vgg19"}, {1}, {"vgg19"});
  c.add("range/unknown-zoo-id", {"fetch", "nope"}, {1}, {"unknown zoo model 'nope'"});
  c.add("range/zoo-model-not-fetched", {"layers", "--model", "zoo:nope"}, {1}, {"nope"});
}

void imageCases(Corpus& c) {
  // Tiny files, huge images: a valid strip (only its crop is resampled now) and a valid 30000 x
  // 30000 PNG (refused from its header before decoding).
  c.add("image/png-1x20000-strip", predictOn(c.file("strip-1x20000.png", zeroPng(1, 20000))), {0});
  c.add("image/png-100000x1-strip", predictOn(c.file("strip-100000x1.png", zeroPng(100000, 1))),
        {0});
  c.add("image/png-30000x30000-grey", predictOn(c.file("grey-30000.png", zeroPng(30000, 30000))),
        {1}, {"30000 x 30000 = 900000000 pixels is more than the limit of 128000000"});
  c.add("image/max-pixels-below-the-image", predictOn(kChelsea, {"--max-pixels", "1000"}), {1},
        {"451 x 300 = 135300 pixels is more than the limit of 1000"});
  // Headers that lie or are damaged; libpng used to print its own 3-4 lines for these.
  const std::string ok = encode(".png", cv::Mat(4, 6, CV_8UC3, cv::Scalar(10, 20, 30)));
  const std::string sig = "\x89PNG\r\n\x1a\n";
  const std::string rest = ok.substr(33);  // after the IHDR chunk
  const std::vector<std::tuple<std::string, std::string, std::string>> headers = {
      {"png-width-zero", sig + pngChunk("IHDR", ihdr(0, 5, 8, 2)) + rest, "header is damaged"},
      {"png-width-2^31", sig + pngChunk("IHDR", ihdr(0x80000000u, 5, 8, 2)) + rest,
       "header is damaged"},
      {"png-2^31-1-wide", sig + pngChunk("IHDR", ihdr(0x7fffffffu, 300, 7, 2)) + rest,
       "is more than the limit"},
      {"png-bit-depth-7", sig + pngChunk("IHDR", ihdr(6, 4, 7, 2)) + rest,
       "libpng error: Invalid IHDR data"},
      {"png-colour-type-9", sig + pngChunk("IHDR", ihdr(6, 4, 8, 9)) + rest,
       "libpng error: Invalid IHDR data"},
      {"png-ihdr-crc", ok.substr(0, 30) + char(ok[30] ^ 0x40) + ok.substr(31),
       "libpng error: IHDR: CRC error"},
      {"png-no-ihdr", sig + pngChunk("IEND", ""), "header is damaged"},
      {"png-signature-only", sig, "header is damaged"},
      {"png-idat-garbage",
       sig + pngChunk("IHDR", ihdr(6, 4, 8, 2)) + pngChunk("IDAT", std::string(40, '\x55')) +
           pngChunk("IEND", ""),
       "the PNG data is damaged"},
  };
  for (const auto& [name, bytes, words] : headers)
    c.add("image/" + name, predictOn(c.file(name + ".png", bytes)), {1}, {words});
  // Truncated and cut files.
  const std::string png = slurpFile(kChelsea);
  for (size_t keep : {size_t(8), size_t(16), size_t(33), size_t(100), png.size() / 2,
                      png.size() - 20, png.size() - 1})
    c.add("image/png-cut-at-" + std::to_string(keep),
          predictOn(c.file("cut-" + std::to_string(keep) + ".png", png.substr(0, keep))), {1});
  cv::Mat photo = cv::imread(kChelsea);
  cv::resize(photo, photo, cv::Size(96, 64), 0, 0, cv::INTER_AREA);
  // Every format the header reader knows, cut in half, bit-flipped, and declaring huge sizes.
  for (const char* ext : {".png", ".jpg", ".bmp", ".tif", ".webp", ".ppm", ".ras", ".jp2"}) {
    const std::string bytes = encode(ext, photo);
    const std::string stem = std::string("photo") + ext;
    c.add("image/" + stem + "-valid", predictOn(c.file(stem, bytes)), {0});
    c.add("image/" + stem + "-half",
          predictOn(c.file("half-" + stem, bytes.substr(0, bytes.size() / 2))), {1});
    for (uint32_t seed = 1; seed <= 12; ++seed) {
      const std::string name = "flip" + std::to_string(seed) + "-" + stem;
      c.add("image/" + name, predictOn(c.file(name, bitFlipped(bytes, seed, 1 + seed % 4))),
            {0, 1});
    }
  }
  std::string jpeg = encode(".jpg", photo);
  const size_t sof = jpeg.find("\xff\xc0");
  jpeg[sof + 5] = jpeg[sof + 6] = jpeg[sof + 7] = jpeg[sof + 8] = '\xff';  // 65535 x 65535
  c.add("image/jpeg-65535-square", predictOn(c.file("huge.jpg", jpeg)), {1},
        {"65535 x 65535 = 4294836225 pixels is more than the limit"});
  std::string bmp = encode(".bmp", photo);
  bmp[18] = bmp[19] = bmp[20] = '\xff';
  bmp[21] = '\x7f';  // width 2^31 - 1
  c.add("image/bmp-2^31-wide", predictOn(c.file("wide.bmp", bmp)), {1}, {"is more than the limit"});
  bmp[22] = bmp[23] = bmp[24] = '\0';
  bmp[25] = '\x80';  // height INT32_MIN
  c.add("image/bmp-int32-min-height", predictOn(c.file("minheight.bmp", bmp)), {1},
        {"header is damaged"});
  c.add("image/pnm-huge-declared", predictOn(c.file("huge.ppm", "P6 100000 100000 255\n\x01\x02")),
        {1}, {"is more than the limit"});
  c.add("image/pnm-short-data", predictOn(c.file("short.pgm", "P5 30 30 255\n\x01\x02")), {1});
  c.add("image/pfm-huge-declared", predictOn(c.file("huge.pfm", "PF\n60000 60000\n-1.0\n")), {1},
        {"is more than the limit"});
  c.add("image/hdr-huge-declared",
        predictOn(c.file("huge.hdr", "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 70000 +X 70000\n")),
        {1}, {"is more than the limit"});
  std::string ras = encode(".ras", photo);
  putBe32(ras, 4, 200000);
  putBe32(ras, 8, 200000);
  c.add("image/sun-raster-huge-declared", predictOn(c.file("huge.ras", ras)), {1},
        {"is more than the limit"});
  std::string tif = encode(".tif", photo);
  c.add("image/tiff-no-ifd", predictOn(c.file("noifd.tif", tif.substr(0, 8))), {1},
        {"header is damaged"});
  // Not images at all.
  c.add("image/empty", predictOn(c.file("empty.png", "")), {1}, {"empty"});
  c.add("image/text", predictOn(c.file("text.png", "hello, I am not a picture\n")), {1},
        {"not an image zfvis reads"});
  c.add("image/gif", predictOn(c.file("anim.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;")), {1},
        {"not an image zfvis reads"});
  c.add("image/openexr-magic", predictOn(c.file("x.exr", std::string("\x76\x2f\x31\x01", 4))), {1},
        {"not an image zfvis reads"});
  std::string noise(4096, '\0');
  std::mt19937 gen(5);
  for (char& ch : noise) ch = char(gen());
  c.add("image/random-bytes", predictOn(c.file("noise.jpg", noise)), {1});
  c.add("image/missing", predictOn(c.path("missing.png")), {1}, {"no such file"});
  c.add("image/directory", predictOn(c.path("")), {1}, {"not a regular file"});
  c.add("image/dev-null", predictOn("/dev/null"), {1}, {"not a regular file"});
  ::mkfifo(c.path("fifo.png").c_str(), 0644);
  c.add("image/fifo", predictOn(c.path("fifo.png")), {1}, {"not a regular file"});
}

void npyCases(Corpus& c) {
  const std::string zeros(3 * 67 * 67 * 4, '\0');
  struct Npy {
    std::string name, bytes, words;
  };
  const std::vector<Npy> files = {
      {"negative-dim", npyHeader("<f4", "(3, -67, 67)") + zeros, "non-negative whole numbers"},
      {"negative-first-dim", npyHeader("<f4", "(-3, 67, 67)") + zeros, "non-negative"},
      {"fraction-dim", npyHeader("<f4", "(3, 6.5, 67)") + zeros, "non-negative"},
      {"huge-dims", npyHeader("<f4", "(3, 100000, 100000)") + zeros, ".npy"},
      {"overflowing-dims", npyHeader("<f4", "(4294967296, 4294967296, 4294967296)"), ".npy"},
      {"twenty-digit-dim", npyHeader("<f4", "(99999999999999999999,)"), ".npy"},
      {"truncated-data", npyHeader("<f4", "(3, 227, 227)") + zeros, "truncated"},
      {"truncated-header", npyHeader("<f4", "(3, 227, 227)").substr(0, 40), "truncated"},
      {"int32", npyHeader("<i4", "(3, 67, 67)") + zeros, "'<i4'"},
      {"big-endian", npyHeader(">f4", "(3, 67, 67)") + zeros, "'>f4'"},
      {"fortran", npyHeader("<f4", "(3, 67, 67)", true) + zeros, "Fortran"},
      {"no-shape", std::string("\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', }            \n", 42),
       "no 'shape'"},
      {"bad-magic", "\x93NUMPX\x01\x00" + npyHeader("<f4", "(3,)").substr(8), "magic"},
      {"version-9", "\x93NUMPY\x09\x00" + npyHeader("<f4", "(3,)").substr(8), "version"},
      {"header-length-past-end", std::string("\x93NUMPY\x01\x00\xff\xff{", 11), "truncated"},
      {"wrong-shape", npyHeader("<f4", "(3, 10, 10)") + zeros, "expected 3 x 227 x 227"},
  };
  for (const Npy& f : files)
    c.add("npy/" + f.name, predictOn(c.file(f.name + ".npy", f.bytes)), {1}, {f.words});
  const std::string good = npyBytes(Tensor(Shape{3, 227, 227}, 0.25f));
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    const std::string name = "flip" + std::to_string(seed) + ".npy";
    c.add("npy/" + name,
          predictOn(c.file(name, bitFlipped(good, seed, 1, 0).substr(0, 200) + good.substr(200))),
          {0, 1});
  }
  // .npy filter banks for filters and compare.
  c.add("npy/filter-bank-negative-dim",
        {"filters", "--model", c.file("bank-neg.npy", npyHeader("<f4", "(4, 3, -5, 5)") + zeros),
         "--png", "{dir}/b.png"},
        {1}, {"non-negative"});
  c.add("npy/filter-bank-rank-2",
        {"filters", "--model", c.file("bank-2d.npy", npyBytes(Tensor(Shape{4, 3}, 1.0f))), "--png",
         "{dir}/b.png"},
        {1});
  c.add("npy/compare-truncated",
        {"compare", "--model", c.file("bank-cut.npy", npyHeader("<f4", "(4, 3, 5, 5)")), "--model",
         "nin", "--png", "{dir}/c.png"},
        {1}, {"truncated"});
}

void onnxCases(Corpus& c) {
  const std::string input = (kFixtures / "onnx" / "input_3x67x67.npy").string();
  auto bad = [&c, &input](const std::string& name, const std::string& bytes,
                          const std::string& words) {
    const std::string file = c.file(name + ".onnx", bytes);
    c.add("onnx/" + name + "-layers", {"layers", "--model", file}, {1}, {words});
    c.add("onnx/" + name + "-predict", {"predict", "--model", file, "--image", input}, {1},
          {words});
  };
  const std::string zoo = slurpFile(kFixtures / "onnx" / "alexnet_zoo.onnx");
  bad("truncated", zoo.substr(0, zoo.size() / 2), "not a valid ONNX model");
  bad("cut-to-10-bytes", zoo.substr(0, 10), ".onnx");
  bad("empty", "", ".onnx");
  bad("text", "ir_version: 7\ngraph { }\n", ".onnx");
  std::string noise(4096, '\0');
  std::mt19937 gen(7);
  for (char& ch : noise) ch = char(gen());
  bad("random-bytes", noise, "not a valid ONNX model");

  auto conv = [](const onnx::TensorProto& w) {
    OnnxModelBuilder b(13);
    b.input("x", {1, 2, 4, 4}).output("y");
    *b.model().mutable_graph()->add_initializer() = w;
    b.node("Conv", {"x", "W"}, {"y"}, "conv");
    return b;
  };
  const onnx::TensorProto good = toTensorProto(randomTensor(Shape{3, 2, 3, 3}, 1), "W");
  onnx::TensorProto t = good;
  t.clear_dims();
  for (int64_t d : {1000000, 1000000, 1000000}) t.add_dims(d);
  bad("absurd-weight-dims", conv(t).bytes(), "more than zfvis accepts");
  t = good;
  t.set_dims(0, -3);
  bad("negative-weight-dim", conv(t).bytes(), "negative dimension");
  t = good;
  t.clear_dims();
  t.add_dims(60000);
  t.add_dims(60000);
  bad("weights-larger-than-file", conv(t).bytes(), "more than the whole file");
  t = good;
  t.set_raw_data(t.raw_data().substr(0, 100));
  bad("raw-data-short", conv(t).bytes(), "holds 100 bytes");
  t = good;
  t.clear_raw_data();
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = t.add_external_data();
  loc->set_key("location");
  loc->set_value("/etc/passwd");
  bad("external-data", conv(t).bytes(), "external file");
  {
    OnnxModelBuilder b = conv(good);
    setAttr(*b.model().mutable_graph()->mutable_node(0), "pads",
            std::vector<int64_t>{0, 0, 1000000000, 0});
    bad("absurd-padding", b.bytes(), "'pads' value 1000000000 is out of range");
  }
  {
    OnnxModelBuilder b = conv(good);
    setAttr(*b.model().mutable_graph()->mutable_node(0), "strides", std::vector<int64_t>{0, 1});
    bad("zero-stride", b.bytes(), "'strides' value 0 is out of range");
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 3, 100000, 100000}).output("y");
    b.node("Relu", {"x"}, {"y"});
    bad("absurd-input", b.bytes(), "larger than zfvis accepts");
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y");
    b.node("Add", {"x", "y"}, {"s"}, "add");
    b.node("Relu", {"s"}, {"y"}, "relu");
    bad("cycle", b.bytes(), "cycle");
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4}).output("y").initializerInts("shape", {0, 4294967296, 4294967296});
    b.node("Reshape", {"x", "shape"}, {"y"}, "r");
    bad("absurd-reshape", b.bytes(), "larger than input");
  }
  {
    OnnxModelBuilder b(13);
    b.input("x", {1, 3, 8, 8}).output("y");
    b.node("Gelu", {"x"}, {"y"}, "g");
    bad("unsupported-op", b.bytes(), "Gelu");
  }
  {
    OnnxModelBuilder b(99);
    b.input("x", {1, 4}).output("y");
    b.node("Relu", {"x"}, {"y"});
    bad("opset-99", b.bytes(), "opset");
  }
  // Bit flips anywhere in real models: loaded and run, or refused on one line.
  for (const char* fixture : {"nin_torch.onnx", "alexnet_zoo.onnx"}) {
    const std::string bytes = slurpFile(kFixtures / "onnx" / fixture);
    for (uint32_t seed = 1; seed <= 15; ++seed) {
      const std::string name = "flip" + std::to_string(seed) + "-" + fixture;
      const std::string file = c.file(name, bitFlipped(bytes, seed * 31, 1 + seed % 5));
      c.add("onnx/" + name, {"predict", "--model", file, "--image", input}, {0, 1});
    }
  }
}

void kerasCases(Corpus& c) {
  auto bad = [&c](const std::string& name, const std::string& bytes, std::set<int> codes,
                  std::vector<std::string> words = {}) {
    c.add("keras/" + name, {"layers", "--model", c.file(name + ".h5", bytes)}, codes, words);
  };
  const std::string model = slurpFile(kFixtures / "keras" / "keras_nin.h5");
  bad("truncated", model.substr(0, model.size() / 2), {1}, {".h5"});
  bad("cut-to-600", model.substr(0, 600), {1}, {".h5"});
  bad("empty", "", {1}, {".h5"});
  bad("text", "not hdf5 at all\n", {1}, {".h5"});
  bad("absurd-dims", slurpFile(kFixtures / "keras" / "keras_absurd_dims.h5"), {1});
  bad("unsupported-layer", slurpFile(kFixtures / "keras" / "keras_unsupported_layer.h5"), {1});
  for (const char* fixture : {"keras_nin.h5", "keras_cf.h5"}) {
    const std::string bytes = slurpFile(kFixtures / "keras" / fixture);
    for (uint32_t seed = 1; seed <= 15; ++seed)
      bad("flip" + std::to_string(seed) + "-" + fixture, bitFlipped(bytes, seed * 17, 1 + seed % 4),
          {0, 1});
  }
  const std::string weights = slurpFile(kFixtures / "keras" / "keras_nin_weights.h5");
  c.add("keras/weights-truncated",
        {"layers", "--model", "nin", "--weights",
         c.file("w-cut.h5", weights.substr(0, weights.size() / 3))},
        {1}, {".h5"});
  c.add("keras/weights-for-another-model",
        {"layers", "--model", "caffe-alexnet", "--weights",
         (kFixtures / "keras" / "keras_nin_weights.h5").string()},
        {1});
}

// The case's folder holds a user's files that the run must leave alone.
void userFolder(const fs::path& dir) {
  fs::create_directories(dir / "mine" / "photos");
  spitFile(dir / "mine" / "thesis.tex", "\\documentclass{article}\n");
  spitFile(dir / "mine" / "photos" / "cat.jpg", "meow");
}

void outputCases(Corpus& c) {
  const Args act = {"activations", "--model", "nin", "--image", kChelsea, "--layer", "conv1"};
  auto with = [&act](Args extra) {
    Args a = act;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto mkdir = [](const char* name) {
    return [name](const fs::path& dir) { fs::create_directories(dir / name); };
  };
  auto mkfile = [](const char* name) {
    return [name](const fs::path& dir) { spitFile(dir / name, "x"); };
  };
  c.add("output/png-missing-folder", with({"--png", "{dir}/no/such/dir/a.png"}), {1},
        {"no/such/dir/a.png"});
  c.add("output/npy-missing-folder", with({"--npy", "{dir}/no/a.npy"}), {1}, {"no/a.npy"});
  c.add("output/png-is-a-directory", with({"--png", "{dir}/taken"}), {1}, {"taken"},
        mkdir("taken"));
  c.add("output/npy-is-a-directory", with({"--npy", "{dir}/taken"}), {1}, {"taken"},
        mkdir("taken"));
  c.add("output/png-under-a-file", with({"--png", "{dir}/file/a.png"}), {1}, {"file/a.png"},
        mkfile("file"));
  c.add("output/png-in-proc", with({"--png", "/proc/zfvis-corpus.png"}), {1},
        {"/proc/zfvis-corpus.png"});
  c.add("output/predict-npy-is-a-directory", predictOn(kChelsea, {"--npy", "{dir}/taken"}), {1},
        {"taken"}, mkdir("taken"));
  c.add("output/filters-png-is-a-directory",
        {"filters", "--model", "nin", "--layer", "conv1", "--png", "{dir}/taken"}, {1}, {"taken"},
        mkdir("taken"));
  c.add("output/compare-json-is-a-directory",
        {"compare", "--model", "nin", "--model", "caffe-alexnet", "--json", "{dir}/taken"}, {1},
        {"taken"}, mkdir("taken"));
  c.add("output/deconv-png-missing-folder",
        {"deconv", "--model", "nin", "--image", kChelsea, "--layer", "conv1", "--png",
         "{dir}/no/p.png"},
        {1}, {"no/p.png"});
  c.add("output/occlusion-npy-missing-folder",
        {"occlusion", "--model", "nin", "--image", kChelsea, "--patch", "100", "--stride", "100",
         "--npy", "{dir}/no/o.npy"},
        {1}, {"no/o.npy"});
  if (::geteuid() != 0) {  // root writes into read-only folders anyway
    c.add("output/png-unwritable-folder", with({"--png", "{dir}/ro/a.png"}), {1}, {"ro/a.png"},
          [](const fs::path& dir) {
            fs::create_directories(dir / "ro");
            fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
          });
  }
  // Export: --force used to delete whatever folder --out named.
  const Args exp = {"export", "--model", "nin", "--image", kChelsea, "--projections", "none"};
  auto exportTo = [&exp](const std::string& out, bool force) {
    Args a = exp;
    a.insert(a.end(), {"--out", out});
    if (force) a.push_back("--force");
    return a;
  };
  c.add("export/force-on-a-user-folder", exportTo("{dir}/mine", true), {1},
        {"is not a zfvis report", "not replacing it"}, userFolder);
  c.add("export/user-folder-without-force", exportTo("{dir}/mine", false), {1}, {"already exists"},
        userFolder);
  c.add("export/force-on-a-fake-manifest", exportTo("{dir}/mine", true), {1},
        {"is not a zfvis report"}, [](const fs::path& dir) {
          userFolder(dir);
          spitFile(dir / "mine" / "manifest.json", R"({"generator": "other", "files": []})");
        });
  c.add("export/force-on-a-report-with-user-files", exportTo("{dir}/mine", true), {1},
        {"holds 'thesis.tex', which is not part of its zfvis report"}, [](const fs::path& dir) {
          userFolder(dir);
          spitFile(dir / "mine" / "manifest.json",
                   R"({"generator": "zfvis 0.1.0", "files": [{"path": "manifest.json"}]})");
        });
  c.add("export/out-is-a-file", exportTo("{dir}/file", true), {1}, {"not a folder"},
        mkfile("file"));
  c.add("export/out-missing-parent", exportTo("{dir}/no/such/report", false), {1},
        {"does not exist"});
  c.add("export/out-dot", exportTo(".", true), {1}, {"expected a new folder name"});
}

// zfvis-cli train: its numbers, its dataset specs and damaged dataset files (IDX, CIFAR-10, image
// folders), and --resume of folders that hold no run. Every case fails before the first step.
void trainingCases(Corpus& c) {
  const Args train = {"train", "--model", "zf-small", "--epochs", "1", "--out", "{dir}/run"};
  auto with = [](Args a, Args extra) {
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto withData = [&](const std::string& data) { return with(train, {"--data", data}); };
  const Args fashion = with(train, {"--data", "fashion-mnist"});
  c.add("train/unknown-option", {"train", "--frobnicate"}, {2}, {"unknown option --frobnicate"});
  c.add("train/no-out",
        {"train", "--model", "zf-small", "--data", "fashion-mnist", "--epochs", "1"}, {2},
        {"--out"});
  const std::vector<std::pair<Args, std::string>> numbers = {
      {with(fashion, {"--lr", "nan"}), "--lr expects"},
      {with(fashion, {"--lr", "0"}), "--lr must be positive"},
      {with(fashion, {"--momentum", "1"}), "--momentum must be in [0, 1)"},
      {with(fashion, {"--dropout", "1.5"}), "--dropout expects"},
      {with(fashion, {"--lr-decay", "0"}), "--lr-decay must be in (0, 1]"},
      {with(fashion, {"--batch", "0"}), "--batch expects"},
      {with(fashion, {"--checkpoints", "4294967297"}), "--checkpoints expects"},
      {{"train", "--model", "zf-small", "--data", "fashion-mnist", "--epochs", "0", "--out",
        "{dir}/run"},
       "--epochs expects"},
  };
  for (size_t i = 0; i < numbers.size(); ++i)
    c.add("train/number-" + std::to_string(i), numbers[i].first, {2}, {numbers[i].second});
  c.add("train/unknown-dataset", withData("imagenet"), {2}, {"unknown dataset 'imagenet'"});
  c.add("train/model-twice", with(withData("fashion-mnist"), {"--model", "vgg"}), {2},
        {"--model given twice"});
  c.add(
      "train/unknown-model",
      {"train", "--model", "vgg", "--data", "fashion-mnist", "--epochs", "1", "--out", "{dir}/run"},
      {1}, {"unknown model 'vgg'"});
  c.add("train/cifar-missing", withData("cifar10:{dir}/none"), {1}, {"no such folder"});
  c.add("train/fashion-missing", withData("fashion-mnist:{dir}/none"), {1},
        {"no Fashion-MNIST file"});
  // IDX files: a header promising 2^31 images over no data, and a wrong magic number.
  std::string idx(16, '\0');
  putBe32(idx, 0, 0x803);
  putBe32(idx, 4, 0x80000000u);
  putBe32(idx, 8, 28);
  putBe32(idx, 12, 28);
  auto fashionDir = [](std::string images) {
    return [images](const fs::path& dir) {
      fs::create_directories(dir / "fm");
      spitFile(dir / "fm" / "train-images-idx3-ubyte", images);
      std::string labels(8, '\0');
      labels[3] = 0x01;
      labels[2] = 0x08;
      spitFile(dir / "fm" / "train-labels-idx1-ubyte", labels);
    };
  };
  c.add("train/idx-huge-count", withData("fashion-mnist:{dir}/fm"), {1}, {"train-images-idx3"},
        fashionDir(idx));
  c.add("train/idx-bad-magic", withData("fashion-mnist:{dir}/fm"), {1}, {"not an IDX file"},
        fashionDir(std::string(16, '\x7f')));
  // CIFAR-10: a batch that is not a whole number of 3073-byte records, and an empty one.
  auto cifarDir = [](std::string batch) {
    return [batch](const fs::path& dir) {
      fs::create_directories(dir / "cf");
      spitFile(dir / "cf" / "data_batch_1.bin", batch);
      spitFile(dir / "cf" / "test_batch.bin", std::string(3073, '\0'));
    };
  };
  c.add("train/cifar-truncated", withData("cifar10:{dir}/cf"), {1}, {"truncated"},
        cifarDir(std::string(3073 + 100, '\0')));
  c.add("train/cifar-empty", withData("cifar10:{dir}/cf"), {1}, {"empty"}, cifarDir(""));
  // Class folders: one class only, and classes holding files that are not images.
  c.add("train/folder-one-class", withData("folder:{dir}/imgs"), {1}, {"two class"},
        [](const fs::path& dir) { fs::create_directories(dir / "imgs" / "cats"); });
  c.add("train/folder-not-images", withData("folder:{dir}/imgs"), {1}, {"imgs"},
        [](const fs::path& dir) {
          for (const char* k : {"cats", "dogs"}) {
            fs::create_directories(dir / "imgs" / k);
            spitFile(dir / "imgs" / k / "a.png", "not a png");
          }
        });
  c.add("train/resume-nothing", {"train", "--resume", "{dir}"}, {1}, {"no interrupted training"});
  c.add("train/resume-with-settings", {"train", "--resume", "{dir}", "--lr", "0.1"}, {2},
        {"only --threads"});
}

// zfvis-cli evolution: checkpoints, layers, units, image sets and the picture's path.
void evolutionCases(Corpus& c) {
  auto evo = [](Args extra) {
    Args a = {"evolution", "--checkpoints", "zf-small",  "--layer",
              "conv2",     "--images",      "{dir}/imgs"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto images = [](const fs::path& dir) {
    fs::create_directories(dir / "imgs");
    fs::copy_file(kChelsea, dir / "imgs" / "chelsea.png");
  };
  c.add("evolution/unknown-option", evo({"--frobnicate"}), {2}, {"unknown option --frobnicate"},
        images);
  c.add("evolution/no-checkpoints", {"evolution", "--layer", "conv2", "--images", "{dir}"}, {2},
        {"--checkpoints"});
  c.add("evolution/no-layer", {"evolution", "--checkpoints", "zf-small", "--images", "{dir}"}, {2},
        {"--layer"});
  c.add("evolution/units-backwards", evo({"--units", "5-2"}), {2}, {"A <= B"}, images);
  c.add("evolution/units-garbage", evo({"--units", "1-x"}), {2}, {"--units expects"}, images);
  c.add("evolution/units-wrap", evo({"--units", "4294967297"}), {2}, {"--units expects"}, images);
  c.add("evolution/units-too-many", evo({"--units", "0-100000"}), {2}, {"more than 4096"}, images);
  c.add("evolution/unit-out-of-range", evo({"--units", "999"}), {1}, {"conv2"}, images);
  c.add("evolution/unknown-layer",
        {"evolution", "--checkpoints", "zf-small", "--layer", "conv9", "--images", "{dir}/imgs"},
        {1}, {"conv9"}, images);
  c.add("evolution/unknown-mode", evo({"--mode", "sideways"}), {2}, {"sideways"}, images);
  c.add("evolution/batch-zero", evo({"--batch", "0"}), {2}, {"--batch expects"}, images);
  c.add("evolution/missing-run",
        {"evolution", "--checkpoints", "{dir}/none", "--layer", "conv2", "--images", "{dir}/imgs"},
        {1}, {"none"}, images);
  c.add("evolution/empty-run",
        {"evolution", "--checkpoints", "{dir}/run", "--layer", "conv2", "--images", "{dir}/imgs"},
        {1}, {"run"}, [images](const fs::path& dir) {
          images(dir);
          fs::create_directories(dir / "run");
        });
  c.add("evolution/mixed-architectures",
        {"evolution", "--checkpoints", "zf-small", "--checkpoints", "alex-small", "--layer",
         "conv2", "--images", "{dir}/imgs"},
        {1}, {"like the first checkpoint"}, images);
  c.add("evolution/checkpoint-not-onnx",
        {"evolution", "--checkpoints", "{dir}/model.onnx", "--layer", "conv2", "--images",
         "{dir}/imgs"},
        {1}, {"model.onnx"}, [images](const fs::path& dir) {
          images(dir);
          spitFile(dir / "model.onnx", "not protobuf at all");
        });
  c.add("evolution/no-images", evo({}), {1}, {"holds no image"},
        [](const fs::path& dir) { fs::create_directories(dir / "imgs"); });
  c.add("evolution/images-missing", evo({}), {1}, {"does not exist"});
  c.add("evolution/image-not-an-image", evo({}), {1}, {"bad.png"}, [](const fs::path& dir) {
    fs::create_directories(dir / "imgs");
    spitFile(dir / "imgs" / "bad.png", "not a png");
  });
  c.add("evolution/png-missing-folder", evo({"--png", "{dir}/no/e.png"}), {1}, {"no/e.png"},
        images);
  c.add("evolution/runs", evo({"--units", "0-1"}), {0}, {}, images);
}

// Dataset scans (scan, scan-show, scan-merge, atlas). A real scan database of zf-small over two
// images, and a shard of one over three images, are made once with the CLI under test; the cases
// copy them into their folders.
void scanCases(Corpus& c) {
  const fs::path in = fs::path(c.path("scan"));
  fs::create_directories(in / "imgs");
  for (int i = 0; i < 3; ++i) {
    cv::Mat m(28, 28, CV_8UC1, cv::Scalar(0));
    cv::circle(m, cv::Point(6 + 7 * i, 14), 5, cv::Scalar(255), -1);
    cv::imwrite((in / "imgs" / ("i" + std::to_string(i) + ".png")).string(), m);
  }
  const std::string quiet = " >/dev/null 2>&1";
  const std::string cli = ZFVIS_CLI;
  const std::string base = cli + " scan --model zf-small --images '" + (in / "imgs").string() +
                           "' --layers relu2,relu5 --threads 1 --db '";
  if (std::system((base + (in / "zf.sqlite").string() + "'" + quiet).c_str()) != 0 ||
      std::system((base + (in / "s0of2.sqlite").string() + "' --shard 0/2" + quiet).c_str()) != 0)
    throw std::runtime_error("scanCases: zfvis-cli scan failed while making the corpus");
  const std::string db = (in / "zf.sqlite").string(), shard = (in / "s0of2.sqlite").string();
  const std::string imgs = (in / "imgs").string();
  {
    // Cut to its first page: a SQLite header whose tables are gone.
    const std::string bytes = slurpFile(db);
    spitFile(in / "cut.sqlite", bytes.substr(0, std::min<size_t>(bytes.size(), 4096 + 100)));
  }
  spitFile(in / "text.sqlite",
           "SQLite? no, just some text that is long enough to look like a file");
  auto copy = [](const fs::path& from, const std::string& name) {
    return [from, name](const fs::path& dir) { fs::copy_file(from, dir / name); };
  };
  auto scan = [imgs](Args extra) {
    Args a = {"scan", "--model", "zf-small", "--images", imgs, "--threads", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  c.add("scan/unknown-option", scan({"--db", "{dir}/s.sqlite", "--frobnicate"}), {2},
        {"unknown option --frobnicate"});
  c.add("scan/no-db", scan({}), {2}, {"--db"});
  c.add("scan/no-images", {"scan", "--model", "zf-small", "--db", "{dir}/s.sqlite"}, {2},
        {"--images"});
  c.add("scan/top-zero", scan({"--db", "{dir}/s.sqlite", "--top", "0"}), {2}, {"--top"});
  c.add("scan/top-huge", scan({"--db", "{dir}/s.sqlite", "--top", "1001"}), {2}, {"--top"});
  c.add("scan/batch-zero", scan({"--db", "{dir}/s.sqlite", "--batch", "0"}), {2}, {"--batch"});
  c.add("scan/shard-3-of-2", scan({"--db", "{dir}/s.sqlite", "--shard", "3/2"}), {2}, {"--shard"});
  c.add("scan/shard-1-of-0", scan({"--db", "{dir}/s.sqlite", "--shard", "1/0"}), {2}, {"--shard"});
  c.add("scan/shard-no-slash", scan({"--db", "{dir}/s.sqlite", "--shard", "3"}), {2}, {"--shard"});
  c.add("scan/shard-wrap", scan({"--db", "{dir}/s.sqlite", "--shard", "4294967297/2"}), {2},
        {"--shard"});
  c.add("scan/shard-negative", scan({"--db", "{dir}/s.sqlite", "--shard", "-1/2"}), {2},
        {"--shard"});
  c.add("scan/layers-unknown", scan({"--db", "{dir}/s.sqlite", "--layers", "relu2,conv9"}), {1},
        {"conv9"});
  c.add("scan/layers-empty-item", scan({"--db", "{dir}/s.sqlite", "--layers", "relu2,,relu5"}), {2},
        {"--layers"});
  c.add("scan/layers-twice", scan({"--db", "{dir}/s.sqlite", "--layers", "relu2,relu2"}), {2},
        {"twice"});
  c.add("scan/unknown-preprocess", scan({"--db", "{dir}/s.sqlite", "--preprocess", "sepia"}), {2},
        {"sepia"});
  c.add("scan/empty-folder",
        {"scan", "--model", "zf-small", "--images", "{dir}/empty", "--db", "{dir}/s.sqlite"}, {1},
        {"holds no image"}, [](const fs::path& dir) { fs::create_directories(dir / "empty"); });
  c.add("scan/images-missing",
        {"scan", "--model", "zf-small", "--images", "{dir}/none", "--db", "{dir}/s.sqlite"}, {1},
        {"does not exist"});
  c.add("scan/db-not-sqlite", scan({"--db", "{dir}/s.sqlite"}), {1}, {"s.sqlite"},
        copy(in / "text.sqlite", "s.sqlite"));
  c.add("scan/db-cut", scan({"--db", "{dir}/s.sqlite"}), {1}, {"s.sqlite"},
        copy(in / "cut.sqlite", "s.sqlite"));
  c.add("scan/db-other-model",
        {"scan", "--model", "alex-small", "--images", imgs, "--layers", "relu2,relu5", "--db",
         "{dir}/s.sqlite"},
        {1}, {"model"}, copy(db, "s.sqlite"));
  c.add("scan/db-other-top",
        scan({"--layers", "relu2,relu5", "--top", "4", "--db", "{dir}/s.sqlite"}), {1}, {"top_k"},
        copy(db, "s.sqlite"));
  c.add("scan/db-other-shard",
        scan({"--layers", "relu2,relu5", "--shard", "1/2", "--db", "{dir}/s.sqlite"}), {1},
        {"shard"}, copy(shard, "s.sqlite"));
  c.add("scan/db-is-folder", scan({"--db", "{dir}/d"}), {1}, {"folder"},
        [](const fs::path& dir) { fs::create_directories(dir / "d"); });
  c.add("scan/db-missing-folder", scan({"--db", "{dir}/no/s.sqlite"}), {1}, {"no/s.sqlite"});

  c.add("scan-show/unknown-option", {"scan-show", "--db", db, "--layer", "relu2", "--x"}, {2},
        {"--x"});
  c.add("scan-show/no-layer", {"scan-show", "--db", db}, {2}, {"--layer"});
  c.add("scan-show/db-missing", {"scan-show", "--db", "{dir}/none.sqlite", "--layer", "relu2"}, {1},
        {"none.sqlite"});
  c.add("scan-show/db-not-sqlite", {"scan-show", "--db", "{dir}/s.sqlite", "--layer", "relu2"}, {1},
        {"s.sqlite"}, copy(in / "text.sqlite", "s.sqlite"));
  c.add("scan-show/db-cut", {"scan-show", "--db", "{dir}/s.sqlite", "--layer", "relu2"}, {1},
        {"s.sqlite"}, copy(in / "cut.sqlite", "s.sqlite"));
  c.add("scan-show/db-empty-sqlite", {"scan-show", "--db", "{dir}/s.sqlite", "--layer", "relu2"},
        {1}, {"not a zfvis scan database"},
        [](const fs::path& dir) { spitFile(dir / "s.sqlite", ""); });
  c.add("scan-show/unknown-layer", {"scan-show", "--db", db, "--layer", "conv9"}, {1},
        {"conv9", "relu2, relu5"});
  c.add("scan-show/units-out-of-range",
        {"scan-show", "--db", db, "--layer", "relu2", "--units", "0-999"}, {1}, {"out of range"});
  c.add("scan-show/units-backwards",
        {"scan-show", "--db", db, "--layer", "relu2", "--units", "5-2"}, {2}, {"A <= B"});
  c.add("scan-show/units-garbage", {"scan-show", "--db", db, "--layer", "relu2", "--units", "x"},
        {2}, {"--units"});

  c.add("scan-merge/no-out", {"scan-merge", "--db", shard}, {2}, {"--out"});
  c.add("scan-merge/no-db", {"scan-merge", "--out", "{dir}/m.sqlite"}, {2}, {"--db"});
  c.add("scan-merge/out-exists", {"scan-merge", "--out", "{dir}/m.sqlite", "--db", shard}, {1},
        {"exists"}, [](const fs::path& dir) { spitFile(dir / "m.sqlite", "mine"); });
  c.add("scan-merge/shard-missing", {"scan-merge", "--out", "{dir}/m.sqlite", "--db", shard}, {1},
        {"shard 1/2 is missing"});
  c.add("scan-merge/shard-twice",
        {"scan-merge", "--out", "{dir}/m.sqlite", "--db", shard, "--db", shard}, {1},
        {"given twice"});
  c.add("scan-merge/not-shards-of-one-scan",
        {"scan-merge", "--out", "{dir}/m.sqlite", "--db", shard, "--db", db}, {1}, {"shard"});
  c.add("scan-merge/db-not-sqlite",
        {"scan-merge", "--out", "{dir}/m.sqlite", "--db", (in / "text.sqlite").string()}, {1},
        {"text.sqlite"});
  c.add("scan-merge/out-missing-folder",
        {"scan-merge", "--out", "{dir}/no/m.sqlite", "--db", shard}, {1}, {"no/m.sqlite"});

  auto atlas = [db](Args extra) {
    Args a = {"atlas", "--db", db, "--model", "zf-small", "--layer", "relu5", "--threads", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  c.add("atlas/no-output", atlas({}), {2}, {"--png"});
  c.add("atlas/out-exists", atlas({"--out", "{dir}/html"}), {1}, {"already exists"},
        [](const fs::path& dir) { fs::create_directories(dir / "html"); });
  c.add("atlas/out-missing-folder", atlas({"--out", "{dir}/no/html"}), {1}, {"no/html"});
  c.add("atlas/unknown-mode", atlas({"--mode", "sideways", "--png", "{dir}/a.png"}), {2},
        {"sideways"});
  c.add("atlas/top-zero", atlas({"--top", "0", "--png", "{dir}/a.png"}), {2}, {"--top"});
  c.add("atlas/units-out-of-range", atlas({"--units", "60-70", "--png", "{dir}/a.png"}), {1},
        {"out of range"});
  c.add("atlas/unknown-layer",
        {"atlas", "--db", db, "--model", "zf-small", "--layer", "relu3", "--png", "{dir}/a.png"},
        {1}, {"relu3"});
  c.add("atlas/other-model",
        {"atlas", "--db", db, "--model", "alex-small", "--layer", "relu5", "--png", "{dir}/a.png"},
        {1}, {"model"});
  c.add("atlas/png-missing-folder", atlas({"--png", "{dir}/no/a.png"}), {1}, {"no/a.png"});
  c.add("atlas/db-cut",
        {"atlas", "--db", "{dir}/s.sqlite", "--model", "zf-small", "--layer", "relu5", "--png",
         "{dir}/a.png"},
        {1}, {"s.sqlite"}, copy(in / "cut.sqlite", "s.sqlite"));
  c.add("atlas/image-changed", atlas({"--images", "{dir}/imgs", "--png", "{dir}/a.png"}), {1},
        {"changed since the scan"}, [imgs](const fs::path& dir) {
          fs::create_directories(dir / "imgs");
          for (int i = 0; i < 3; ++i)
            cv::imwrite((dir / "imgs" / ("i" + std::to_string(i) + ".png")).string(),
                        cv::Mat(28, 28, CV_8UC1, cv::Scalar(40 * i)));
        });
  c.add("atlas/image-missing", atlas({"--images", "{dir}/imgs", "--png", "{dir}/a.png"}), {1},
        {"imgs"}, [](const fs::path& dir) { fs::create_directories(dir / "imgs"); });

  // export --db: the atlas section needs a finished scan of the same model; refused before any
  // folder is made.
  const std::string image = (in / "imgs" / "i0.png").string();
  auto exportDb = [image](const std::string& model, const std::string& dbPath) {
    return Args{"export",  "--model", model,  "--image",   image, "--projections", "none", "--out",
                "{dir}/r", "--db",    dbPath, "--threads", "1"};
  };
  c.add("export/db-missing", exportDb("zf-small", "{dir}/none.sqlite"), {1}, {"none.sqlite"});
  c.add("export/db-not-a-db", exportDb("zf-small", (in / "text.sqlite").string()), {1},
        {"text.sqlite"});
  c.add("export/db-of-another-model", exportDb("alex-small", db), {1},
        {"is a scan of model", "not of"});
}

}  // namespace

// --labels FILE (predict, occlusion, export): a missing, empty, binary or miscounted file is one
// line naming the file, exit 1; nin has 256 classes.
void labelsCases(Corpus& c) {
  auto with = [](Args a, Args extra) {
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  std::string names;
  for (int i = 0; i < 256; ++i) names += "class number " + std::to_string(i) + "\n";
  const std::string good = c.file("labels-256.txt", names);
  const std::string three = c.file("labels-3.txt", "cat\ndog\nbird\n");
  const std::string empty = c.file("labels-empty.txt", "");
  const std::string blank = c.file("labels-blank.txt", "\n\n\n");
  const std::string binary =
      c.file("labels-binary.txt", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  const std::string latin1 = c.file("labels-latin1.txt", "caf\xe9\n");
  const std::string json = c.file("labels-bad.json", "[\"cat\", 3]");
  const std::string gap = c.file("labels-gap.txt", "cat\n\ndog\n");
  c.add("labels/valid-256", predictOn(kChelsea, {"--labels", good}), {0});
  const Args occlusion = {"occlusion", "--model", "nin",      "--image", kChelsea,
                          "--patch",   "200",     "--stride", "100"};
  const Args exportArgs = {"export", "--model", "nin",           "--image", kChelsea,
                           "--out",  "{dir}/r", "--projections", "none"};
  const std::vector<std::pair<std::string, Args>> commands = {
      {"predict", predictOn(kChelsea)}, {"occlusion", occlusion}, {"export", exportArgs}};
  for (const auto& [command, base] : commands) {
    const std::string p = "labels/" + command + "-";
    c.add(p + "missing", with(base, {"--labels", c.path("no-such-labels.txt")}), {1},
          {"no-such-labels.txt", "does not exist"});
    c.add(p + "wrong-count", with(base, {"--labels", three}), {1},
          {"labels-3.txt", "has 3 names", "256 classes"});
    c.add(p + "empty", with(base, {"--labels", empty}), {1},
          {"labels-empty.txt", "names no class"});
    c.add(p + "binary", with(base, {"--labels", binary}), {1}, {"labels-binary.txt", "not a text"});
  }
  c.add("labels/blank-lines", predictOn(kChelsea, {"--labels", blank}), {1},
        {"labels-blank.txt", "names no class"});
  c.add("labels/not-utf8", predictOn(kChelsea, {"--labels", latin1}), {1},
        {"labels-latin1.txt", "UTF-8"});
  c.add("labels/json-not-strings", predictOn(kChelsea, {"--labels", json}), {1},
        {"labels-bad.json", "item 1"});
  c.add("labels/empty-line-inside", predictOn(kChelsea, {"--labels", gap}), {1},
        {"labels-gap.txt", "line 2 is empty"});
  c.add("labels/folder", predictOn(kChelsea, {"--labels", "{dir}"}), {1}, {"is a folder"});
  c.add("labels/no-value", predictOn(kChelsea, {"--labels"}), {2}, {"--labels needs a value"});
}

std::vector<CorpusCase> makeBadInputCorpus(const fs::path& inputs) {
  Corpus c(inputs);
  argumentCases(c);
  labelsCases(c);
  imageCases(c);
  npyCases(c);
  onnxCases(c);
  kerasCases(c);
  outputCases(c);
  trainingCases(c);
  evolutionCases(c);
  scanCases(c);
  return c.take();
}

}  // namespace zfvis::test
