// The command palette (Ctrl+K), offscreen on the real main window: it finds a run by part of its name and
// opens it, jumps to a dataset, and runs an action, all from the keyboard; next/previous tab shortcuts too.
#include "app/CommandPalette.h"
#include "app/MainWindow.h"
#include "datasets/DatasetsPage.h"
#include "GuiHelpers.h"
#include "models/ModelsPage.h"
#include "runs/RunPage.h"
#include "runs/RunTreeModel.h"
#include "TestSupport.h"
#include "workspace/AssetVersionsModel.h"
#include "workspace/WorkspaceConnection.h"

#include <QListWidget>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <QTreeView>

using namespace Kiln;

class TestPaletteGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QList<qint64> m_runs;

    Ui::CommandPalette* openPalette(Ui::MainWindow& window) {
        // The previous palette deletes itself once closed; wait for that, then Ctrl+K.
        for (int i = 0; i < 100 && window.findChild<Ui::CommandPalette*>(); ++i)
            QTest::qWait(20);
        if (window.findChild<Ui::CommandPalette*>())
            return nullptr;
        window.activateWindow();
        for (int i = 0; i < 100 && !window.isActiveWindow(); ++i)
            QTest::qWait(20);
        QTest::keyClick(&window, Qt::Key_K, Qt::ControlModifier);
        Ui::CommandPalette* palette = nullptr;
        for (int i = 0; i < 100 && !(palette = window.findChild<Ui::CommandPalette*>()); ++i)
            QTest::qWait(20);
        return palette;
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("curve.py")});
        for (const auto& experiment : {QStringLiteral("baseline"), QStringLiteral("wider-layers")}) {
            auto r =
                m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                            experiment, QStringLiteral("--source"), source, QStringLiteral("--script"),
                            QStringLiteral("curve.py"), QStringLiteral("--json"), QStringLiteral("--"),
                            QStringLiteral("--points"), QStringLiteral("5")});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
            m_runs << r.json()["id"].get<qint64>();
        }
        auto data = m_tmp.filePath(QStringLiteral("data.csv"));
        QFile f(data);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("a,b\n1,2\n");
        f.close();
        QCOMPARE(m_ws->kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                             QStringLiteral("iris-sample"), QStringLiteral("--path"), data})
                     .exitCode,
                 0);
    }
    void cleanupTestCase() { m_ws.reset(); }

    void findsARunByPartOfItsNameAndOpensIt() {
        Ui::MainWindow window(m_ws->path());
        window.resize(1200, 800);
        window.show();
        window.activateWindow();
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
        QTRY_COMPARE_WITH_TIMEOUT(window.runModel().runCount(), 2, 20000);

        auto* palette = openPalette(window);
        QVERIFY(palette);
        QTest::keyClicks(palette->input(), QStringLiteral("wider #2"));
        QTRY_VERIFY(palette->list()->count() >= 1);
        QVERIFY2(
            palette->list()->item(0)->text().startsWith(QStringLiteral("wider-layers #%1").arg(m_runs[1])),
            qPrintable(palette->list()->item(0)->text()));
        if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
            palette->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QStringLiteral("/palette.png"));
        QTest::keyClick(palette->input(), Qt::Key_Return);
        QTRY_VERIFY(window.currentRunPage() && window.currentRunPage()->runId() == m_runs[1]);

        // A dataset, once the workspace's lists have arrived; the arrow keys move the selection.
        palette = openPalette(window);
        QVERIFY(palette);
        QTest::keyClicks(palette->input(), QStringLiteral("iris"));
        QTRY_VERIFY_WITH_TIMEOUT(palette->list()->count() >= 1 && palette->list()->item(0)->text().startsWith(
                                                                      QStringLiteral("iris-sample")),
                                 10000);
        QTest::keyClick(palette->input(), Qt::Key_Down);
        QTest::keyClick(palette->input(), Qt::Key_Up);
        QCOMPARE(palette->list()->currentRow(), 0);
        QTest::keyClick(palette->input(), Qt::Key_Return);
        Ui::DatasetsPage* datasets = nullptr;
        QTRY_VERIFY((datasets = window.findChild<Ui::DatasetsPage*>()) && datasets->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(
            datasets->tree()->currentIndex().data(Ui::AssetVersionsModel::NameRole).toString() ==
                QStringLiteral("iris-sample"),
            10000);

        // An action: the Models panel.
        palette = openPalette(window);
        QVERIFY(palette);
        QTest::keyClicks(palette->input(), QStringLiteral("models"));
        QTRY_VERIFY(palette->list()->count() >= 1);
        QTest::keyClick(palette->input(), Qt::Key_Return);
        QTRY_VERIFY(window.findChild<Ui::ModelsPage*>() && window.findChild<Ui::ModelsPage*>()->isVisible());

        // Alt+Up / Alt+Down: the previous and next run, in the browser's order.
        window.openRun(m_runs[1]);
        QTest::keyClick(&window, Qt::Key_Up, Qt::AltModifier);
        QTRY_VERIFY(window.currentRunPage() && window.currentRunPage()->runId() == m_runs[0]);
        QTest::keyClick(&window, Qt::Key_Down, Qt::AltModifier);
        QTRY_VERIFY(window.currentRunPage() && window.currentRunPage()->runId() == m_runs[1]);

        // Ctrl+Page Up / Down go through the tabs.
        auto* tabs = window.findChild<QTabWidget*>();
        const int before = tabs->currentIndex();
        QTest::keyClick(&window, Qt::Key_PageUp, Qt::ControlModifier);
        QCOMPARE(tabs->currentIndex(), (before + tabs->count() - 1) % tabs->count());
        QTest::keyClick(&window, Qt::Key_PageDown, Qt::ControlModifier);
        QCOMPARE(tabs->currentIndex(), before);
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestPaletteGui>(argc, argv);
}
#include "test_palette_gui.moc"
