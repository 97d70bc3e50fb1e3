// Command-line parsing for zfvis-cli subcommands: --name value options, flags, repeats, and the one
// place where option values become numbers (whole-string parses with range checks, never wrapping).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zfvis::cli {

/// One accepted option.
struct OptionSpec {
  std::string name;         // without the leading "--"
  bool takesValue = true;   // false for flags such as --json
  bool repeatable = false;  // may appear several times (--model A --model B)
};

/// Parses all of `text` as a decimal integer within [lo, hi]; throws UsageError naming --option and
/// the range when it is malformed, has trailing characters, overflows or lies outside the range.
int64_t parseInteger(std::string_view text, std::string_view option, int64_t lo, int64_t hi);
/// Parses all of `text` as a finite decimal number within [lo, hi]; throws UsageError otherwise.
double parseNumber(std::string_view text, std::string_view option, double lo, double hi);

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
  /// A 64-bit integer option within [lo, hi], or `fallback` when absent (pixel and byte counts).
  int64_t int64Value(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;
  /// Every value of a repeatable integer option, each within [lo, hi].
  std::vector<int> intValues(const std::string& name, int lo, int hi) const;
  /// A comma-separated list of exactly `count` integers within [lo, hi] ("6,7" for --position
  /// Y,X, `form` names it in messages); empty when the option is absent.
  std::vector<int> intTuple(const std::string& name, size_t count, int lo, int hi,
                            const std::string& form) const;
  /// A finite number option within [lo, hi], or `fallback` when absent; throws UsageError
  /// otherwise.
  double doubleValue(const std::string& name, double fallback, double lo, double hi) const;

 private:
  std::vector<std::pair<std::string, std::string>> m_values;
};

}  // namespace zfvis::cli
