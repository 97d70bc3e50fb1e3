// Helpers shared by the zfvis-cli subcommands.
#pragma once

#include <memory>
#include <string>

#include "app/cli/args.h"
#include "core/engine/engine.h"
#include "core/model/network.h"

namespace zfvis::cli {

/// Options every command that opens a model accepts.
std::vector<OptionSpec> modelOptions();
/// Options every command that runs a model on an image accepts (includes modelOptions()).
std::vector<OptionSpec> runOptions();
/// --labels FILE (class names, one per line or a JSON list), for commands that print or draw
/// classes; openModel applies it.
std::vector<OptionSpec> labelsOption();
/// Appends `extra` to `base`.
std::vector<OptionSpec> withOptions(std::vector<OptionSpec> base, std::vector<OptionSpec> extra);

/// Opens --model (and --weights) as a shared definition; with --labels, its class names are the
/// file's (Error naming the file and both counts when the count differs from the output's).
std::shared_ptr<const NetworkDef> openModel(const Args& args);
/// Compiles a definition with --threads.
std::shared_ptr<const CompiledNet> compileModel(const Args& args,
                                                std::shared_ptr<const NetworkDef> def);
/// Loads --image (image or .npy) for a model, honouring --preprocess and --max-pixels; returns
/// 1 x C x H x W.
Tensor openInput(const Args& args, const NetworkDef& def);
/// Resolves --layer (name or index).
size_t resolveLayerArg(const Args& args, const NetworkDef& def);
/// Refuses, before anything is computed, output options (--png, --npy, ...) whose file could
/// not be written: a missing or unwritable folder, or a folder in the file's place (Error).
void checkOutputs(const Args& args, const std::vector<std::string>& options);
/// Checks an index option whose valid range depends on the model or file (a channel, a class, a
/// position): throws Error (exit 1) "OWNER has COUNT NOUN (0..COUNT-1); --OPTION VALUE is out of
/// range" when `value` is not below `count`. Ranges fixed by the option itself are checked when
/// parsing (UsageError, exit 2).
void requireIndex(const std::string& option, int64_t value, int64_t count, const std::string& owner,
                  const std::string& noun);

}  // namespace zfvis::cli
