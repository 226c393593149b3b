#pragma once
#include <QHash>
#include <QWidget>

#include <memory>

QT_BEGIN_NAMESPACE
class QGridLayout;
class QLabel;
class QToolButton;
QT_END_NAMESPACE

namespace Kiln::Ui {

class MetricChart;
struct SeriesBuffer;

// The run page's "System" section: the run's system metrics (the `sys/` keys its supervisor records,
// core/runs/SystemMetrics.h) as small charts in a compact grid, over time since the run began, grouped
// (CPU, memory, I/O, threads, files, and per GPU its utilization, memory, temperature and power); its
// heading toggles the grid and sums the run up: peak memory and mean CPU (also for the page's header).
class SystemSection final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SystemSection)
public:
    explicit SystemSection(QWidget* parent = nullptr);

    static bool isSystemKey(const QString& key);
    void setStarted(double started) { m_started = started; }
    // A new key's buffer (sys/...): it joins its group's chart.
    void addSeries(const QString& key, const std::shared_ptr<SeriesBuffer>& buffer, qint64 run);
    void dataAppended(); // some buffer grew
    void setColumns(int columns);

    QString summary() const { return m_summaryText; } // "peak 311 MB · mean CPU 1.9 cores", or empty
    QList<MetricChart*> charts() const;
    MetricChart* chart(const QString& group) const { return m_charts.value(group); } // "cpu", "memory", ...
    bool expanded() const;

Q_SIGNALS:
    void summaryChanged(const QString& summary);

private:
    void layoutCharts();
    void updateSummary();

    QToolButton* m_toggle;
    QLabel* m_summary;
    QWidget* m_grid;
    QGridLayout* m_gridLayout;
    QHash<QString, MetricChart*> m_charts; // by group
    QStringList m_order;                   // groups in display order
    QHash<QString, std::shared_ptr<SeriesBuffer>> m_buffers;
    QString m_summaryText;
    double m_started = 0;
    int m_columns = 3;
};

} // namespace Kiln::Ui
