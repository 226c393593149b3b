#include "MainWindow.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/CommandPalette.h"
#include "app/SettingsDialog.h"
#include "app/WelcomePage.h"
#include "compare/ComparePage.h"
#include "compute/ComputePage.h"
#include "datasets/DatasetsPage.h"
#include "environments/EnvironmentsPage.h"
#include "models/ModelsPage.h"
#include "notifications/Notifier.h"
#include "runs/RunPage.h"
#include "runs/RunsTableModel.h"
#include "runs/RunTreeModel.h"
#include "runs/SubmitDialog.h"
#include "sweeps/NewSweepDialog.h"
#include "sweeps/SweepListModel.h"
#include "sweeps/SweepsPage.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

MainWindow::MainWindow(const QString& workspace, QWidget* parent)
    : QMainWindow(parent)
    , m_connection(new WorkspaceConnection(workspace, this))
    , m_model(new RunTreeModel(this))
    , m_sweeps(new SweepListModel(this))
    , m_runsTable(new RunsTableModel(*m_connection, this))
    , m_browser(new WorkspaceBrowser(*m_model, *m_runsTable, *m_sweeps, this))
    , m_dock(new QDockWidget(tr("Workspace"), this))
    , m_tabs(new QTabWidget(this))
    , m_serverState(new QLabel(this))
    , m_liveRuns(new QLabel(this))
    , m_listing(this, [this] { list(); }) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Kiln Studio"));
    resize(1280, 800);

    m_dock->setObjectName(QStringLiteral("workspaceDock"));
    m_dock->setWidget(m_browser);
    m_dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, m_dock);
    resizeDocks({m_dock}, {320}, Qt::Horizontal);
    // The runs table wants room: the dock widens for it (and narrows again for the tree).
    auto fitDock = [this](bool table) {
        resizeDocks({m_dock}, {table ? std::max(320, width() * 11 / 20) : 320}, Qt::Horizontal);
    };
    connect(m_browser, &WorkspaceBrowser::tableShownChanged, this, fitDock);

    m_tabs->setObjectName(QStringLiteral("runTabs"));
    m_tabs->setTabsClosable(true);
    m_tabs->setDocumentMode(true);
    m_tabs->setMovable(true);
    auto* welcome = new WelcomePage(this);
    m_welcome = welcome;
    welcome->setRecentWorkspaces(QSettings().value(QStringLiteral("workspaces/recent")).toStringList());
    auto* stack = new QStackedWidget(this);
    stack->addWidget(welcome);
    stack->addWidget(m_tabs);
    setCentralWidget(stack);

    createActions();
    setNotifier(new DesktopNotifier(this));

    statusBar()->addPermanentWidget(m_liveRuns);
    statusBar()->addPermanentWidget(m_serverState);
    m_liveRuns->setObjectName(QStringLiteral("liveRuns"));
    m_serverState->setObjectName(QStringLiteral("serverState"));

    connect(welcome, &WelcomePage::newRun, this, &MainWindow::newRun);
    connect(welcome, &WelcomePage::runSample, this, &MainWindow::runSample);
    connect(welcome, &WelcomePage::openWorkspace, this, &MainWindow::openWorkspace);
    connect(welcome, &WelcomePage::openWorkspaceDialog,
            findChild<QAction*>(QStringLiteral("actionOpenWorkspace")), &QAction::trigger);
    connect(welcome, &WelcomePage::openPanel, this, [this](const QString& panel) {
        if (panel == QLatin1String("datasets"))
            showDatasets();
        else if (panel == QLatin1String("environments"))
            showEnvironments();
        else if (panel == QLatin1String("compute"))
            showCompute();
        else
            showModels();
    });
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this, stack](int index) {
        auto* page = m_tabs->widget(index);
        m_tabs->removeTab(index);
        page->deleteLater();
        if (m_tabs->count() == 0)
            stack->setCurrentIndex(0);
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this, stack](int index) {
        stack->setCurrentIndex(m_tabs->count() ? 1 : 0);
        if (auto* page = qobject_cast<RunPage*>(m_tabs->widget(index)))
            m_browser->selectRun(page->runId());
    });
    connect(m_browser, &WorkspaceBrowser::runActivated, this, &MainWindow::openRun);
    connect(m_browser, &WorkspaceBrowser::compareRequested, this, &MainWindow::compareRuns);
    connect(m_browser, &WorkspaceBrowser::sweepActivated, this,
            [this](qint64 sweep) { showSweeps()->select(sweep); });
    connect(m_connection, &WorkspaceConnection::stateChanged, this, [this] {
        updateStatusBar();
        if (m_connection->state() == WorkspaceConnection::State::Connected) {
            // (Again after a reconnect: a listing that failed while kilnd was away is not retried.)
            refresh();
            rememberWorkspace();
            for (auto id : std::as_const(m_restoreRuns))
                openRun(id);
            m_restoreRuns.clear();
        }
    });
    connect(m_connection, &WorkspaceConnection::runsChanged, this, &MainWindow::refresh);
    // An experiment's older runs, a page at a time as the tree is expanded and scrolled.
    m_model->setFetcher([this](const QString& experiment, qint64 before) {
        auto path =
            "/api/v1/runs?metrics=0&limit=500&experiment=" + Api::percentEncode(experiment.toStdString());
        if (before > 0)
            path += "&filter=" + Api::percentEncode("id < " + std::to_string(before));
        m_connection->call(
            this, [path](Api::Client& c) { return c.get(path); },
            [this, experiment](const nlohmann::json& page) { m_model->appendRuns(experiment, page); },
            [this, experiment](const QString& error) {
                m_model->fetchFailed(experiment);
                statusBar()->showMessage(tr("Could not list the runs of %1: %2").arg(experiment, error),
                                         5000);
            });
    });

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    if (m_browser->tableShown() && m_dock->width() < 500) // the table, left open last time, wants its room
        fitDock(true);
    for (const auto& v : settings.value(QStringLiteral("window/openRuns")).toList())
        m_restoreRuns.append(v.toLongLong());

    updateStatusBar();
    m_connection->connectToServer();
}

MainWindow::~MainWindow() = default;

void MainWindow::updateStatusBar() {
    switch (m_connection->state()) {
    case WorkspaceConnection::State::Connecting:
        m_serverState->setText(tr("Connecting to the workspace server…"));
        break;
    case WorkspaceConnection::State::Connected:
        statusBar()->showMessage(tr("Workspace: %1").arg(m_connection->description()));
        m_serverState->setText(tr("kilnd: %1").arg(m_connection->url()));
        m_serverState->setToolTip({});
        break;
    case WorkspaceConnection::State::Reconnecting:
        m_serverState->setText(tr("kilnd unreachable; reconnecting…"));
        m_liveRuns->clear();
        break;
    case WorkspaceConnection::State::Failed:
        m_serverState->setText(tr("Workspace server unavailable"));
        statusBar()->showMessage(m_connection->description());
        break;
    }
}

void MainWindow::showHealth(const nlohmann::json& health) {
    // A server that could only start read-only (a full disk) says so: show it until it restarts.
    // (Also one that refuses writes now, its disk having filled; back to normal once there is room.)
    if (const auto readOnly = health.find("read_only"); readOnly != health.end() && readOnly->is_string()) {
        m_serverState->setText(tr("kilnd: %1 (read-only: the disk is full)").arg(m_connection->url()));
        m_serverState->setToolTip(QString::fromStdString(readOnly->get<std::string>()));
    } else if (!m_serverState->toolTip().isEmpty() &&
               m_connection->state() == WorkspaceConnection::State::Connected) {
        m_serverState->setText(tr("kilnd: %1").arg(m_connection->url()));
        m_serverState->setToolTip({});
    }
    const auto runs = health.find("runs");
    if (runs == health.end() || !runs->is_object())
        return;
    auto count = [&](const char* status) { return static_cast<int>(runs->value(status, std::int64_t(0))); };
    const int running = count("Preparing") + count("Running") + count("Finalizing");
    const int queued = count("Queued");
    QStringList parts;
    if (running)
        parts << tr("%n running", nullptr, running);
    if (queued)
        parts << tr("%n queued", nullptr, queued);
    m_liveRuns->setText(parts.isEmpty() ? tr("No run in progress") : parts.join(QStringLiteral(" · ")));
    m_liveRuns->setMinimumWidth(
        m_liveRuns->sizeHint().width()); // (a long status message must not squeeze it)
    m_liveRuns->setToolTip(tr("Preparing %1 · Running %2 · Finalizing %3 · Queued %4")
                               .arg(count("Preparing"))
                               .arg(count("Running"))
                               .arg(count("Finalizing"))
                               .arg(queued));
}

void MainWindow::refresh() {
    if (m_connection->state() != WorkspaceConnection::State::Connected)
        return;
    if (m_browser->tableShown())
        m_runsTable->refresh();
    m_listing.ask();
}

void MainWindow::list() {
    m_connection->call(
        this,
        [limit = m_treeListing](Api::Client& c) {
            return nlohmann::json{{"runs", c.get("/api/v1/runs?metrics=0&limit=" + std::to_string(limit))},
                                  {"sweeps", c.get("/api/v1/sweeps")},
                                  {"experiments", c.get("/api/v1/experiments")},
                                  {"health", c.health()}};
        },
        [this](const nlohmann::json& answer) {
            m_listing.finished();
            showHealth(answer["health"]);
            noticeEndedRuns(answer["runs"]);
            m_model->setRuns(answer["runs"], answer["runs"].size() < static_cast<size_t>(m_treeListing));
            m_sweeps->setSweeps(answer["sweeps"]);
            m_browser->setExperiments(answer["experiments"]);
            m_model->setCounts(answer["experiments"]);
        },
        [this](const QString& error) {
            m_listing.finished();
            statusBar()->showMessage(tr("Could not list runs: %1").arg(error), 5000);
        });
}

RunPage* MainWindow::openRun(qint64 runId) {
    for (int i = 0; i < m_tabs->count(); ++i) {
        if (auto* page = qobject_cast<RunPage*>(m_tabs->widget(i)); page && page->runId() == runId) {
            m_tabs->setCurrentIndex(i);
            return page;
        }
    }
    auto* page = new RunPage(*m_connection, runId, m_tabs);
    const int index = m_tabs->addTab(page, tr("Run %1").arg(runId));
    connect(page, &RunPage::runAgainRequested, this, &MainWindow::runAgain);
    connect(page, &RunPage::cloneRequested, this, [this](qint64 id) { openSubmitDialog(id); });
    connect(page, &RunPage::sweepRequested, this, [this](qint64 id) {
        auto* dialog = new NewSweepDialog(*m_connection, id, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &NewSweepDialog::created, this,
                [this](qint64 sweep) { showSweeps()->select(sweep); });
        dialog->open();
    });
    connect(page, &RunPage::modelRegistered, this,
            [this](const QString& name, int version) { showModels()->select(name, version); });
    connect(page, &RunPage::titleChanged, this, [this, page](const QString& title) {
        const int i = m_tabs->indexOf(page);
        if (i >= 0 && m_tabs->tabText(i) != title)
            m_tabs->setTabText(i, title);
    });
    m_tabs->setCurrentIndex(index);
    return page;
}

void MainWindow::openRunWhenConnected(qint64 runId) {
    if (m_connection->state() == WorkspaceConnection::State::Connected)
        openRun(runId);
    else if (!m_restoreRuns.contains(runId))
        m_restoreRuns.append(runId);
}

// Brings the panel of type Page to the front, making it (with `setup` run once) the first time.
template <typename Page, typename Setup> Page* MainWindow::showPanel(const QString& title, Setup&& setup) {
    for (int i = 0; i < m_tabs->count(); ++i) {
        if (auto* page = qobject_cast<Page*>(m_tabs->widget(i))) {
            m_tabs->setCurrentIndex(i);
            if constexpr (requires { page->refresh(); })
                page->refresh();
            return page;
        }
    }
    auto* page = new Page(*m_connection, m_tabs);
    connect(page, &Page::openRun, this, &MainWindow::openRun);
    setup(page);
    m_tabs->setCurrentIndex(m_tabs->addTab(page, title));
    if constexpr (requires { page->refresh(); })
        page->refresh();
    return page;
}

DatasetsPage* MainWindow::showDatasets() {
    return showPanel<DatasetsPage>(tr("Datasets"), [](DatasetsPage*) {});
}

EnvironmentsPage* MainWindow::showEnvironments() {
    return showPanel<EnvironmentsPage>(tr("Environments"), [](EnvironmentsPage*) {});
}

ComputePage* MainWindow::showCompute() {
    return showPanel<ComputePage>(tr("Compute"), [](ComputePage*) {});
}

ModelsPage* MainWindow::showModels() {
    return showPanel<ModelsPage>(tr("Models"), [this](ModelsPage* page) {
        connect(page, &ModelsPage::openDataset, this,
                [this](const QString& name, int version) { showDatasets()->select(name, version); });
        connect(page, &ModelsPage::openEnvironment, this,
                [this](const QString& name, int version) { showEnvironments()->select(name, version); });
        connect(page, &ModelsPage::runSampleRequested, this, &MainWindow::runSample);
    });
}

SweepsPage* MainWindow::showSweeps() {
    return showPanel<SweepsPage>(tr("Sweeps"), [this](SweepsPage* page) {
        connect(page, &SweepsPage::compareRuns, this, &MainWindow::compareRuns);
    });
}

ComparePage* MainWindow::compareRuns(const QList<qint64>& runs) {
    if (runs.size() < 2)
        return nullptr;
    auto* page = new ComparePage(*m_connection, runs, m_tabs);
    connect(page, &ComparePage::openRun, this, &MainWindow::openRun);
    m_tabs->setCurrentIndex(
        m_tabs->addTab(page, tr("Compare %n run(s)", nullptr, static_cast<int>(runs.size()))));
    return page;
}

RunPage* MainWindow::currentRunPage() const {
    return qobject_cast<RunPage*>(m_tabs->currentWidget());
}

static bool isEnded(const QString& status) {
    return status == QLatin1String("Completed") || status == QLatin1String("Failed") ||
           status == QLatin1String("Canceled");
}

void MainWindow::setNotifier(Notifier* notifier) {
    delete m_notifier;
    m_notifier = notifier;
    m_notifier->setParent(this);
    connect(m_notifier, &Notifier::activated, this, [this](qint64 runId) {
        showNormal();
        raise();
        activateWindow();
        openRun(runId);
    });
}

void MainWindow::noticeEndedRuns(const nlohmann::json& runs) {
    for (const auto& run : runs) {
        const auto id = run["id"].get<qint64>();
        const auto status = QString::fromStdString(run["status"].get<std::string>());
        const auto previous = m_lastStatus.value(id);
        // After the first listing (the baseline), a run seen ending now: it was live, or it is new.
        if (m_statusKnown && isEnded(status) && (previous.isEmpty() || !isEnded(previous)))
            notifyEnded(run);
        m_lastStatus.insert(id, status);
    }
    m_statusKnown = true;
}

void MainWindow::notifyEnded(const nlohmann::json& run) {
    if (!m_notifyAction->isChecked() || isActiveWindow())
        return;
    const auto id = run["id"].get<qint64>();
    const auto title = tr("%1 %2").arg(QString::fromStdString(run["name"].get<std::string>()),
                                       QString::fromStdString(run["status"].get<std::string>()).toLower());
    const auto error =
        QString::fromStdString(run.value("error", std::string())).section(QLatin1Char('\n'), 0, 0);
    m_connection->call(
        this, [id](Api::Client& c) { return c.get("/api/v1/runs/" + std::to_string(id) + "/metrics"); },
        [this, id, title, error](const nlohmann::json& metrics) {
            // The primary metric: an accuracy if there is one, else a loss, else the first.
            const nlohmann::json* primary = nullptr;
            for (const char* wanted : {"acc", "loss", ""})
                for (const auto& m : metrics)
                    if (!primary && m["key"].get<std::string>().find(wanted) != std::string::npos)
                        primary = &m;
            QString body = error;
            if (primary && (*primary)["last"].is_number())
                body = QStringLiteral("%1 = %2%3")
                           .arg(QString::fromStdString((*primary)["key"].get<std::string>()))
                           .arg((*primary)["last"].get<double>(), 0, 'g', 4)
                           .arg(error.isEmpty() ? QString() : QStringLiteral(" · ") + error);
            m_notifier->show({title, body, id});
        });
}

CommandPalette* MainWindow::showCommandPalette() {
    auto* palette = new CommandPalette(this);
    palette->setAttribute(Qt::WA_DeleteOnClose);
    std::vector<CommandPalette::Entry> entries;
    // Actions: every named action of the window.
    for (auto* action : findChildren<QAction*>()) {
        if (action->objectName().isEmpty() || action->text().isEmpty() ||
            action->objectName() == QLatin1String("actionPalette"))
            continue;
        QString label = action->text();
        label.remove(QLatin1Char('&')).remove(QStringLiteral("…"));
        QPointer<QAction> guard(action);
        entries.push_back(
            {tr("Action"), label, action->shortcut().toString(QKeySequence::NativeText), [guard] {
                 if (guard && guard->isEnabled())
                     guard->trigger();
             }});
    }
    // Experiments and runs, from the browser's model.
    for (int e = 0; e < m_model->rowCount(); ++e) {
        const auto experiment = m_model->index(e, 0);
        const auto name = experiment.data().toString();
        entries.push_back(
            {tr("Experiment"), name, tr("%n run(s)", nullptr, m_model->rowCount(experiment)), [this, name] {
                 m_dock->show();
                 m_browser->filter()->setText(name);
             }});
        for (int r = 0; r < m_model->rowCount(experiment); ++r) {
            const auto run = m_model->index(r, 0, experiment);
            const auto id = run.data(RunTreeModel::RunIdRole).toLongLong();
            entries.push_back({tr("Run"), run.data().toString(),
                               m_model->index(r, RunTreeModel::StatusColumn, experiment).data().toString(),
                               [this, id] { openRun(id); }});
        }
    }
    palette->addEntries(std::move(entries));
    // The workspace's other things arrive from kilnd while the palette is open.
    m_connection->call(
        palette,
        [](Api::Client& c) {
            return nlohmann::json{{"datasets", c.get("/api/v1/datasets")},
                                  {"environments", c.get("/api/v1/environments")},
                                  {"compute", c.get("/api/v1/compute")},
                                  {"models", c.get("/api/v1/models")}};
        },
        [this, palette](const nlohmann::json& lists) {
            std::vector<CommandPalette::Entry> more;
            auto name = [](const nlohmann::json& j) {
                return QString::fromStdString(j["name"].get<std::string>());
            };
            for (const auto& d : lists["datasets"])
                more.push_back(
                    {tr("Dataset"), name(d), {}, [this, n = name(d)] { showDatasets()->select(n, 0); }});
            for (const auto& e : lists["environments"])
                more.push_back({tr("Environment"), name(e), {}, [this, n = name(e)] {
                                    showEnvironments()->select(n, 0);
                                }});
            for (const auto& t : lists["compute"])
                more.push_back({tr("Compute"), name(t),
                                QString::fromStdString(t.value("type", std::string())),
                                [this] { showCompute(); }});
            for (const auto& m : lists["models"])
                more.push_back(
                    {tr("Model"), name(m), {}, [this, n = name(m)] { showModels()->select(n, 0); }});
            palette->addEntries(std::move(more));
        });
    const auto area = geometry();
    palette->move(area.center().x() - palette->width() / 2, area.top() + 80);
    palette->show();
    palette->input()->setFocus();
    return palette;
}

void MainWindow::rememberWorkspace() {
    const auto here = m_connection->description();
    if (here.isEmpty())
        return;
    QSettings settings;
    auto recent = settings.value(QStringLiteral("workspaces/recent")).toStringList();
    recent.removeAll(here);
    recent.prepend(here);
    while (recent.size() > 8)
        recent.removeLast();
    settings.setValue(QStringLiteral("workspaces/recent"), recent);
    setWindowTitle(
        tr("%1 — Kiln Studio").arg(QFileInfo(here).fileName().isEmpty() ? here : QFileInfo(here).fileName()));
    m_welcome->setRecentWorkspaces(recent.mid(1)); // the others
}

MainWindow* MainWindow::openWorkspace(const QString& workspace) {
    auto* window = new MainWindow(workspace);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
    return window;
}

void MainWindow::runSample() {
    // The Fashion-MNIST sample with its defaults, on the local target; the dataset is registered first if
    // this workspace does not have it yet.
    const auto sample = Workspace::resourcesDir() / "samples" / "fashion-mnist";
    m_connection->call(
        this,
        [sample](Api::Client& c) {
            Api::SubmitRequest req;
            req.experiment = "fashion-mnist";
            req.sourceDir = sample;
            req.script = "train.py";
            req.args = {"--epochs", "2"};
            if (Workspace::seedSampleDataset(c))
                req.args.insert(req.args.begin(), {"--data-folder", "{dataset:fashion-mnist}"});
            return c.submit(req);
        },
        [this](const nlohmann::json& run) {
            refresh();
            openRun(run["id"].get<qint64>());
        },
        [this](const QString& error) {
            statusBar()->showMessage(tr("Could not run the sample: %1").arg(error), 8000);
        });
}

void MainWindow::newRun() {
    openSubmitDialog(0);
}

SubmitDialog* MainWindow::openSubmitDialog(qint64 cloneOf) {
    if (m_connection->state() != WorkspaceConnection::State::Connected) {
        statusBar()->showMessage(tr("The workspace server is not connected yet."), 4000);
        return nullptr;
    }
    auto* dialog = new SubmitDialog(*m_connection, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &SubmitDialog::submitted, this, [this](qint64 id) {
        refresh();
        openRun(id);
    });
    connect(dialog, &SubmitDialog::warned, this, [this](const QStringList& warnings) {
        statusBar()->showMessage(tr("Submitted, but: %1").arg(warnings.join(QStringLiteral("; "))), 20000);
    });
    m_connection->call(
        dialog,
        [cloneOf](Api::Client& c) {
            nlohmann::json lists = {{"experiments", c.get("/api/v1/experiments")},
                                    {"datasets", c.get("/api/v1/datasets")},
                                    {"environments", c.get("/api/v1/environments")},
                                    {"compute", c.get("/api/v1/compute")}};
            if (cloneOf > 0) {
                const auto base = "/api/v1/runs/" + std::to_string(cloneOf);
                lists["clone"] = {{"run", c.get(base)}, {"snapshot", c.get(base + "/snapshot")}};
            }
            return lists;
        },
        [dialog](const nlohmann::json& lists) {
            auto names = [](const nlohmann::json& list) {
                QStringList out;
                for (const auto& e : list)
                    out << QString::fromStdString(e["name"].get<std::string>());
                return out;
            };
            dialog->setExperiments(names(lists["experiments"]));
            dialog->setDatasets(names(lists["datasets"]));
            dialog->setEnvironments(names(lists["environments"]));
            dialog->setComputeTargets(names(lists["compute"]));
            if (lists.contains("clone")) {
                dialog->cloneFrom(lists["clone"]["run"], lists["clone"]["snapshot"]);
            } else {
                QSettings settings; // the defaults from the settings dialog, where set
                dialog->applyDefaults(settings.value(QStringLiteral("defaults/experiment")).toString(),
                                      settings.value(QStringLiteral("defaults/compute")).toString(),
                                      settings.value(QStringLiteral("defaults/environment")).toString());
            }
        },
        [this, dialog](const QString& error) {
            dialog->close();
            statusBar()->showMessage(tr("Could not prepare the submission: %1").arg(error), 6000);
        });
    dialog->open();
    return dialog;
}

void MainWindow::runAgain(qint64 runId) {
    // The same snapshot, script, arguments, environment and compute, submitted at once.
    m_connection->call(
        this, [runId](Api::Client& c) { return c.runAgain(runId); },
        [this](const nlohmann::json& run) {
            refresh();
            openRun(run["id"].get<qint64>());
        },
        [this](const QString& error) {
            statusBar()->showMessage(tr("Could not run it again: %1").arg(error), 6000);
        });
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    QVariantList open;
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto* page = qobject_cast<RunPage*>(m_tabs->widget(i)))
            open.append(page->runId());
    settings.setValue(QStringLiteral("window/openRuns"), open);
    event->accept();
}

} // namespace Kiln::Ui
