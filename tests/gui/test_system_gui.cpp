// The run page's System section on the real main window, offscreen: while a run is live its CPU, memory and
// GPU charts appear under the metrics and keep filling, the header sums the run up (peak memory, mean CPU,
// GPU), the heading folds the grid away; once the run ends the samples stop. GPU readings come from the NVML
// STAND-IN library the tests build (tests/standin: no GPU on this machine).
#include "api/Client.h"
#include "app/MainWindow.h"
#include "charts/MetricChart.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/RunsTableModel.h"
#include "runs/SystemSection.h"
#include "TestSupport.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace Kiln;

class TestSystemGui : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theSystemSectionFillsWhileARunIsLive() {
        qputenv("KILN_NVML_LIBRARY", KILN_NVML_STANDIN); // before kilnd starts: its supervisors read it
        Test::Workspace ws;
        QTemporaryDir gate;
        const QString release = gate.path() + QStringLiteral("/release");
        auto sub = ws.kiln(
            {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
             QStringLiteral("system"), QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/scripts"),
             QStringLiteral("--script"), QStringLiteral("slow.py"), QStringLiteral("--system-interval"),
             QStringLiteral("0.2"), QStringLiteral("--json"), QStringLiteral("--"),
             QStringLiteral("--seconds"), QStringLiteral("0.5"), QStringLiteral("--until"), release});
        QCOMPARE(sub.exitCode, 0);
        const auto id = sub.json()["id"].get<qint64>();

        Ui::MainWindow window(ws.path());
        window.resize(1400, 1000);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(id);
        QVERIFY(page);
        auto* status = page->findChild<QLabel*>(QStringLiteral("runStatus"));
        QTRY_COMPARE_WITH_TIMEOUT(status->text(), QStringLiteral("Running"), Test::scaledMs(30000));

        // Live: the section appears under the metrics with its charts, and they keep filling.
        auto* section = page->systemSection();
        QTRY_VERIFY_WITH_TIMEOUT(section->isVisible() && section->chart(QStringLiteral("cpu")) &&
                                     section->chart(QStringLiteral("memory")) &&
                                     section->chart(QStringLiteral("gpu0/util")),
                                 Test::scaledMs(20000));
        auto* cpu = section->chart(QStringLiteral("cpu"));
        QTRY_VERIFY(cpu->isVisible());
        QCOMPARE(cpu->xAxis(), Ui::MetricChart::XAxis::RelativeTime);
        QTRY_VERIFY_WITH_TIMEOUT(cpu->drawnPointCount(QStringLiteral("total")) > 0, Test::scaledMs(10000));
        const auto before = cpu->pointCount(QStringLiteral("total"));
        QTRY_VERIFY_WITH_TIMEOUT(cpu->pointCount(QStringLiteral("total")) >= before + 3,
                                 Test::scaledMs(20000));
        QCOMPARE(status->text(), QStringLiteral("Running")); // it filled while the run was live
        // The run's own metric is charted above, not among the system ones; sys/ keys are not charted there.
        QTRY_VERIFY(page->chart(QStringLiteral("value")));
        QVERIFY(!page->chart(QStringLiteral("sys/cpu")));
        QVERIFY(page->systemSection()->y() > page->chart(QStringLiteral("value"))->parentWidget()->y());
        // The stand-in's GPU 0 holds the run's process: its charts are there; GPU 1 is not the run's.
        QVERIFY(section->chart(QStringLiteral("gpu0/mem_mb")));
        QVERIFY(!section->chart(QStringLiteral("gpu1/util")));
        // The header sums the run up.
        auto* summary = page->findChild<QLabel*>(QStringLiteral("runSystemSummary"));
        QTRY_VERIFY(summary->text().contains(QStringLiteral("peak memory")));
        QVERIFY2(summary->text().contains(QStringLiteral("mean CPU")) &&
                     summary->text().contains(QStringLiteral("GPU 0 at 73%")),
                 qPrintable(summary->text()));
        Test::shot(&window, "system-section");

        // The heading folds the charts away and back.
        auto* toggle = section->findChild<QToolButton*>(QStringLiteral("systemToggle"));
        QTest::mouseClick(toggle, Qt::LeftButton);
        QVERIFY(!cpu->isVisible());
        QTest::mouseClick(toggle, Qt::LeftButton);
        QVERIFY(cpu->isVisible());

        // The run ends: the samples stop, and the chart holds every one kilnd stored (none taken after the
        // end: their times say so, no waiting needed).
        QFile(release).open(QIODevice::WriteOnly);
        QTRY_COMPARE_WITH_TIMEOUT(status->text(), QStringLiteral("Completed"), Test::scaledMs(30000));
        const auto run = ws.client().run(id);
        const auto samples = ws.client().history(id, "sys/cpu");
        QVERIFY(samples.size() >= std::size_t(before + 3));
        for (const double t : samples.timestamps)
            QVERIFY2(t <= run["ended"].get<double>(), qPrintable(QString::number(t, 'f', 3)));
        QTRY_COMPARE_WITH_TIMEOUT(cpu->pointCount(QStringLiteral("total")), qsizetype(samples.size()),
                                  Test::scaledMs(10000));

        // The runs table shows the run's peak memory and mean CPU as columns (Columns > System).
        auto* browser = window.findChild<Ui::WorkspaceBrowser*>();
        browser->showTable(true);
        auto* model = qobject_cast<Ui::RunsTableModel*>(browser->table()->model());
        QVERIFY(model);
        QTRY_COMPARE(model->rowCount(), 1);
        auto* menu = browser->columnsMenu();
        // The choices are the keys kilnd knows for the experiment's runs: they come in after the table shows.
        QTRY_VERIFY_WITH_TIMEOUT(
            (QMetaObject::invokeMethod(menu, "aboutToShow"),
             menu->findChild<QAction*>(QStringLiteral("column:metrics.value")) != nullptr),
            Test::scaledMs(10000));
        QMetaObject::invokeMethod(menu, "aboutToShow");
        auto* system = menu->findChild<QMenu*>(QStringLiteral("systemMenu"));
        QVERIFY(system);
        for (const char* field : {"column:metrics.sys/peak_rss_mb", "column:metrics.sys/mean_cpu"}) {
            auto* action = system->findChild<QAction*>(QLatin1String(field));
            QVERIFY2(action, field);
            action->trigger();
            QTRY_VERIFY(model->columns().contains(QLatin1String(field).mid(7)));
        }
        // sys/ keys stay out of the Metrics menu.
        auto* metrics = menu->findChild<QMenu*>(QStringLiteral("metricsMenu"));
        QVERIFY(metrics->findChild<QAction*>(QStringLiteral("column:metrics.value")));
        QVERIFY(!metrics->findChild<QAction*>(QStringLiteral("column:metrics.sys/cpu")));
        QVERIFY(system->findChild<QAction*>(QStringLiteral("column:metrics.sys/cpu")));
        const int peak =
            static_cast<int>(model->columns().indexOf(QStringLiteral("metrics.sys/peak_rss_mb")));
        const int mean = static_cast<int>(model->columns().indexOf(QStringLiteral("metrics.sys/mean_cpu")));
        QCOMPARE(model->headerData(peak, Qt::Horizontal).toString(), QStringLiteral("Peak memory (MiB)"));
        QCOMPARE(model->headerData(mean, Qt::Horizontal).toString(), QStringLiteral("Mean CPU (cores)"));
        // The same figures the run page's header gave.
        QTRY_VERIFY(model->index(0, peak).data().toDouble() > 5);
        const double meanCpu = model->index(0, mean).data().toDouble();
        QVERIFY2(meanCpu > 0 && meanCpu < 2.5, qPrintable(QString::number(meanCpu)));
        browser->table()->scrollTo(model->index(0, mean));
        Test::shot(browser->table(), "system-columns");
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestSystemGui>(argc, argv);
}
#include "test_system_gui.moc"
