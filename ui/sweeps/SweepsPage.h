#pragma once
#include "workspace/OneAtATime.h"

#include <QHash>
#include <QSet>
#include <QWidget>

#include <memory>
#include <nlohmann/json.hpp>

QT_BEGIN_NAMESPACE
class QLabel;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
QT_END_NAMESPACE

namespace Kiln::Ui {

class ChartPanel;
class ParallelCoordinates;
class ParameterScatter;
struct SeriesBuffer;
class SweepListModel;
class SweepTrialsModel;
class WorkspaceConnection;

// Hyperparameter sweeps: the workspace's sweeps in a strip on top; the selected one below with its status
// and progress, the best trial, a parallel-coordinates chart of every trial (brush an axis to filter the
// table), and the live trial table (sortable; stopped trials dimmed with their reason). Cancel the sweep,
// register the best trial's model, or compare the trials' curves. Live while a sweep runs.
class SweepsPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SweepsPage)
public:
    explicit SweepsPage(WorkspaceConnection& connection, QWidget* parent = nullptr);
    ~SweepsPage() override;

    void refresh();
    void select(qint64 sweep);
    qint64 selected() const { return m_selected; }

    QTableView* list() const { return m_list; }
    QTableView* trials() const { return m_trials; }
    SweepTrialsModel* trialsModel() const { return m_trialsModel; }
    QSortFilterProxyModel* trialsProxy() const { return m_proxy; }
    ParallelCoordinates* parallel() const { return m_parallel; }
    QLabel* header() const { return m_header; }
    ChartPanel* curves() const { return m_curvesPanel; }
    ParameterScatter* scatter() const { return m_scatter; }

Q_SIGNALS:
    void openRun(qint64 runId);
    void compareRuns(const QList<qint64>& runs);

private:
    void read();
    void showSweep(const nlohmann::json& sweep);
    // Every trial's primary metric on one chart; a trial's points are fetched until it has ended.
    void updateCurves(const nlohmann::json& sweep, const nlohmann::json& histories);
    void resetCurves();
    void registerBest();

    WorkspaceConnection& m_connection;
    SweepListModel* m_listModel;
    QTableView* m_list;
    QLabel* m_header;
    QProgressBar* m_progress;
    QLabel* m_counts;
    QLabel* m_best;
    QPushButton* m_cancel;
    QPushButton* m_registerBest;
    QPushButton* m_compare;
    ParallelCoordinates* m_parallel;
    SweepTrialsModel* m_trialsModel;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_trials;
    ChartPanel* m_curvesPanel;
    QWidget* m_curvesBox;
    ParameterScatter* m_scatter;
    qint64 m_curvesSweep = 0;
    QHash<qint64, int> m_curveOf;                        // trial run -> curve
    QHash<qint64, std::shared_ptr<SeriesBuffer>> m_data; // trial run -> its points
    QSet<qint64> m_final;                                // trials whose curve is complete
    std::unique_ptr<class ChangeWatch> m_watch;          // the selected sweep's change feed, while it runs
    qint64 m_watched = 0;
    OneAtATime m_reading{this, [this] { read(); }}; // refresh(): one read at a time
    qint64 m_selected = 0;
    nlohmann::json m_sweep;
    bool m_loading = false;
};

} // namespace Kiln::Ui
