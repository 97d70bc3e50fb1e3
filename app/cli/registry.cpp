// The table of zfvis-cli subcommands (help order).
#include "app/cli/commands.h"

namespace zfvis::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"models", "list the built-in models", runModels},
      {"summary", "--model M", runSummary},
      {"layers", "--model M [--json]", runLayers},
      {"predict", "--model M --image I [--top K] [--json] [--npy OUT]", runPredict},
      {"activations",
       "--model M --image I --layer L [--npy OUT] [--png OUT] [--colormap viridis|gray] "
       "[--normalize map|layer] [--mark-max]",
       runActivations},
      {"bench", "--model M [--batch N] [--iters K] [--all-layers]", runBench},
  };
  return table;
}

}  // namespace zfvis::cli
