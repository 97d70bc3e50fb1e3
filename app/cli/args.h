// Command-line parsing for zfvis-cli subcommands: --name value options, flags, repeats.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace zfvis::cli {

/// One accepted option.
struct OptionSpec {
  std::string name;         // without the leading "--"
  bool takesValue = true;   // false for flags such as --json
  bool repeatable = false;  // may appear several times (--model A --model B)
};

class Args {
 public:
  /// Parses `argv` (after the subcommand) against `spec`; throws UsageError on unknown options,
  /// missing values, repeats of non-repeatable options and stray positional arguments. `command`
  /// names the subcommand (main() prefixes every message with it).
  Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& spec,
       const std::string& command);

  /// True when a flag or option was given.
  bool has(const std::string& name) const;
  /// The option's value, if given.
  std::optional<std::string> value(const std::string& name) const;
  /// The option's value; throws UsageError when missing.
  std::string required(const std::string& name) const;
  /// Every value of a repeatable option, in order.
  std::vector<std::string> values(const std::string& name) const;
  /// An integer option within [lo, hi], or `fallback` when absent; throws UsageError otherwise.
  int intValue(const std::string& name, int fallback, int lo, int hi) const;
  /// A floating-point option, or `fallback` when absent; throws UsageError when malformed.
  double doubleValue(const std::string& name, double fallback) const;

 private:
  std::vector<std::pair<std::string, std::string>> m_values;
};

}  // namespace zfvis::cli
