// zfvis-cli: the headless front end. One subcommand per task; see `zfvis-cli help`.
#include <cstdio>
#include <exception>
#include <string>

#include "app/cli/commands.h"
#include "core/base/error.h"

namespace {

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void printHelp(FILE* out) {
  std::fprintf(out, "zfvis-cli %s: look inside convolutional networks (Zeiler & Fergus 2013)\n\n",
               ZFVIS_VERSION);
  std::fprintf(out, "usage: zfvis-cli COMMAND [OPTIONS]\n\n");
  for (const auto& c : zfvis::cli::commands())
    std::fprintf(out, "  zfvis-cli %-11s %s\n", c.name, c.usage);
  std::fprintf(out,
               "\nMODEL is a built-in name (see `zfvis-cli models`), an .onnx file, a Keras .h5 "
               "file or zoo:ID\n(a Model Zoo file fetched with `zfvis-cli fetch ID`).\nIMAGE is "
               "an image (PNG, JPEG, BMP, TIFF, WebP, ...) or a float32 .npy tensor (C x H x W);\n"
               "commands that take --image also take --preprocess caffe|torchvision|raw and\n"
               "--max-pixels N (images with more pixels are refused before decoding; default "
               "128000000).\n"
               "Exit codes: 0 success, 1 runtime failure, 2 usage error.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "zfvis-cli: usage error: no command given (zfvis-cli help lists them)\n");
    return 2;
  }
  std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") {
    printHelp(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("zfvis-cli %s\n", ZFVIS_VERSION);
    return 0;
  }
  zfvis::cli::ArgList args(argv + 2, argv + argc);
  for (const auto& c : zfvis::cli::commands()) {
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const zfvis::UsageError& e) {
      std::fprintf(stderr, "zfvis-cli %s: usage error: %s\n", c.name, oneLine(e.what()).c_str());
      return 2;
    } catch (const zfvis::Cancelled&) {
      std::fprintf(stderr, "zfvis-cli %s: cancelled\n", c.name);
      return 1;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "zfvis-cli %s: error: out of memory\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "zfvis-cli %s: error: %s\n", c.name, oneLine(e.what()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "zfvis-cli: usage error: unknown command '%s' (see zfvis-cli help)\n",
               name.c_str());
  return 2;
}
