// The train view: trains alex-small, zf-small or the open model on a dataset (Fashion-MNIST by
// default, CIFAR-10 or class folders) into a run folder, on a worker thread (core's Trainer
// through a job; Cancel asks its observer to stop, and the run folder keeps a resume state that
// Resume continues). While it trains: the loss and accuracy curves, the first layer's filters
// redrawn every half second, a progress bar with the step and the ETA, and the checkpoints as they
// are written (double-click or Open makes one the main window's model; Show Evolution opens the
// run in the evolution view). Closing the window cancels the run and waits for it.
#pragma once

#include <cstdint>
#include <memory>

#include <QImage>

#include "core/analysis/training/trainer.h"
#include "ui/views/view_base.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace zfvis::ui {

class CurvesWidget;
class ImageView;

class TrainView : public ViewBase {
  Q_OBJECT
 public:
  TrainView(AppState* state, JobTracker* jobs, QWidget* parent = nullptr);

  QString viewId() const override { return QStringLiteral("train"); }
  /// The filters picture of the run shown (nullopt before one started).
  std::optional<ViewExport> exportView() const override;

  /// Chooses the architecture: "alex-small", "zf-small" or a model spec (the open model).
  void setArchitecture(const QString& model);
  /// Sets the dataset spec ("fashion-mnist", "fashion-mnist:DIR", "cifar10:DIR", "folder:DIR").
  void setData(const QString& spec);
  /// Sets the run folder (created by Start; must not hold a run yet).
  void setOutputDir(const QString& dir);
  /// Sets epochs, batch size and learning rate.
  void setSchedule(int epochs, int batch, double learningRate);
  /// The settings Start would use.
  TrainConfig config() const;
  /// The dataset spec of the data controls.
  QString dataSpec() const;
  /// The run folder of the controls.
  QString outputDir() const;

  /// Starts a new run with the controls' settings.
  void start();
  /// Continues the interrupted run in the output folder (its resume.json).
  void resume();
  /// Asks the running run to stop (it writes its resume state, then the job ends).
  void cancel();
  /// True from Start until the job has ended.
  bool isTraining() const { return m_jobId != 0; }

  /// The run folder of the run shown (the running or last one).
  const QString& runDir() const { return m_runDir; }
  /// The checkpoints written, as listed.
  QListWidget* checkpointList() const { return m_checkpoints; }
  /// The live curves.
  CurvesWidget* curves() const { return m_curves; }
  /// The live first-layer filters.
  ImageView* filtersView() const { return m_filters; }
  /// The progress bar (step / total).
  QProgressBar* progressBar() const { return m_progress; }
  /// The status line under it ("Finished…", "Cancelled…").
  QLabel* statusLabel() const { return m_status; }
  /// Number of filter pictures received from the worker.
  int filterUpdates() const { return m_filterUpdates; }

  /// Job slot of the run.
  static inline const QString kJob = QStringLiteral("train");

 signals:
  /// The user wants `path` (a checkpoint) as the main window's model.
  void openModelRequested(const QString& path);
  /// The user wants the evolution view on run folder `dir`.
  void showEvolutionRequested(const QString& dir);
  /// A run's job ended; `finished`: it trained to the end (else cancelled or failed).
  void trainingEnded(bool finished);

 protected:
  void refresh() override {}

 private:
  friend class TrainRelay;
  void launch(bool resume);
  void onStarted(quint64 run, int64_t totalSteps, int64_t done, const QString& network);
  void onStep(quint64 run, const StepReport& r);
  void onLogRow(quint64 run, const LogRow& row);
  void onCheckpoint(quint64 run, const CheckpointReport& c);
  void onFilters(quint64 run, const QImage& image);
  void onJobEnded(quint64 job);
  void updateButtons();
  void openSelected();
  QString defaultOutputDir() const;
  void browseData();
  void browseOutput();

  QComboBox* m_model;
  QComboBox* m_dataKind;
  QLineEdit* m_dataDir;
  QPushButton* m_dataBrowse;
  QSpinBox* m_epochs;
  QSpinBox* m_batch;
  QDoubleSpinBox* m_learningRate;
  QLineEdit* m_output;
  QPushButton* m_outputBrowse;
  QPushButton* m_start;
  QPushButton* m_cancel;
  QPushButton* m_resume;
  QProgressBar* m_progress;
  QLabel* m_eta;
  QLabel* m_status;
  CurvesWidget* m_curves;
  ImageView* m_filters;
  QListWidget* m_checkpoints;
  QPushButton* m_open;
  QPushButton* m_evolution;

  quint64 m_jobId = 0;  // the running job (0: none)
  quint64 m_run = 0;    // counts runs; stale posts from an earlier worker are dropped
  QString m_runDir;     // the run shown
  bool m_outputEdited = false;
  bool m_finished = false;  // the last run trained to its end
  int64_t m_lastStep = 0;   // step of the last report
  int m_filterUpdates = 0;
  QImage m_filtersImage;  // last filters picture (for Export View)
};

}  // namespace zfvis::ui
