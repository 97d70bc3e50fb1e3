// zfvis-cli subcommands. Each takes the arguments after its name and returns the exit code;
// errors are thrown (Error -> exit 1, UsageError -> exit 2) and reported once by main().
#pragma once

#include <string>
#include <vector>

namespace zfvis::cli {

using ArgList = std::vector<std::string>;

int runModels(const ArgList& args);
int runSummary(const ArgList& args);
int runLayers(const ArgList& args);
int runPredict(const ArgList& args);
int runActivations(const ArgList& args);
int runFilters(const ArgList& args);
int runCompare(const ArgList& args);
int runBench(const ArgList& args);
int runDeconv(const ArgList& args);
int runFetch(const ArgList& args);
int runOcclusion(const ArgList& args);
int runExport(const ArgList& args);
int runTrain(const ArgList& args);
int runEvolution(const ArgList& args);
int runScan(const ArgList& args);
int runScanShow(const ArgList& args);
int runScanMerge(const ArgList& args);
int runAtlas(const ArgList& args);

/// One registered subcommand.
struct Command {
  const char* name;   // "predict"
  const char* usage;  // option synopsis
  int (*run)(const ArgList&);
};

/// Every subcommand, in help order.
const std::vector<Command>& commands();

}  // namespace zfvis::cli
