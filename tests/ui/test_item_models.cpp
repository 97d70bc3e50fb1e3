// The Qt item models (layer list, summary, predictions) under QAbstractItemModelTester, with
// values checked against numbers worked out by hand for a small network.
#include <QAbstractItemModelTester>
#include <QFont>
#include <QtTest>

#include "tests/ui/ui_test_util.h"
#include "ui/layer_table_model.h"
#include "ui/predictions_model.h"
#include "ui/summary_table_model.h"

using namespace zfvis;
using namespace zfvis::ui;

class ItemModels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { uitest::isolateSettings(); }

  void layerTableShowsEveryLayer() {
    LayerTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    auto def = std::make_shared<const NetworkDef>(uitest::tinyDef());
    model.setNetwork(def);
    QCOMPARE(model.rowCount(), 8);
    QCOMPARE(model.columnCount(), int(LayerTableModel::ColumnCount));
    auto cell = [&](int row, int col) { return model.index(row, col).data().toString(); };
    QCOMPARE(cell(0, LayerTableModel::Index), QString("0"));
    QCOMPARE(cell(0, LayerTableModel::Name), QString("conv1"));
    QCOMPARE(cell(0, LayerTableModel::Type), QString("Conv"));
    QCOMPARE(cell(0, LayerTableModel::OutputShape), QString::fromUtf8("8×30×30"));
    QCOMPARE(cell(0, LayerTableModel::Params), QString("224"));    // 8*3*3*3 + 8
    QCOMPARE(cell(3, LayerTableModel::Params), QString("1,168"));  // 16*8*3*3 + 16
    QCOMPARE(cell(6, LayerTableModel::Type), QString("Gemm"));
    QCOMPARE(cell(6, LayerTableModel::Params), QString("27,050"));  // 10*2704 + 10
    QCOMPARE(cell(5, LayerTableModel::OutputShape), QString("2704"));
    QCOMPARE(cell(7, LayerTableModel::Type), QString("Softmax"));
    QVERIFY(model.index(0, 1).data(Qt::ToolTipRole).toString().contains("input"));
    model.setNetwork(nullptr);
    QCOMPARE(model.rowCount(), 0);
    model.setNetwork(def);
    QCOMPARE(model.rowCount(), 8);
  }

  void summaryHasInputLayersAndTotals() {
    SummaryTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setNetwork(std::make_shared<const NetworkDef>(uitest::tinyDef()));
    QCOMPARE(model.rowCount(), 10);  // input + 8 layers + totals
    auto cell = [&](int row, int col) { return model.index(row, col).data().toString(); };
    QCOMPARE(cell(0, SummaryTableModel::Type), QString("Input"));
    QCOMPARE(cell(0, SummaryTableModel::OutputShape), QString::fromUtf8("3×32×32"));
    QCOMPARE(cell(1, SummaryTableModel::Layer), QString("conv1"));
    QCOMPARE(cell(9, SummaryTableModel::Layer), QString("Total"));
    QCOMPARE(cell(9, SummaryTableModel::Params), QString("28,442"));  // 224 + 1168 + 27050
    QCOMPARE(model.totalParams(), int64_t(28442));
    QVERIFY(model.index(9, 0).data(Qt::FontRole).value<QFont>().bold());
    model.setNetwork(nullptr);
    QCOMPARE(model.rowCount(), 0);
  }

  void predictionsShowRankLabelAndPercent() {
    PredictionsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPredictions({{281, 0.625f, "tabby, tabby cat"}, {282, 0.25f, "tiger cat"}});
    QCOMPARE(model.rowCount(), 2);
    auto cell = [&](int row, int col) { return model.index(row, col).data().toString(); };
    QCOMPARE(cell(0, PredictionsModel::Rank), QString("1"));
    QCOMPARE(cell(0, PredictionsModel::Class), QString("281"));
    QCOMPARE(cell(0, PredictionsModel::Label), QString("tabby, tabby cat"));
    QCOMPARE(cell(0, PredictionsModel::Probability), QString("62.50 %"));
    QCOMPARE(cell(1, PredictionsModel::Rank), QString("2"));
    QCOMPARE(model.index(1, 3).data(PredictionsModel::ProbabilityRole).toDouble(), 0.25);
    model.setPredictions({});
    QCOMPARE(model.rowCount(), 0);
  }

  void thousandsSeparators() {
    QCOMPARE(withThousands(0), QString("0"));
    QCOMPARE(withThousands(999), QString("999"));
    QCOMPARE(withThousands(1000), QString("1,000"));
    QCOMPARE(withThousands(60965224), QString("60,965,224"));
    QCOMPARE(withThousands(-1234), QString("-1,234"));
  }
};

QTEST_MAIN(ItemModels)
#include "test_item_models.moc"
