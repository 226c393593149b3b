#pragma once
#include <QHash>
#include <QImage>
#include <QSet>
#include <QWidget>

#include <memory>
#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QGridLayout;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
QT_END_NAMESPACE

namespace Kiln::Ui {

class ChartPanel;
class MetricChart;
class RunComparisonModel;
class RunFollower;
class WorkspaceConnection;
struct SeriesBuffer;

// Several runs side by side: a sortable, filterable table of runs x (status, duration, arguments with the
// differing ones highlighted, parameters, final and best metric values), and one chart per metric with a
// curve per run in its own colour; the legend toggles runs. Runs still going keep streaming in.
class ComparePage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComparePage)
public:
    ComparePage(WorkspaceConnection& connection, const QList<qint64>& runs, QWidget* parent = nullptr);
    ~ComparePage() override;

    QList<qint64> runs() const { return m_runs; }
    RunComparisonModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    QTableView* table() const { return m_table; }
    QLineEdit* filter() const { return m_filter; }
    MetricChart* chart(const QString& key) const;
    // The runs' images side by side, a row per image name (each run's latest under that name).
    QWidget* images() const { return m_images; }

Q_SIGNALS:
    void openRun(qint64 runId);

private:
    void apply(qint64 run, const nlohmann::json& answer);
    void metricsArrived(qint64 run, const QStringList& created); // new points (and buffers `created`)
    ChartPanel* panelFor(const QString& key);
    void refreshRow(qint64 run);
    void loadImages(qint64 run);
    void layoutImages();

    WorkspaceConnection& m_connection;
    QList<qint64> m_runs;
    RunComparisonModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_table;
    QLineEdit* m_filter;
    QWidget* m_chartArea;
    QGridLayout* m_chartGrid;
    QHash<QString, ChartPanel*> m_charts;
    QHash<qint64, QHash<QString, std::shared_ptr<SeriesBuffer>>> m_series;
    QHash<qint64, QString> m_names;
    QHash<qint64, double> m_started;
    QHash<qint64, QString> m_status;
    QWidget* m_images;
    QHash<qint64, QHash<QString, QImage>> m_latestImages; // run -> name -> its latest image
    QSet<qint64> m_imagesAsked;
};

} // namespace Kiln::Ui
