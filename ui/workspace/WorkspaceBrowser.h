#pragma once
#include <QWidget>

QT_BEGIN_NAMESPACE
class QLineEdit;
class QTreeView;
class QSortFilterProxyModel;
QT_END_NAMESPACE

namespace Kiln::Ui {

class RunTreeModel;
class SweepListModel;

// The workspace dock: experiments -> runs with status icons, and a filter box (matches experiment or
// run names and statuses). Activating a run (double-click, Enter) emits runActivated; several runs can be
// selected (Ctrl/Shift-click) for comparison. Below the runs, the workspace's sweeps (shown once there is
// one); activating a sweep emits sweepActivated.
class WorkspaceBrowser final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkspaceBrowser)
public:
    WorkspaceBrowser(RunTreeModel& model, SweepListModel& sweeps, QWidget* parent = nullptr);
    QTreeView* view() const { return m_view; }
    QLineEdit* filter() const { return m_filter; }
    QTreeView* sweepsView() const { return m_sweeps; }
    void selectRun(qint64 id);
    QList<qint64> selectedRuns() const; // in id order
    void selectRuns(const QList<qint64>& ids);
    // The run `step` places after `runId` (negative: before) in the browser's order, as filtered; the first
    // run when `runId` is not listed; 0 past either end.
    qint64 neighbourRun(qint64 runId, int step) const;

Q_SIGNALS:
    void runActivated(qint64 runId);
    void sweepActivated(qint64 sweepId);
    void selectionChanged(const QList<qint64>& runs);

private:
    RunTreeModel& m_model;
    QLineEdit* m_filter;
    QTreeView* m_view;
    QSortFilterProxyModel* m_proxy;
    QWidget* m_sweepSection;
    QTreeView* m_sweeps;
};

} // namespace Kiln::Ui
