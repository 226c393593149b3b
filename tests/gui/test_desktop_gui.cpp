// The studio as a desktop application, offscreen on the real main window: every action is in the menu bar
// (reached by keyboard through the menus' mnemonics), no two actions share a key, the toolbar has icons (the
// bundled SVGs when the desktop has no theme), Help opens the shortcuts sheet, the guide (the README, with
// its screenshots) and About; the status bar counts runs in progress; window geometry and splitters come back
// as they were left.
#include "api/Client.h"
#include "app/GuideWindow.h"
#include "app/MainWindow.h"
#include "app/ShortcutsDialog.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "TestSupport.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTextDocument>
#include <QToolBar>
#include <QTreeWidget>

using namespace Kiln;

class TestDesktopGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;

    static QList<QAction*> menuActions(QMenuBar* bar) {
        QList<QAction*> out;
        std::function<void(QMenu*)> walk = [&](QMenu* menu) {
            Q_EMIT menu->aboutToShow(); // menus filled as they open (Run, Open recent) fill now
            for (auto* a : menu->actions()) {
                if (a->menu())
                    walk(a->menu());
                else if (!a->isSeparator())
                    out << a;
            }
        };
        for (auto* top : bar->actions())
            if (top->menu())
                walk(top->menu());
        return out;
    }

    static std::unique_ptr<Ui::MainWindow> connectedWindow(const QString& ws) {
        auto window = std::make_unique<Ui::MainWindow>(ws);
        window->show();
        if (!QTest::qWaitForWindowActive(window.get()))
            return nullptr;
        const bool connected = QTest::qWaitFor(
            [&] { return window->connection().state() == Ui::WorkspaceConnection::State::Connected; }, 20000);
        return connected ? std::move(window) : nullptr;
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void everyActionIsInTheMenusWithItsOwnKeys() {
        auto window = connectedWindow(m_ws->path());
        QVERIFY(window);
        auto* bar = window->menuBar();
        QStringList titles;
        for (auto* top : bar->actions())
            titles << top->text();
        QCOMPARE(titles,
                 (QStringList{QStringLiteral("&File"), QStringLiteral("&Edit"), QStringLiteral("&View"),
                              QStringLiteral("&Run"), QStringLiteral("&Help")}));
        const auto inMenus = menuActions(bar);
        // Every toolbar button is in a menu too, and has an icon.
        auto* toolbar = window->findChild<QToolBar*>(QStringLiteral("mainToolbar"));
        int buttons = 0;
        for (auto* a : toolbar->actions()) {
            if (a->isSeparator())
                continue;
            ++buttons;
            QVERIFY2(inMenus.contains(a), qPrintable(a->text()));
            QVERIFY2(!a->icon().isNull(), qPrintable(a->text()));
            QVERIFY2(!a->icon().pixmap(20, 20).isNull(), qPrintable(a->text()));
        }
        QCOMPARE(buttons, 9);
        // Every key of the window's actions (and the runs views' own F2, Del, Ctrl+T) means one thing only.
        QHash<QString, QString> owner;
        QList<QAction*> all = window->findChildren<QAction*>();
        for (auto* a : std::as_const(all)) {
            for (const auto& key : a->shortcuts()) {
                const auto k = key.toString();
                QVERIFY2(
                    !owner.contains(k) || owner[k] == a->text(),
                    qPrintable(k + QStringLiteral(": ") + owner[k] + QStringLiteral(" and ") + a->text()));
                owner[k] = a->text();
            }
        }
        for (const char* key : {"Ctrl+N", "Ctrl+O", "Ctrl+Q", "Ctrl+F", "Ctrl+K", "Ctrl+B", "Ctrl+Shift+T",
                                "F5", "Ctrl+Shift+M", "Alt+Down", "F1", "Ctrl+/", "F2", "Del", "Ctrl+T"})
            QVERIFY2(owner.contains(QLatin1String(key)), key);
        // The Run menu shows the selection's entries with the keys the runs view owns.
        QVERIFY(std::any_of(inMenus.begin(), inMenus.end(), [](QAction* a) {
            return a->objectName() == QLatin1String("actionRegisterModel");
        }));

        // Keyboard only: Alt+V opens View, M picks Models.
        QTest::keyClick(window.get(), Qt::Key_V, Qt::AltModifier);
        QMenu* popup = nullptr;
        QTRY_VERIFY((popup = qobject_cast<QMenu*>(QApplication::activePopupWidget())));
        QCOMPARE(popup->objectName(), QStringLiteral("menuView"));
        QTest::keyClick(popup, Qt::Key_M);
        auto* tabs = window->findChild<QTabWidget*>(QStringLiteral("runTabs"));
        QTRY_COMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("Models"));
        // Ctrl+B hides and shows the workspace browser.
        auto* dock = window->findChild<QDockWidget*>(QStringLiteral("workspaceDock"));
        QVERIFY(dock->isVisible());
        QTest::keyClick(window.get(), Qt::Key_B, Qt::ControlModifier);
        QTRY_VERIFY(!dock->isVisible());
        QTest::keyClick(window.get(), Qt::Key_B, Qt::ControlModifier);
        QTRY_VERIFY(dock->isVisible());
        Test::shot(window.get(), "desktop-menus");
    }

    void helpShowsShortcutsGuideAndAbout() {
        auto window = connectedWindow(m_ws->path());
        QVERIFY(window);
        // Ctrl+/ : the sheet lists the menus' keys and the keys that work in one place; the filter narrows
        // it.
        QTest::keyClick(window.get(), Qt::Key_Slash, Qt::ControlModifier);
        Ui::ShortcutsDialog* sheet = nullptr;
        QTRY_VERIFY((sheet = window->findChild<Ui::ShortcutsDialog*>()) && sheet->isVisible());
        auto rowWith = [&](const QString& action) -> QTreeWidgetItem* {
            for (int i = 0; i < sheet->list()->topLevelItemCount(); ++i)
                if (sheet->list()->topLevelItem(i)->text(0) == action)
                    return sheet->list()->topLevelItem(i);
            return nullptr;
        };
        QVERIFY(rowWith(QStringLiteral("Models")));
        QCOMPARE(rowWith(QStringLiteral("Models"))->text(1), QStringLiteral("Ctrl+Shift+M"));
        QCOMPARE(rowWith(QStringLiteral("New run"))->text(1), QStringLiteral("Ctrl+N"));
        QCOMPARE(rowWith(QStringLiteral("Rename the run"))->text(1), QStringLiteral("F2"));
        Test::shot(sheet, "shortcuts");
        QTest::keyClicks(sheet->filter(), QStringLiteral("tag"));
        QVERIFY(!rowWith(QStringLiteral("Add a tag to the selected runs"))->isHidden());
        QVERIFY(rowWith(QStringLiteral("Models"))->isHidden());
        QTest::keyClick(sheet, Qt::Key_Escape);
        QTRY_VERIFY(!window->findChild<Ui::ShortcutsDialog*>());

        // F1: the README, rendered, its screenshots loaded from the bundle.
        window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window.get()));
        QTest::keyClick(window.get(), Qt::Key_F1);
        Ui::GuideWindow* guide = nullptr;
        QTRY_VERIFY((guide = window->findChild<Ui::GuideWindow*>()) && guide->isVisible());
        QVERIFY(guide->text()->toPlainText().contains(QStringLiteral("Kiln")));
        const auto image = guide->text()->document()->resource(
            QTextDocument::ImageResource, QUrl(QStringLiteral("resources/screenshots/studio.png")));
        QVERIFY2(image.isValid() && !image.value<QImage>().isNull(),
                 "the README's screenshot is not bundled");
        guide->close();

        // About names the version and the workspace.
        window->findChild<QAction*>(QStringLiteral("actionAbout"))->trigger();
        QMessageBox* about = nullptr;
        QTRY_VERIFY((about = window->findChild<QMessageBox*>(QStringLiteral("aboutBox"))) &&
                    about->isVisible());
        QVERIFY(about->text().contains(QStringLiteral(KILN_VERSION)));
        QVERIFY(about->text().contains(m_ws->path()));
        about->close();
    }

    void statusBarCountsRunsInProgress() {
        auto window = connectedWindow(m_ws->path());
        QVERIFY(window);
        auto* live = window->findChild<QLabel*>(QStringLiteral("liveRuns"));
        QTRY_COMPARE_WITH_TIMEOUT(live->text(), QStringLiteral("No run in progress"), 20000);
        // A run held until a file exists: "1 running" while it runs, back to none once it ends.
        const auto hold = m_tmp.filePath(QStringLiteral("release"));
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("slow.py")});
        auto r = m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("desk"), QStringLiteral("--source"), source,
                             QStringLiteral("--script"), QStringLiteral("slow.py"), QStringLiteral("--json"),
                             QStringLiteral("--"), QStringLiteral("--seconds"), QStringLiteral("0"),
                             QStringLiteral("--until"), hold});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QTRY_COMPARE_WITH_TIMEOUT(live->text(), QStringLiteral("1 running"), 30000);
        QFile(hold).open(QIODevice::WriteOnly);
        QTRY_COMPARE_WITH_TIMEOUT(live->text(), QStringLiteral("No run in progress"), 30000);
    }

    void geometryAndSplittersComeBack() {
        const auto runs = m_ws->client().get("/api/v1/runs");
        QVERIFY(!runs.empty()); // (the run of the test before)
        const auto runId = runs[0]["id"].get<qint64>();
        QList<int> sizes;
        QSettings().remove(QStringLiteral("splitters/run")); // (test-mode settings outlive the process)
        {
            auto window = connectedWindow(m_ws->path());
            QVERIFY(window);
            window->resize(1111, 777);
            auto* page = window->openRun(runId);
            auto* split = page->findChild<QSplitter*>(QStringLiteral("runSplitter"));
            QTRY_VERIFY(split->height() > 300);
            // Drag the handle between the charts and the output: down by 50 pixels if the output has room,
            // else up (the charts keep a minimum height).
            const auto before = split->sizes();
            const int dy = before[1] > 150 ? 50 : -50;
            auto* handle = split->handle(1);
            const QPoint from = handle->rect().center();
            QTest::mousePress(handle, Qt::LeftButton, {}, from);
            QTest::mouseMove(handle, from + QPoint(0, dy));
            QTest::mouseRelease(handle, Qt::LeftButton, {}, from + QPoint(0, dy));
            sizes = split->sizes();
            QVERIFY2(std::abs(sizes[1] - before[1]) > 25,
                     qPrintable(QStringLiteral("%1 -> %2").arg(before[1]).arg(sizes[1])));
            window->close();
        }
        auto window = connectedWindow(m_ws->path());
        QVERIFY(window);
        QCOMPARE(window->size(), QSize(1111, 777));
        Ui::RunPage* page = nullptr; // reopened, as it was left open
        QTRY_VERIFY_WITH_TIMEOUT((page = window->currentRunPage()) && page->runId() == runId, 20000);
        auto* split = page->findChild<QSplitter*>(QStringLiteral("runSplitter"));
        QTRY_COMPARE(split->sizes(), sizes);
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestDesktopGui>(argc, argv);
}

#include "test_desktop_gui.moc"
