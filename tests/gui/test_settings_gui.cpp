// The settings dialog, offscreen on the real main window: switching the theme to dark (and back to light)
// changes the palette the run's charts paint with, notifications can be switched off, and a new run's
// submission dialog starts from the default experiment and compute target.
#include "app/MainWindow.h"
#include "app/SettingsDialog.h"
#include "app/Theme.h"
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/SubmitDialog.h"
#include "TestSupport.h"
#include "workspace/WorkspaceConnection.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QTest>

using namespace Kiln;

class TestSettingsGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    std::int64_t m_run = 0;

    static Ui::SettingsDialog* openSettings(Ui::MainWindow& window) {
        Test::clickToolbar(window, "actionSettings");
        Ui::SettingsDialog* dialog = nullptr;
        for (int i = 0;
             i < 100 && !((dialog = window.findChild<Ui::SettingsDialog*>()) && dialog->isVisible()); ++i)
            QTest::qWait(20);
        return dialog;
    }
    static QColor chartBackground(Ui::MetricChart* chart) {
        return chart->grab().toImage().pixelColor(5, chart->height() / 2); // left margin: the chart's base
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("curve.py")});
        auto r =
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                        QStringLiteral("themes"), QStringLiteral("--source"), source,
                        QStringLiteral("--script"), QStringLiteral("curve.py"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        m_run = r.json()["id"].get<std::int64_t>();
        QCOMPARE(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(m_run)}).exitCode,
                 0);
        QCOMPARE(m_ws->kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                             QStringLiteral("gpu-box"), QStringLiteral("--max-nodes"), QStringLiteral("1")})
                     .exitCode,
                 0);
    }
    void cleanupTestCase() {
        Ui::Theme::apply(Ui::Theme::Choice::System);
        m_ws.reset();
    }

    void themeSwitchRepaintsTheCharts() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1200, 800);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* page = window.openRun(m_run);
        Ui::MetricChart* chart = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((chart = page->chart(QStringLiteral("loss"))) != nullptr, 20000);

        for (auto [choice, dark] :
             {std::pair{Ui::Theme::Choice::Dark, true}, std::pair{Ui::Theme::Choice::Light, false}}) {
            auto* dialog = openSettings(window);
            QVERIFY(dialog);
            auto* theme = dialog->themeBox();
            theme->setCurrentIndex(theme->findData(static_cast<int>(choice)));
            QTest::mouseClick(dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok),
                              Qt::LeftButton);
            QTRY_COMPARE(Ui::Theme::current(), choice);
            QTRY_VERIFY((chart->palette().color(QPalette::Base).lightness() < 80) == dark);
            const auto painted = chartBackground(chart);
            QVERIFY2((painted.lightness() < 80) == dark, qPrintable(painted.name()));
            QCOMPARE(painted, chart->palette().color(QPalette::Base));
            QCOMPARE(Ui::Theme::saved(), choice); // remembered for the next start
        }
    }

    void notificationsSwitchAndRunDefaults() {
        Ui::MainWindow window(m_ws->path());
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        auto* dialog = openSettings(window);
        QVERIFY(dialog);
        dialog->notificationsBox()->setChecked(false);
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            dialog->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QStringLiteral("/settings.png"));
        auto edits = dialog->findChildren<QLineEdit*>();
        QCOMPARE(edits.size(), 3); // experiment, compute, environment
        edits[0]->setText(QStringLiteral("nightly"));
        edits[1]->setText(QStringLiteral("gpu-box"));
        for (auto* box : dialog->findChildren<QCheckBox*>())
            if (box->text() == QStringLiteral("Logarithmic y-axis"))
                box->setChecked(true); // a chart default
        QTest::mouseClick(dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok),
                          Qt::LeftButton);
        QTRY_VERIFY(!window.findChild<QAction*>(QStringLiteral("actionNotifications"))->isChecked());
        Test::clickToolbar(window, "actionNewRun");
        Ui::SubmitDialog* submit = nullptr;
        QTRY_VERIFY((submit = window.findChild<Ui::SubmitDialog*>()) && submit->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(submit->compute(), QStringLiteral("gpu-box"), 10000);
        QCOMPARE(submit->experiment(), QStringLiteral("nightly"));
        // A chart nobody set up starts from the chart defaults.
        Ui::ChartPanel fresh(QStringLiteral("loss"));
        fresh.setSettingsKey(QStringLiteral("never-seen/loss"));
        QVERIFY(fresh.chart()->logY());
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestSettingsGui>(argc, argv);
}
#include "test_settings_gui.moc"
