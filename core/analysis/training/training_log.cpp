#include "core/analysis/training/training_log.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/base/atomic_file.h"
#include "core/base/error.h"

namespace zfvis {

namespace {

using Json = nlohmann::ordered_json;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string optional(const std::optional<double>& v) {
  return v ? number(*v) : std::string();
}

Json optionalJson(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

std::optional<double> optionalFrom(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<double>();
}

}  // namespace

std::string logCsv(const std::vector<LogRow>& rows) {
  std::string out = "step,epoch,loss,train_accuracy,test_accuracy,learning_rate,seconds\n";
  for (const LogRow& r : rows)
    out += std::to_string(r.step) + "," + number(r.epoch) + "," + optional(r.loss) + "," +
           optional(r.trainAccuracy) + "," + optional(r.testAccuracy) + "," +
           number(r.learningRate) + "," + number(r.seconds) + "\n";
  return out;
}

std::string logJson(const std::vector<LogRow>& rows) {
  Json out = Json::array();
  for (const LogRow& r : rows)
    out.push_back({{"step", r.step},
                   {"epoch", r.epoch},
                   {"loss", optionalJson(r.loss)},
                   {"train_accuracy", optionalJson(r.trainAccuracy)},
                   {"test_accuracy", optionalJson(r.testAccuracy)},
                   {"learning_rate", r.learningRate},
                   {"seconds", r.seconds}});
  return out.dump(1) + "\n";
}

void writeLog(const std::filesystem::path& dir, const std::vector<LogRow>& rows) {
  writeFileAtomic(dir / "log.csv", logCsv(rows));
  writeFileAtomic(dir / "log.json", logJson(rows));
}

std::vector<LogRow> readLog(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "log.json";
  std::vector<LogRow> rows;
  try {
    const Json j = Json::parse(readFile(file, size_t(1) << 28));
    for (const Json& r : j) {
      LogRow row;
      row.step = r.at("step").get<int64_t>();
      row.epoch = r.at("epoch").get<double>();
      row.loss = optionalFrom(r, "loss");
      row.trainAccuracy = optionalFrom(r, "train_accuracy");
      row.testAccuracy = optionalFrom(r, "test_accuracy");
      row.learningRate = r.at("learning_rate").get<double>();
      row.seconds = r.at("seconds").get<double>();
      rows.push_back(row);
    }
  } catch (const Json::exception& e) {
    throw Error("'" + file.string() + "': not a training log (" + e.what() + ")");
  }
  return rows;
}

}  // namespace zfvis
