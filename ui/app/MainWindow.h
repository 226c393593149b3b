#pragma once
#include "workspace/OneAtATime.h"

#include <QHash>
#include <QMainWindow>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QLabel;
class QTabWidget;
class QDockWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class Notifier;
class RunPage;
class RunTreeModel;
class WorkspaceBrowser;
class WorkspaceConnection;

// The studio's main window: the workspace browser dock, a tab per open run, a toolbar, and a status bar
// naming the workspace and its server's state. Window layout and open runs are remembered.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    // `workspace`: a folder, or empty for the located one.
    explicit MainWindow(const QString& workspace = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    WorkspaceConnection& connection() const { return *m_connection; }
    RunTreeModel& runModel() const { return *m_model; }
    RunPage* openRun(qint64 runId);
    RunPage* currentRunPage() const;
    void openRunWhenConnected(qint64 runId);

    class DatasetsPage* showDatasets();
    class EnvironmentsPage* showEnvironments();
    class ComputePage* showCompute();
    class SweepsPage* showSweeps();
    class ModelsPage* showModels();
    class ComparePage* compareRuns(const QList<qint64>& runs);

    // The submission dialog, pre-filled with run `cloneOf` ("Clone and edit") when it is not 0.
    class SubmitDialog* openSubmitDialog(qint64 cloneOf);
    void runAgain(qint64 runId);
    class CommandPalette* showCommandPalette(); // Ctrl+K
    class WelcomePage* welcome() const {
        return m_welcome;
    }
    // Another workspace (a folder, or one standing for a remote server) in a window of its own.
    static MainWindow* openWorkspace(const QString& workspace);
    void runSample(); // the Fashion-MNIST sample with its defaults
    // Where "run ended" notifications go (a DesktopNotifier unless replaced); the window takes ownership.
    void setNotifier(Notifier* notifier);
    // How many of the newest runs each refresh lists for the tree (older ones load as experiments are
    // scrolled); 5000 unless a test wants to see paging with fewer runs.
    void setTreeListing(int runs) { m_treeListing = runs; }

public Q_SLOTS:
    void newRun();
    void refresh();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions(); // the menu bar, the toolbar and the window's keys
    void showAbout();
    void updateStatusBar();
    void showHealth(const nlohmann::json& health);    // read-only state, runs in progress
    void noticeEndedRuns(const nlohmann::json& runs); // notifies runs that ended since the last listing
    void list();                                      // the tree's listing, one at a time (m_listing)
    void rememberWorkspace();                         // recent workspaces, for the welcome page
    void notifyEnded(const nlohmann::json& run);
    template <typename Page, typename Setup> Page* showPanel(const QString& title, Setup&& setup);
    WorkspaceConnection* m_connection;
    RunTreeModel* m_model;
    class SweepListModel* m_sweeps;
    class RunsTableModel* m_runsTable;
    WorkspaceBrowser* m_browser;
    QDockWidget* m_dock;
    QTabWidget* m_tabs;
    QLabel* m_serverState;
    QLabel* m_liveRuns; // "2 running · 1 queued", from kilnd's health
    QList<qint64> m_restoreRuns;
    Notifier* m_notifier = nullptr;
    class WelcomePage* m_welcome = nullptr;
    class QAction* m_notifyAction = nullptr;
    QHash<qint64, QString> m_lastStatus; // from the previous listing
    bool m_statusKnown = false;
    int m_treeListing = 5000;
    OneAtATime m_listing; // the tree's listing (runs, sweeps, experiments, health)
};

} // namespace Kiln::Ui
