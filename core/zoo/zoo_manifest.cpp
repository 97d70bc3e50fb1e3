#include "core/zoo/zoo_manifest.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/sha256.h"

namespace zfvis {

namespace detail {
extern const char* const kModelZooJson;
}

namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& where,
                       const std::string& what) {
  throw Error("model zoo manifest '" + source + "': " + where + ": " + what);
}

std::string requireString(const Json& obj, const char* key, const std::string& source,
                          const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(source, where, std::string("missing \"") + key + "\"");
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    fail(source, where, std::string("\"") + key + "\" must be a non-empty string");
  return it->get<std::string>();
}

std::string optionalString(const Json& obj, const char* key, const std::string& source,
                           const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) fail(source, where, std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

std::optional<double> optionalNumber(const Json& obj, const char* key, const std::string& source,
                                     const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(source, where, std::string("\"") + key + "\" must be a number");
  return it->get<double>();
}

bool isSafeFileName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

ZooModel parseModel(const Json& m, size_t index, const std::string& source) {
  std::string where = "models[" + std::to_string(index) + "]";
  if (!m.is_object()) fail(source, where, "expected an object");
  ZooModel out;
  out.id = requireString(m, "id", source, where);
  where += " ('" + out.id + "')";
  for (char c : out.id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      fail(source, where, "\"id\" may only contain letters, digits, '-', '_' and '.'");
  out.title = optionalString(m, "title", source, where);
  if (out.title.empty()) out.title = out.id;
  out.path = requireString(m, "path", source, where);
  if (out.path.front() == '/' || out.path.find("..") != std::string::npos ||
      out.path.find("://") != std::string::npos || !isSafeFileName(out.fileName()))
    fail(source, where,
         "\"path\" must be a relative path ending in a file name, got '" + out.path + "'");
  auto size = m.find("size");
  if (size == m.end()) fail(source, where, "missing \"size\"");
  if (!size->is_number_integer() || size->get<int64_t>() <= 0)
    fail(source, where, "\"size\" must be a positive integer (bytes)");
  out.size = size->get<int64_t>();
  out.sha256 = requireString(m, "sha256", source, where);
  if (!isSha256Hex(out.sha256))
    fail(source, where, "\"sha256\" must be 64 hex digits, got '" + out.sha256 + "'");
  out.sha256 = asciiLower(out.sha256);
  if (auto opset = m.find("opset"); opset != m.end() && !opset->is_null()) {
    if (!opset->is_number_integer() || opset->get<int64_t>() < 1 || opset->get<int64_t>() > 1000)
      fail(source, where, "\"opset\" must be a positive integer");
    out.opset = opset->get<int>();
  }
  out.input = optionalString(m, "input", source, where);
  out.output = optionalString(m, "output", source, where);
  out.top1 = optionalNumber(m, "top1", source, where);
  out.top5 = optionalNumber(m, "top5", source, where);
  out.license = optionalString(m, "license", source, where);
  return out;
}

}  // namespace

std::string ZooModel::fileName() const {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const ZooModel* ZooManifest::find(std::string_view id) const {
  for (const ZooModel& m : models)
    if (m.id == id) return &m;
  return nullptr;
}

const ZooModel& ZooManifest::require(std::string_view id) const {
  if (const ZooModel* m = find(id)) return *m;
  throw Error("unknown zoo model '" + std::string(id) + "' (known: " + idList() + ")");
}

std::string ZooManifest::idList() const {
  std::string out;
  for (const ZooModel& m : models) out += (out.empty() ? "" : ", ") + m.id;
  return out;
}

ZooManifest parseZooManifest(std::string_view json, const std::string& source) {
  Json root;
  try {
    root = Json::parse(json.begin(), json.end());
  } catch (const Json::parse_error& e) {
    fail(source, "not valid JSON", e.what());
  }
  if (!root.is_object()) fail(source, "top level", "expected a JSON object");
  ZooManifest out;
  out.source = source;
  out.about = optionalString(root, "about", source, "top level");
  out.preprocessingNote = optionalString(root, "preprocessing_note", source, "top level");
  out.baseUrl = requireString(root, "base_url", source, "top level");
  auto models = root.find("models");
  if (models == root.end() || !models->is_array())
    fail(source, "top level", "missing \"models\" array");
  std::set<std::string> ids, files;
  for (size_t i = 0; i < models->size(); ++i) {
    ZooModel m = parseModel((*models)[i], i, source);
    if (!ids.insert(m.id).second)
      fail(source, "models[" + std::to_string(i) + "]", "duplicate id '" + m.id + "'");
    if (!files.insert(m.fileName()).second)
      fail(source, "models[" + std::to_string(i) + "] ('" + m.id + "')",
           "file name '" + m.fileName() + "' is used by another entry");
    out.models.push_back(std::move(m));
  }
  return out;
}

ZooManifest loadZooManifest(const std::filesystem::path& path) {
  return parseZooManifest(readFile(path, size_t(16) << 20), path.string());
}

const ZooManifest& embeddedZooManifest() {
  static const ZooManifest manifest =
      parseZooManifest(detail::kModelZooJson, "embedded model-zoo.json");
  return manifest;
}

std::string joinUrl(const std::string& base, const std::string& path) {
  if (base.empty() || base.back() == '/') return base + path;
  return base + "/" + path;
}

}  // namespace zfvis
