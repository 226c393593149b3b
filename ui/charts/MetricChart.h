#pragma once
#include "metrics/Reduce.h"

#include <QColor>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

namespace Kiln::Ui {

struct SeriesBuffer;

// A live line chart drawn with QPainter: Qt Charts needs ~40 ms to take 36k points and ~30 ms to paint
// them (MACHINE-FACTS), over the 16 ms budget for 10 runs. Curves read shared columnar SeriesBuffers;
// each redraw reduces the visible x-range of every curve to its pixel columns' first/min/max/last
// (binary search for the columns, cached block ranges for the extremes), so every spike stays visible at
// any zoom. Appends only mark the chart dirty; a single-shot timer redraws at most 25 times a second.
// x can be the step, wall time, time since the run started, or another metric of the run; both axes can
// be logarithmic (non-positive values are left out and counted); smoothing is a debiased EMA drawn over
// the faint raw curve. Wheel zooms, drag pans, double-click (or Home) shows everything, and "follow" keeps
// the newest data in view while new points arrive. Hover shows the nearest point of every curve.
class MetricChart final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricChart)
public:
    enum class XAxis { Step, WallTime, RelativeTime, Metric };
    struct Curve {
        qint64 run = 0;
        QString label;
        QColor color;
        std::shared_ptr<SeriesBuffer> data;
        double start = 0; // the run's start (seconds since 1970), for relative time; 0: its first point
    };
    // Finds the buffer of metric `key` of `run`, for x = another metric.
    using Lookup = std::function<std::shared_ptr<SeriesBuffer>(qint64 run, const QString& key)>;

    explicit MetricChart(const QString& title, QWidget* parent = nullptr);
    ~MetricChart() override;

    int addCurve(const Curve& curve);
    void setLookup(Lookup lookup) { m_lookup = std::move(lookup); }
    void dataAppended(); // some buffer grew: redraw soon
    void redrawNow();

    void setXAxis(XAxis axis, const QString& metric = {});
    XAxis xAxis() const { return m_xAxis; }
    QString xMetric() const { return m_xMetric; }
    void setSmoothing(double weight); // 0 (off) .. 0.999
    double smoothing() const { return m_smoothing; }
    void setLogX(bool on);
    void setLogY(bool on);
    bool logX() const { return m_logX; }
    bool logY() const { return m_logY; }
    void setFollow(bool on);
    bool follow() const { return m_follow; }
    void setCurveVisible(int curve, bool visible);
    void setCurveColor(int curve, const QColor& color); // e.g. dimmed once a sweep stops its trial
    bool curveVisible(int curve) const;
    void setXRange(double lo, double hi); // in axis units (log10 of them on a log axis)
    void resetView();
    std::pair<double, double> xRange() const { return {m_xLo, m_xHi}; }

    int curveCount() const;
    bool showsPreview() const; // some curve is still an overview (SeriesBuffer::preview)
    const Curve& curve(int i) const;
    QStringList seriesNames() const;
    qsizetype pointCount(const QString& label) const;
    qsizetype drawnPointCount(const QString& label) const;
    // What is drawn for curve i, in axis units (after smoothing, log and reduction).
    const std::vector<Metrics::XY>& drawn(int curve) const;
    qsizetype hiddenNonPositive() const { return m_hiddenNonPositive; }
    QRect legendRect(int curve) const;
    QString hoverText() const { return m_hoverText; }
    double lastRedrawMs() const { return m_lastRedrawMs; }

    bool exportPng(const QString& path);
    bool exportSvg(const QString& path);
    bool exportCsv(const QString& path) const;

Q_SIGNALS:
    void viewChanged(); // zoom, pan or follow changed by the user
    void legendToggled(int curve, bool visible);
    void painted(); // after each paint: for measuring logged-to-painted latency
    // The view is zoomed into steps [from, to] while some curve is still a preview (SeriesBuffer): the
    // level of detail of that range at `columns` would make it exact there (see refine()).
    void detailWanted(double from, double to, int columns);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    struct CurveState;
    void rebuild();              // reduce every visible curve for the current view
    void prepare(CurveState& c); // bring the transformed columns up to date
    void invalidateTransforms();
    QRect plotRect() const;
    void paintChart(QPainter& p, const QRect& area);
    void zoomX(double factor, double anchorX);
    void panPixels(int dx);
    void updateHover(const QPoint& at);
    double toPixelX(double x, const QRect& r) const;
    double toPixelY(double y, const QRect& r) const;

    std::vector<QRect> legendRects(const QRect& area) const;
    QString xLabel(double x) const;

    QString m_title;
    std::vector<std::unique_ptr<CurveState>> m_curves;
    Lookup m_lookup;
    XAxis m_xAxis = XAxis::Step;
    QString m_xMetric;
    double m_smoothing = 0;
    bool m_logX = false, m_logY = false, m_follow = false;
    bool m_autoX = true; // show all data until the user zooms or pans
    double m_xLo = 0, m_xHi = 1, m_yLo = 0, m_yHi = 1;
    double m_dataXLo = 0, m_dataXHi = 1;
    qsizetype m_hiddenNonPositive = 0;
    bool m_dirty = true;
    QTimer m_redraw;
    QPoint m_dragFrom;
    bool m_dragging = false;
    QPoint m_hoverAt{-1, -1};
    QString m_hoverText;
    double m_lastRedrawMs = 0;
    struct {
        double lo = 0, hi = 0;
        int columns = 0;
    } m_detailAsked;
};

} // namespace Kiln::Ui
