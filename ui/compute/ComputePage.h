#pragma once
#include "workspace/OneAtATime.h"

#include <QTimer>
#include <QWidget>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QLabel;
class QTableWidget;
class QTreeView;
QT_END_NAMESPACE

namespace Kiln::Ui {

class ComputeTargetsModel;
class WorkspaceConnection;

// The Compute panel: targets with type, state and load (a ComputeTargetsModel); for the selected one its
// nodes (state, CPUs, memory, run), the queue and the runs in progress, refreshed live. "New compute…"
// provisions a target.
class ComputePage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComputePage)
public:
    explicit ComputePage(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void refresh();
    QTreeView* targets() const { return m_targets; }
    ComputeTargetsModel* model() const { return m_model; }
    QTableWidget* nodes() const { return m_nodes; }
    QString selected() const { return m_selected; }

Q_SIGNALS:
    void openRun(qint64 runId);

protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    void read();
    void newTarget();
    void showTarget(const nlohmann::json& target);

    WorkspaceConnection& m_connection;
    ComputeTargetsModel* m_model;
    QTreeView* m_targets;
    QLabel* m_header;
    QTableWidget* m_nodes;
    QTableWidget* m_queue;
    QString m_selected;
    QTimer m_loadTimer; // while the shown target has runs: their load on its nodes
    OneAtATime m_reading{this, [this] { read(); }}; // refresh(): one read at a time
};

} // namespace Kiln::Ui
