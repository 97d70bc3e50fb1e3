// Helpers for the QtTest GUI tests: an isolated settings store, small networks built with
// NetBuilder, and waiting for background jobs.
#pragma once

#include <memory>

#include <QCoreApplication>
#include <QEventLoop>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include "core/engine/engine.h"
#include "core/model/net_builder.h"
#include "ui/jobs.h"

namespace zfvis::uitest {

/// Points QSettings at a temporary folder so tests never read or write the user's settings.
inline void isolateSettings() {
  static QTemporaryDir dir;
  QCoreApplication::setOrganizationName("zfvis-tests");
  QCoreApplication::setApplicationName("zfvis-ui-tests");
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir.path());
}

/// A tiny image network: 3 x 32 x 32 -> conv1 8@3x3 (8 x 30 x 30) -> relu1 -> pool1 2/2
/// (8 x 15 x 15) -> conv2 16@3x3 (16 x 13 x 13) -> relu2 -> flatten (2704) -> fc 10 -> prob.
inline NetworkDef tinyDef(uint64_t seed = 7) {
  NetBuilder b("tiny", {3, 32, 32}, seed);
  b.conv("conv1", 8, 3, 1).relu("relu1");   // 8 x 30 x 30
  b.maxPool("pool1", 2, 2);                 // 8 x 15 x 15
  b.conv("conv2", 16, 3, 1).relu("relu2");  // 16 x 13 x 13
  b.flatten("flatten");                     // 2704
  b.dense("fc", 10).softmax("prob");        // 10
  return b.build();
}

/// tinyDef() compiled.
inline std::shared_ptr<const CompiledNet> tinyNet(uint64_t seed = 7) {
  return CompiledNet::compile(std::make_shared<const NetworkDef>(tinyDef(seed)));
}

/// Runs the event loop for `ms` (blocking in it while idle, unlike QTest::qWait, which sleeps).
inline void runEventLoopFor(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  loop.exec();
}

/// Waits (processing events) until no job runs; fails the test after `ms`.
#define ZFVIS_WAIT_IDLE(tracker, ms)   \
  QVERIFY2((tracker)->waitForIdle(ms), \
           qPrintable(QString("jobs did not finish: %1 running").arg((tracker)->runningCount())))

}  // namespace zfvis::uitest
