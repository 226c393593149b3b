// MainWindow's actions: the menu bar, the toolbar and the window's keys (createActions), and About. Kept
// apart from MainWindow.cpp, which lays out the window and runs its panels.
#include "MainWindow.h"

#include "app/GuideWindow.h"
#include "app/Icons.h"
#include "app/SettingsDialog.h"
#include "app/ShortcutsDialog.h"
#include "app/WelcomePage.h"
#include "runs/RunPage.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>

namespace Kiln::Ui {

// Every action of the window, in the menu bar (with its keys shown), the main ones also in the toolbar with
// an icon. Window-wide keys live here; the runs views' own keys (F2, Del, Ctrl+T) stay theirs and the Run
// menu only shows them.
void MainWindow::createActions() {
    auto make = [this](const QString& text, const char* name, const QKeySequence& keys, auto&& slot,
                       const QString& icon = {}, const QString& tip = {}) {
        auto* action = new QAction(text, this);
        action->setObjectName(QLatin1String(name));
        if (!keys.isEmpty())
            action->setShortcut(keys);
        if (!icon.isEmpty())
            action->setIcon(Icons::get(icon));
        QString toolTip =
            tip.isEmpty() ? QString(text).remove(QLatin1Char('&')).remove(QStringLiteral("…")) : tip;
        if (!keys.isEmpty())
            toolTip += QStringLiteral(" (%1)").arg(keys.toString(QKeySequence::NativeText));
        action->setToolTip(toolTip);
        connect(action, &QAction::triggered, this, std::forward<decltype(slot)>(slot));
        addAction(action); // keys work wherever the focus is in the window
        return action;
    };
    const auto ctrlShift = [](Qt::Key key) { return QKeySequence(Qt::CTRL | Qt::SHIFT | key); };
    // The platform's key for a standard action, or the usual one where the platform names none.
    const auto standard = [](QKeySequence::StandardKey key, QKeyCombination usual) {
        const auto keys = QKeySequence::keyBindings(key);
        return keys.isEmpty() ? QKeySequence(usual) : keys.first();
    };

    // File
    auto* newRun = make(
        tr("&New run…"), "actionNewRun", standard(QKeySequence::New, Qt::CTRL | Qt::Key_N),
        [this] { this->newRun(); }, QStringLiteral("media-playback-start"), tr("Submit a run"));
    auto* sample = make(tr("Run the Fashion-MNIST &sample"), "actionRunSample", {}, [this] { runSample(); });
    auto* open =
        make(tr("&Open workspace…"), "actionOpenWorkspace",
             standard(QKeySequence::Open, Qt::CTRL | Qt::Key_O), [this] {
                 auto* dialog = new OpenWorkspaceDialog(this);
                 dialog->setAttribute(Qt::WA_DeleteOnClose);
                 connect(dialog, &QDialog::accepted, this, [dialog] { openWorkspace(dialog->workspace()); });
                 dialog->open();
             });
    auto* settings = make(
        tr("&Settings…"), "actionSettings", QKeySequence(Qt::CTRL | Qt::Key_Comma),
        [this] {
            auto* dialog = new SettingsDialog(this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            connect(dialog, &SettingsDialog::applied, this, [this] {
                m_notifyAction->setChecked(
                    QSettings().value(QStringLiteral("notifications/enabled"), true).toBool());
            });
            dialog->open();
        },
        QStringLiteral("preferences-system"), tr("Theme, notifications and defaults for new runs"));
    auto* closeTab =
        make(tr("&Close tab"), "actionCloseTab", standard(QKeySequence::Close, Qt::CTRL | Qt::Key_W), [this] {
            if (m_tabs->currentIndex() >= 0)
                Q_EMIT m_tabs->tabCloseRequested(m_tabs->currentIndex());
        });
    closeTab->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_W), QKeySequence(Qt::CTRL | Qt::Key_F4)});
    auto* quit = make(tr("&Quit"), "actionQuit", standard(QKeySequence::Quit, Qt::CTRL | Qt::Key_Q),
                      [this] { close(); });

    // Edit
    auto* find =
        make(tr("&Find run"), "actionFind", standard(QKeySequence::Find, Qt::CTRL | Qt::Key_F), [this] {
            m_dock->show();
            m_browser->filter()->setFocus();
            m_browser->filter()->selectAll();
        });
    auto* palette = make(tr("&Go to anything…"), "actionPalette", QKeySequence(Qt::CTRL | Qt::Key_K),
                         [this] { showCommandPalette(); });

    // View
    // (The dock's own toggle action stays disabled: the dock has no close button.)
    auto* browser = make(tr("&Workspace browser"), "actionBrowser", QKeySequence(Qt::CTRL | Qt::Key_B),
                         [this](bool on) { m_dock->setVisible(on); });
    browser->setCheckable(true);
    browser->setChecked(true);
    // (Not through `this`: the dock says it is hidden while ~QWidget destroys it, the MainWindow already
    // gone.)
    connect(m_dock, &QDockWidget::visibilityChanged, browser,
            [dock = m_dock, browser] { browser->setChecked(dock->isVisible()); });
    auto* table = make(tr("Runs as a &table"), "actionRunsTable", ctrlShift(Qt::Key_T),
                       [this](bool on) { m_browser->showTable(on); });
    table->setCheckable(true);
    table->setChecked(m_browser->tableShown());
    connect(m_browser, &WorkspaceBrowser::tableShownChanged, table, &QAction::setChecked);
    auto* archived = make(tr("Show &archived runs"), "actionShowArchived", {},
                          [this](bool on) { m_browser->showArchivedBox()->setChecked(on); });
    archived->setCheckable(true);
    connect(m_browser->showArchivedBox(), &QCheckBox::toggled, archived, &QAction::setChecked);
    auto* datasets = make(
        tr("&Datasets"), "actionDatasets", ctrlShift(Qt::Key_D), [this] { showDatasets(); },
        QStringLiteral("x-office-spreadsheet"), tr("Registered datasets"));
    auto* environments = make(
        tr("&Environments"), "actionEnvironments", ctrlShift(Qt::Key_E), [this] { showEnvironments(); },
        QStringLiteral("utilities-terminal"));
    auto* models = make(
        tr("&Models"), "actionModels", ctrlShift(Qt::Key_M), [this] { showModels(); },
        QStringLiteral("package-x-generic"), tr("Registered models"));
    auto* compute = make(
        tr("C&ompute"), "actionCompute", ctrlShift(Qt::Key_C), [this] { showCompute(); },
        QStringLiteral("computer"), tr("Compute targets"));
    auto* sweeps = make(
        tr("S&weeps"), "actionSweeps", ctrlShift(Qt::Key_W), [this] { showSweeps(); },
        QStringLiteral("media-playlist-shuffle"), tr("Hyperparameter sweeps"));
    auto* compare = make(
        tr("Com&pare"), "actionCompare", ctrlShift(Qt::Key_R),
        [this] { compareRuns(m_browser->selectedRuns()); }, QStringLiteral("view-dual"),
        tr("Compare the runs selected in the workspace browser"));
    compare->setEnabled(false);
    connect(m_browser, &WorkspaceBrowser::selectionChanged, compare,
            [compare](const QList<qint64>& runs) { compare->setEnabled(runs.size() >= 2); });
    auto* nextTab = make(tr("Ne&xt tab"), "actionNextTab", {}, [this] {
        if (m_tabs->count())
            m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) % m_tabs->count());
    });
    nextTab->setShortcuts({QKeySequence::NextChild, QKeySequence(Qt::CTRL | Qt::Key_PageDown)});
    auto* previousTab = make(tr("Pre&vious tab"), "actionPreviousTab", {}, [this] {
        if (m_tabs->count())
            m_tabs->setCurrentIndex((m_tabs->currentIndex() + m_tabs->count() - 1) % m_tabs->count());
    });
    previousTab->setShortcuts({QKeySequence::PreviousChild, QKeySequence(Qt::CTRL | Qt::Key_PageUp)});
    auto* refresh = make(
        tr("&Refresh"), "actionRefresh", standard(QKeySequence::Refresh, Qt::Key_F5),
        [this] { this->refresh(); }, QStringLiteral("view-refresh"), tr("List the workspace again"));

    // Run: the run shown (its page's buttons), the neighbours, then the runs selected in the browser.
    auto pageButton = [this](const char* name) -> QAbstractButton* {
        auto* page = currentRunPage();
        return page ? page->findChild<QAbstractButton*>(QLatin1String(name)) : nullptr;
    };
    QList<std::pair<QAction*, const char*>> pageActions;
    for (auto [text, name, button] :
         {std::tuple{tr("Run a&gain"), "actionRunAgain", "runAgain"},
          std::tuple{tr("C&lone and edit…"), "actionCloneRun", "cloneRun"},
          std::tuple{tr("S&weep this run…"), "actionSweepRun", "sweepRun"},
          std::tuple{tr("Register &model"), "actionRegisterModel", "registerModel"},
          std::tuple{tr("&Cancel run"), "actionCancelRun", "cancelRun"}}) {
        auto* action = make(text, name, {}, [pageButton, button = button] {
            if (auto* b = pageButton(button); b && b->isEnabled())
                b->click();
        });
        pageActions.append({action, button});
    }
    auto* registerWithDialog = make(tr("Register model…"), "actionRegisterModelDialog", {}, [this] {
        if (auto* page = currentRunPage(); page && page->registerModelButton()->isEnabled())
            page->registerModel();
    });
    QList<QAction*> neighbours;
    for (auto [text, name, key, step] :
         {std::tuple{tr("Ne&xt run"), "actionNextRun", QKeySequence(Qt::ALT | Qt::Key_Down), 1},
          std::tuple{tr("Pre&vious run"), "actionPreviousRun", QKeySequence(Qt::ALT | Qt::Key_Up), -1}}) {
        neighbours << make(text, name, key, [this, step = step] {
            // The run after (or before) the one shown, in the browser's order, across experiments.
            const auto id = m_browser->neighbourRun(currentRunPage() ? currentRunPage()->runId() : 0, step);
            if (id > 0)
                openRun(id);
        });
    }
    m_notifyAction = make(tr("&Notify when runs end"), "actionNotifications", {},
                          [](bool on) { QSettings().setValue(QStringLiteral("notifications/enabled"), on); });
    m_notifyAction->setToolTip(
        tr("A desktop notification when a run ends while the studio is in the background"));
    m_notifyAction->setCheckable(true);
    m_notifyAction->setChecked(QSettings().value(QStringLiteral("notifications/enabled"), true).toBool());

    // Help
    auto* guide =
        make(tr("Kiln &guide"), "actionGuide", standard(QKeySequence::HelpContents, Qt::Key_F1), [this] {
            auto* window = new GuideWindow(this);
            window->setAttribute(Qt::WA_DeleteOnClose);
            window->show();
        });
    auto* shortcuts =
        make(tr("&Keyboard shortcuts"), "actionShortcuts", QKeySequence(Qt::CTRL | Qt::Key_Slash), [this] {
            auto* dialog = new ShortcutsDialog(menuBar(), this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            dialog->open();
        });
    auto* about = make(tr("&About Kiln Studio"), "actionAbout", {}, [this] { showAbout(); });
    auto* aboutQt = make(tr("About &Qt"), "actionAboutQt", {}, [] { QApplication::aboutQt(); });

    auto* file = menuBar()->addMenu(tr("&File"));
    file->setObjectName(QStringLiteral("menuFile"));
    file->addActions({newRun, sample, open});
    auto* recent = file->addMenu(tr("Open &recent"));
    recent->setObjectName(QStringLiteral("menuRecent"));
    connect(recent, &QMenu::aboutToShow, this, [this, recent] {
        recent->clear();
        const auto here = m_connection->description();
        for (const auto& w : QSettings().value(QStringLiteral("workspaces/recent")).toStringList())
            if (w != here)
                recent->addAction(w, this, [w] { openWorkspace(w); });
        if (recent->isEmpty())
            recent->addAction(tr("No other workspace yet"))->setEnabled(false);
    });
    file->addSeparator();
    file->addAction(settings);
    file->addSeparator();
    file->addActions({closeTab, quit});

    auto* edit = menuBar()->addMenu(tr("&Edit"));
    edit->setObjectName(QStringLiteral("menuEdit"));
    edit->addActions({find, palette});

    auto* view = menuBar()->addMenu(tr("&View"));
    view->setObjectName(QStringLiteral("menuView"));
    view->addActions({browser, table, archived});
    view->addSeparator();
    view->addActions({datasets, environments, models, compute, sweeps, compare});
    view->addSeparator();
    view->addActions({nextTab, previousTab, refresh});

    auto* run = menuBar()->addMenu(tr("&Run"));
    run->setObjectName(QStringLiteral("menuRun"));
    // Rebuilt each time it opens: the run page's actions as its buttons stand, then the selection's menu.
    connect(run, &QMenu::aboutToShow, this,
            [this, run, newRun, sample, pageActions, registerWithDialog, neighbours, pageButton] {
                run->clear(); // deletes only the selection's entries (the menu owns those)
                run->addActions({newRun, sample});
                run->addSeparator();
                for (const auto& [action, button] : pageActions) {
                    auto* b = pageButton(button);
                    action->setEnabled(b && b->isEnabled());
                    run->addAction(action);
                    if (qstrcmp(button, "registerModel") == 0) {
                        registerWithDialog->setEnabled(b && b->isEnabled());
                        run->addAction(registerWithDialog);
                    }
                }
                run->addActions(neighbours);
                if (!m_browser->selectedRuns().isEmpty()) {
                    run->addSeparator();
                    m_browser->fillRunMenu(run);
                }
                run->addSeparator();
                run->addAction(m_notifyAction);
            });
    Q_EMIT run->aboutToShow(); // filled once now, so the sheet of shortcuts and tests see its actions

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->setObjectName(QStringLiteral("menuHelp"));
    help->addActions({guide, shortcuts});
    help->addSeparator();
    help->addActions({about, aboutQt});

    auto* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setIconSize(QSize(20, 20));
    toolbar->addActions({newRun, refresh});
    toolbar->addSeparator();
    toolbar->addActions({datasets, environments, models, compute, sweeps, compare});
    toolbar->addSeparator();
    toolbar->addAction(settings);
    auto* toolbarToggle = toolbar->toggleViewAction();
    toolbarToggle->setText(tr("T&oolbar"));
    toolbarToggle->setObjectName(QStringLiteral("actionToolbar"));
    view->insertAction(table, toolbarToggle);
}

void MainWindow::showAbout() {
    auto* box =
        new QMessageBox(QMessageBox::NoIcon, tr("About Kiln Studio"),
                        tr("<h3>Kiln Studio %1</h3>"
                           "<p>A desktop studio for machine-learning experiments: runs, live metrics, "
                           "sweeps, datasets, environments, compute and models, on this machine or a "
                           "Slurm cluster.</p>"
                           "<p>Workspace: %2<br>Server: %3</p>"
                           "<p>Built with Qt %4 (running on %5).</p>")
                            .arg(QStringLiteral(KILN_VERSION), m_connection->description().toHtmlEscaped(),
                                 m_connection->url().toHtmlEscaped(), QStringLiteral(QT_VERSION_STR),
                                 QString::fromLatin1(qVersion())),
                        QMessageBox::Close, this);
    box->setObjectName(QStringLiteral("aboutBox"));
    box->setIconPixmap(windowIcon().pixmap(64, 64));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

} // namespace Kiln::Ui
