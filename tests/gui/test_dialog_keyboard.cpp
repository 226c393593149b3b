// Every dialog of the studio, opened from the real main window as a user opens it, used from the keyboard:
// Tab reaches every control, in reading order (top to bottom, left to right, wrapping once to the top), and
// every control has an accessible name (its own, its label's, or its text) for a screen reader.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "models/ModelsPage.h"
#include "models/QuickRegister.h"
#include "models/RegisterModelDialog.h"
#include "runs/RunPage.h"
#include "TestSupport.h"
#include "workspace/AssetVersionsModel.h"
#include "workspace/WorkspaceConnection.h"

#include <QAbstractSpinBox>
#include <QAccessible>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QMenu>
#include <QPushButton>
#include <QStandardPaths>
#include <QTest>
#include <QToolButton>

using namespace Kiln;

class TestDialogKeyboard : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    std::unique_ptr<Ui::MainWindow> m_window;
    QTemporaryDir m_tmp;
    qint64 m_run = 0;

    // The widget a user is on: an editable combo box's or spin box's inner line edit counts as the box.
    static QWidget* control(QWidget* w) {
        for (auto* p = w; p; p = p->parentWidget())
            if (qobject_cast<QComboBox*>(p) || qobject_cast<QAbstractSpinBox*>(p))
                return p;
        return w;
    }
    static QString describe(QWidget* w) {
        return QStringLiteral("%1 '%2'").arg(QString::fromLatin1(w->metaObject()->className()),
                                             w->objectName().isEmpty() ? w->accessibleName()
                                                                       : w->objectName());
    }
    static QString accessibleName(QWidget* w) {
        auto* iface = QAccessible::queryAccessibleInterface(w);
        return iface ? iface->text(QAccessible::Name) : QString();
    }

    // Presses Tab through `dialog` from where its focus starts, and reports what a keyboard user would trip
    // on.
    static QStringList keyboardProblems(QDialog* dialog) {
        QStringList problems;
        QList<QWidget*> controls;
        for (auto* w : dialog->findChildren<QWidget*>()) {
            if (w->isVisibleTo(dialog) && w->isEnabled() && (w->focusPolicy() & Qt::TabFocus) &&
                !w->focusProxy() && control(w) == w && w->window() == dialog)
                controls << w;
        }
        if (controls.isEmpty())
            return {QStringLiteral("no control takes the keyboard focus")};
        QList<QWidget*> visited;
        auto* first = QApplication::focusWidget() ? control(QApplication::focusWidget()) : nullptr;
        if (!first || first->window() != dialog)
            problems << QStringLiteral("the focus does not start inside the dialog");
        int backwards = 0;
        QWidget* previous = nullptr;
        for (int i = 0; i < 200; ++i) {
            auto* now = QApplication::focusWidget() ? control(QApplication::focusWidget()) : nullptr;
            if (!now)
                break;
            if (visited.contains(now))
                break; // a full cycle
            visited << now;
            if (previous) {
                // Reading order: the next control is not above the previous one (one wrap to the top is fine)
                // or, on the same line, not to its left.
                const auto a = previous->mapTo(dialog, QPoint(0, 0));
                const auto b = now->mapTo(dialog, QPoint(0, 0));
                const bool sameLine = std::abs(a.y() - b.y()) < 8;
                if ((!sameLine && b.y() < a.y()) || (sameLine && b.x() < a.x()))
                    ++backwards;
            }
            previous = now;
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        }
        // Back to the first: the one wrap to the top (counted, so a second jump back fails).
        if (visited.size() > 1) {
            const auto a = visited.last()->mapTo(dialog, QPoint(0, 0));
            const auto b = visited.first()->mapTo(dialog, QPoint(0, 0));
            if (b.y() < a.y() - 8 || (std::abs(a.y() - b.y()) < 8 && b.x() < a.x()))
                ++backwards;
        }
        if (qEnvironmentVariableIsSet("KILN_TAB_ORDER")) {
            QStringList order;
            for (auto* w : visited)
                order << describe(w);
            qInfo().noquote() << dialog->objectName() << backwards << order.join(QStringLiteral(" -> "));
        }
        if (backwards > 1)
            problems << QStringLiteral("Tab jumps back %1 times: %2").arg(backwards).arg([&] {
                QStringList order;
                for (auto* w : visited)
                    order << describe(w);
                return order.join(QStringLiteral(" -> "));
            }());
        for (auto* w : controls) {
            if (!visited.contains(w))
                problems << QStringLiteral("Tab never reaches %1").arg(describe(w));
            if (accessibleName(w).trimmed().isEmpty())
                problems << QStringLiteral("%1 has no accessible name").arg(describe(w));
        }
        return problems;
    }

    QDialog* dialogNamed(const char* name) {
        QDialog* dialog = nullptr;
        if (!QTest::qWaitFor(
                [&] {
                    return (dialog = m_window->findChild<QDialog*>(QLatin1String(name))) &&
                           dialog->isVisible();
                },
                20000))
            return nullptr;
        QTest::qWait(100); // its first contents
        return dialog;
    }
    void check(QDialog* dialog) {
        QVERIFY(dialog);
        QVERIFY(QTest::qWaitForWindowActive(dialog));
        const auto problems = keyboardProblems(dialog);
        QVERIFY2(problems.isEmpty(), qPrintable(dialog->objectName() + QStringLiteral(": ") +
                                                problems.join(QStringLiteral("\n  "))));
        dialog->close();
        m_window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    }
    void trigger(const char* action) { m_window->findChild<QAction*>(QLatin1String(action))->trigger(); }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_ws = std::make_unique<Test::Workspace>();
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("model.py")});
        auto r =
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                        QStringLiteral("keys"), QStringLiteral("--source"), source,
                        QStringLiteral("--script"), QStringLiteral("model.py"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        m_run = r.json()["id"].get<qint64>();
        QCOMPARE(m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(m_run)}).exitCode,
                 0);
        QCOMPARE(m_ws->kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                             QString::number(m_run), QStringLiteral("--name"), QStringLiteral("keys"),
                             QStringLiteral("--path"), QStringLiteral("outputs/model")})
                     .exitCode,
                 0);
        m_window = std::make_unique<Ui::MainWindow>(m_ws->path());
        m_window->resize(1280, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        QTRY_COMPARE_WITH_TIMEOUT(m_window->connection().state(), Ui::WorkspaceConnection::State::Connected,
                                  20000);
    }
    void cleanupTestCase() {
        m_window.reset();
        m_ws.reset();
    }

    void windowDialogs() {
        trigger("actionNewRun");
        check(dialogNamed("submitDialog"));
        trigger("actionOpenWorkspace");
        check(dialogNamed("openWorkspaceDialog"));
        trigger("actionSettings");
        check(dialogNamed("settingsDialog"));
        trigger("actionShortcuts");
        check(dialogNamed("shortcutsDialog"));
        trigger("actionGuide");
        check(dialogNamed("guideWindow"));
    }

    void panelDialogs() {
        m_window->showDatasets();
        QTRY_VERIFY(m_window->findChild<QPushButton*>(QStringLiteral("emptyRegisterDataset")));
        QTRY_VERIFY(m_window->findChild<QPushButton*>(QStringLiteral("emptyRegisterDataset"))->isVisible());
        QTest::mouseClick(m_window->findChild<QPushButton*>(QStringLiteral("emptyRegisterDataset")),
                          Qt::LeftButton);
        check(dialogNamed("registerDatasetDialog"));

        m_window->showCompute();
        QTest::mouseClick(m_window->findChild<QPushButton*>(QStringLiteral("newCompute")), Qt::LeftButton);
        check(dialogNamed("newComputeDialog"));

        auto* models = m_window->showModels();
        QTRY_VERIFY_WITH_TIMEOUT(models->model()->rowCount() > 0, 20000);
        models->select(QStringLiteral("keys"), 1);
        QTRY_VERIFY_WITH_TIMEOUT(!models->shown().is_null() && models->shown()["name"] == "keys", 20000);
        QTest::mouseClick(models->findChild<QPushButton*>(QStringLiteral("modelDownload")), Qt::LeftButton);
        check(dialogNamed("downloadDialog"));
    }

    void runDialogs() {
        auto* page = m_window->openRun(m_run);
        QTRY_VERIFY_WITH_TIMEOUT(page->registerModelButton()->isEnabled(), 20000);
        page->registerModel();
        QTRY_VERIFY(m_window->findChild<Ui::RegisterModelDialog*>()->pathBox()->count() > 0);
        check(dialogNamed("registerModelDialog"));

        QTest::mouseClick(page->registerModelButton(), Qt::LeftButton, {}, QPoint(8, 8));
        Ui::QuickRegister* quick = nullptr;
        QTRY_VERIFY((quick = page->findChild<Ui::QuickRegister*>()) && quick->loaded());
        check(quick);

        QTest::mouseClick(page->findChild<QPushButton*>(QStringLiteral("sweepRun")), Qt::LeftButton);
        check(dialogNamed("newSweepDialog"));
    }
};

int main(int argc, char** argv) {
    return Kiln::Test::runGuiTest<TestDialogKeyboard>(argc, argv);
}

#include "test_dialog_keyboard.moc"
