#pragma once
#include <QTimer>
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QStackedWidget;
class QTableView;
class QToolButton;
class QTreeView;
class QSortFilterProxyModel;
QT_END_NAMESPACE

namespace Kiln::Ui {

class RunActions;
class RunTreeModel;
class RunsTableModel;
class SweepListModel;

// The workspace dock. Runs in two views: a tree (experiments -> runs with status icons) and a table over a
// server-side query (columns chosen with the Columns menu and remembered per experiment, sorted by the
// server). One filter box serves both: words match names, experiments, statuses and tags; an expression
// (`metrics.acc > 0.9 and params.lr < 0.01`) filters the table, and a typo is shown with the token it is
// at. Activating a run (double-click, Enter) emits runActivated; several runs can be selected for
// comparison. Below the runs, the workspace's sweeps (shown once there is one).
class WorkspaceBrowser final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkspaceBrowser)
public:
    WorkspaceBrowser(RunTreeModel& model, RunsTableModel& table, SweepListModel& sweeps,
                     QWidget* parent = nullptr);
    ~WorkspaceBrowser() override;
    QTreeView* view() const { return m_view; }
    QTableView* table() const { return m_table; }
    QLineEdit* filter() const { return m_filter; }
    QLabel* filterError() const { return m_filterError; }
    QComboBox* experimentBox() const { return m_experiment; }
    QToolButton* columnsButton() const { return m_columnsButton; }
    QTreeView* sweepsView() const { return m_sweeps; }
    bool tableShown() const;
    void showTable(bool table);
    // The experiments (GET /experiments), for the table's experiment choice.
    void setExperiments(const nlohmann::json& experiments);
    void selectRun(qint64 id);
    QList<qint64> selectedRuns() const; // in id order
    void selectRuns(const QList<qint64>& ids);
    // The run `step` places after `runId` (negative: before) in the shown view's order, as filtered; the
    // first run when `runId` is not listed; 0 past either end.
    qint64 neighbourRun(qint64 runId, int step) const;
    // The Columns menu (also the table header's context menu), built for the current experiment.
    QMenu* columnsMenu() const { return m_columnsMenu; }
    RunActions* actions() const { return m_actions; }
    // The context menu of the selected runs (as a right-click shows it), filled now.
    QMenu* runMenu();
    // Adds what runMenu() holds to `menu` (the menu bar's Run menu); nothing when no run is selected.
    void fillRunMenu(QMenu* menu);
    QCheckBox* showArchivedBox() const { return m_showArchived; }

Q_SIGNALS:
    void runActivated(qint64 runId);
    void sweepActivated(qint64 sweepId);
    void selectionChanged(const QList<qint64>& runs);
    void tableShownChanged(bool table);
    void compareRequested(const QList<qint64>& runs);

private:
    void applyFilter();
    void experimentChosen();
    void buildColumnsMenu();
    void setColumns(const QStringList& fields, bool remember);
    void groupBy(const QString& field, bool remember); // remembered per experiment, like the columns
    QString columnsKey() const;

    RunTreeModel& m_model;
    RunsTableModel& m_tableModel;
    QLineEdit* m_filter;
    QLabel* m_filterError;
    QToolButton* m_treeButton;
    QToolButton* m_tableButton;
    QComboBox* m_experiment;
    QToolButton* m_columnsButton;
    QMenu* m_columnsMenu;
    QWidget* m_tableBar;
    QStackedWidget* m_stack;
    QTreeView* m_view;
    QTableView* m_table;
    QSortFilterProxyModel* m_proxy;
    QWidget* m_sweepSection;
    QTreeView* m_sweeps;
    QTimer m_filterDelay;
    nlohmann::json* m_columnChoices; // {params, metrics, tags} of the current experiment
    RunActions* m_actions;
    QMenu* m_runMenu;
    QCheckBox* m_showArchived;
};

} // namespace Kiln::Ui
