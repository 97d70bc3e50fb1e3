#include "app/cli/args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace zfvis::cli {

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
  if (!v) return fallback;
  int out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < lo || out > hi)
    throw UsageError("--" + name + " expects an integer from " + std::to_string(lo) + " to " +
                     std::to_string(hi) + ", got '" + *v + "'");
  return out;
}

double Args::doubleValue(const std::string& name, double fallback) const {
  auto v = value(name);
  if (!v) return fallback;
  char* end = nullptr;
  double out = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(out))
    throw UsageError("--" + name + " expects a number, got '" + *v + "'");
  return out;
}

}  // namespace zfvis::cli
