#pragma once
#include <QHash>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;
class QLabel;
QT_END_NAMESPACE

namespace Kiln::Ui {

// A live line chart of one or more metric series. Points are kept in columnar buffers; what is drawn is
// each pixel column's first/min/max/last (Kiln::Metrics::reduceMinMax), so every spike stays visible
// while at most ~4 points per pixel reach Qt Charts. Appends only mark the chart dirty; a single-shot
// timer redraws at most every 40 ms.
class MetricChart final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricChart)
public:
    explicit MetricChart(const QString& title, QWidget* parent = nullptr);
    ~MetricChart() override;

    void append(const QString& series, const std::vector<double>& xs, const std::vector<double>& ys);
    QStringList seriesNames() const;
    qsizetype pointCount(const QString& series) const;
    qsizetype drawnPointCount(const QString& series) const;
    QChartView* view() const { return m_view; }
    void redrawNow();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    struct Series {
        std::vector<double> xs;
        std::vector<double> ys;
        QLineSeries* line = nullptr;
        bool sorted = true;
    };
    void scheduleRedraw();

    QChart* m_chart;
    QChartView* m_view;
    QValueAxis* m_xAxis;
    QValueAxis* m_yAxis;
    QLabel* m_footer;
    QHash<QString, Series> m_series;
    QStringList m_order;
    QTimer m_redraw;
};

} // namespace Kiln::Ui
