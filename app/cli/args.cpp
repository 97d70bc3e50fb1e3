#include "app/cli/args.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/base/error.h"

namespace zfvis::cli {

namespace {

// An optional '-' followed by decimal digits only (no '+', spaces, hex or exponent).
bool isInteger(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int64_t parseInteger(std::string_view text, std::string_view option, int64_t lo, int64_t hi) {
  int64_t out = 0;
  const char* end = text.data() + text.size();
  // from_chars reports overflow instead of wrapping, so 4294967297 is refused, not read as 1.
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (!isInteger(text) || ec != std::errc() || ptr != end || out < lo || out > hi)
    throw UsageError("--" + std::string(option) + " expects an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi) + ", got '" + std::string(text) + "'");
  return out;
}

double parseNumber(std::string_view text, std::string_view option, double lo, double hi) {
  double out = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(out) || out < lo ||
      out > hi) {
    std::ostringstream range;
    range << lo << " to " << hi;
    throw UsageError("--" + std::string(option) + " expects a number from " + range.str() +
                     ", got '" + std::string(text) + "'");
  }
  return out;
}

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& spec,
           const std::string& command) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2)
      throw UsageError("unexpected argument '" + a + "' (see zfvis-cli help)");
    std::string name = a.substr(2), inlineValue;
    bool hasInline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inlineValue = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasInline = true;
    }
    const OptionSpec* s = nullptr;
    for (const OptionSpec& o : spec)
      if (o.name == name) s = &o;
    if (!s) throw UsageError("unknown option --" + name + " (see zfvis-cli help)");
    if (!s->repeatable && has(name)) throw UsageError("option --" + name + " given twice");
    if (!s->takesValue) {
      if (hasInline) throw UsageError("option --" + name + " takes no value");
      m_values.emplace_back(name, "");
      continue;
    }
    if (hasInline) {
      m_values.emplace_back(name, inlineValue);
    } else {
      if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
      m_values.emplace_back(name, argv[++i]);
    }
  }
}

bool Args::has(const std::string& name) const {
  for (const auto& [k, v] : m_values)
    if (k == name) return true;
  return false;
}

std::optional<std::string> Args::value(const std::string& name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : m_values)
    if (k == name) out = v;
  return out;
}

std::string Args::required(const std::string& name) const {
  auto v = value(name);
  if (!v) throw UsageError("option --" + name + " is required");
  return *v;
}

std::vector<std::string> Args::values(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : m_values)
    if (k == name) out.push_back(v);
  return out;
}

int Args::intValue(const std::string& name, int fallback, int lo, int hi) const {
  auto v = value(name);
  return v ? static_cast<int>(parseInteger(*v, name, lo, hi)) : fallback;
}

int64_t Args::int64Value(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const {
  auto v = value(name);
  return v ? parseInteger(*v, name, lo, hi) : fallback;
}

std::vector<int> Args::intValues(const std::string& name, int lo, int hi) const {
  std::vector<int> out;
  for (const std::string& v : values(name))
    out.push_back(static_cast<int>(parseInteger(v, name, lo, hi)));
  return out;
}

std::vector<int> Args::intTuple(const std::string& name, size_t count, int lo, int hi,
                                const std::string& form) const {
  auto v = value(name);
  if (!v) return {};
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t comma = v->find(',', at);
    parts.push_back(
        std::string_view(*v).substr(at, comma == std::string::npos ? comma : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (parts.size() != count || !std::all_of(parts.begin(), parts.end(), isInteger))
    throw UsageError("--" + name + " expects " + form + " (" + std::to_string(count) +
                     " integers separated by commas), got '" + *v + "'");
  std::vector<int> out;
  for (std::string_view p : parts) out.push_back(static_cast<int>(parseInteger(p, name, lo, hi)));
  return out;
}

double Args::doubleValue(const std::string& name, double fallback, double lo, double hi) const {
  auto v = value(name);
  return v ? parseNumber(*v, name, lo, hi) : fallback;
}

}  // namespace zfvis::cli
