// The training log: one row every few steps (mean loss and accuracy over those steps) and one at
// every evaluation (test accuracy), written as CSV and JSON in the run folder, read back by
// --resume and by anything that plots a run (the GUI's curves, the evolution view).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace zfvis {

/// One row of the log.
struct LogRow {
  int64_t step = 0;                     // SGD updates done when the row was written
  double epoch = 0;                     // step / steps per epoch
  std::optional<double> loss;           // mean cross-entropy over the steps since the last row
  std::optional<double> trainAccuracy;  // fraction of those steps' samples classified right
  std::optional<double> testAccuracy;   // on the whole test split (evaluation rows only)
  double learningRate = 0;              // in effect for those steps
  double seconds = 0;                   // training time so far (across resumes)
};

/// "step,epoch,loss,train_accuracy,test_accuracy,learning_rate,seconds" and one line per row
/// (empty fields for missing values).
std::string logCsv(const std::vector<LogRow>& rows);
/// [{"step":..,"epoch":..,"loss":..|null,"train_accuracy":..|null,"test_accuracy":..|null,
/// "learning_rate":..,"seconds":..}, ...].
std::string logJson(const std::vector<LogRow>& rows);
/// Writes log.csv and log.json into `dir` (atomically).
void writeLog(const std::filesystem::path& dir, const std::vector<LogRow>& rows);
/// Reads `dir`/log.json; throws Error naming the file when it is missing or malformed.
std::vector<LogRow> readLog(const std::filesystem::path& dir);

}  // namespace zfvis
