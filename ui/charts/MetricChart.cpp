#include "MetricChart.h"

#include "charts/SeriesBuffer.h"
#include "metrics/Smoothing.h"
#include "metrics/Ticks.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace Kiln::Ui {

using Metrics::XY;
static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A curve and, when the axes or smoothing transform it, its transformed columns (built incrementally).
struct MetricChart::CurveState {
    Curve spec;
    bool visible = true;
    bool direct = true; // draw straight from the buffer's columns
    std::vector<double> xs, ys, raw;
    std::vector<std::uint32_t> src; // buffer index of each transformed point
    Metrics::BlockIndex index, rawIndex;
    Metrics::Ema ema{0};
    std::size_t done = 0;         // buffer points transformed so far
    std::uint64_t generation = 0; // of the buffer's points when they were transformed
    bool sorted = true;
    qsizetype hidden = 0; // non-positive values left out on a log axis
    std::vector<XY> drawn, drawnRaw;

    std::span<const double> xSpan(XAxis axis) const {
        if (!direct)
            return xs;
        return axis == XAxis::WallTime ? std::span<const double>(spec.data->times) : spec.data->steps;
    }
    std::span<const double> ySpan() const { return direct ? std::span<const double>(spec.data->values) : ys; }
    const Metrics::BlockIndex& yIndex() const { return direct ? spec.data->valueIndex : index; }
    std::size_t srcOf(std::size_t i) const { return direct ? i : src[i]; }
    void reset(double smoothing) { // transform the buffer's points again from the first
        done = 0;
        xs.clear(), ys.clear(), raw.clear(), src.clear(), index.clear(), rawIndex.clear();
        ema = Metrics::Ema(smoothing);
        sorted = true;
        hidden = 0;
        generation = spec.data->generation;
    }
};

MetricChart::MetricChart(const QString& title, QWidget* parent)
    : QWidget(parent)
    , m_title(title) {
    setMinimumSize(240, 200);
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    m_redraw.setSingleShot(true);
    m_redraw.setInterval(40); // at most 25 redraws a second, however fast points arrive
    connect(&m_redraw, &QTimer::timeout, this, &MetricChart::redrawNow);
}

MetricChart::~MetricChart() = default;

int MetricChart::curveCount() const {
    return static_cast<int>(m_curves.size());
}

bool MetricChart::showsPreview() const {
    return std::any_of(m_curves.begin(), m_curves.end(), [](const auto& c) { return c->spec.data->preview; });
}

const MetricChart::Curve& MetricChart::curve(int i) const {
    return m_curves[static_cast<std::size_t>(i)]->spec;
}

int MetricChart::addCurve(const Curve& curve) {
    auto state = std::make_unique<CurveState>();
    state->spec = curve;
    state->ema = Metrics::Ema(m_smoothing);
    m_curves.push_back(std::move(state));
    dataAppended();
    return curveCount() - 1;
}

void MetricChart::dataAppended() {
    m_dirty = true;
    if (!m_redraw.isActive())
        m_redraw.start();
}

void MetricChart::redrawNow() {
    m_redraw.stop();
    rebuild();
    update();
}

void MetricChart::invalidateTransforms() {
    for (auto& c : m_curves)
        c->reset(m_smoothing);
    m_autoX = true;
    dataAppended();
}

void MetricChart::setXAxis(XAxis axis, const QString& metric) {
    if (axis == m_xAxis && metric == m_xMetric)
        return;
    m_xAxis = axis;
    m_xMetric = metric;
    invalidateTransforms();
}

void MetricChart::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.999);
    if (weight == m_smoothing)
        return;
    m_smoothing = weight;
    const bool autoX = m_autoX;
    invalidateTransforms();
    m_autoX = autoX; // smoothing keeps the user's zoom
}

void MetricChart::setLogX(bool on) {
    if (on != m_logX) {
        m_logX = on;
        invalidateTransforms();
    }
}

void MetricChart::setLogY(bool on) {
    if (on != m_logY) {
        m_logY = on;
        const bool autoX = m_autoX;
        invalidateTransforms();
        m_autoX = autoX;
    }
}

void MetricChart::setFollow(bool on) {
    m_follow = on;
    dataAppended();
}

void MetricChart::setCurveVisible(int curve, bool visible) {
    m_curves[static_cast<std::size_t>(curve)]->visible = visible;
    dataAppended();
    Q_EMIT legendToggled(curve, visible);
}

void MetricChart::setCurveColor(int curve, const QColor& color) {
    auto& c = *m_curves[static_cast<std::size_t>(curve)];
    if (c.spec.color == color)
        return;
    c.spec.color = color;
    dataAppended();
}

bool MetricChart::curveVisible(int curve) const {
    return m_curves[static_cast<std::size_t>(curve)]->visible;
}

void MetricChart::setXRange(double lo, double hi) {
    if (!(hi > lo))
        return;
    m_autoX = false;
    m_xLo = lo;
    m_xHi = hi;
    dataAppended();
}

void MetricChart::resetView() {
    m_autoX = true;
    dataAppended();
}

QStringList MetricChart::seriesNames() const {
    QStringList out;
    for (const auto& c : m_curves)
        out << c->spec.label;
    return out;
}

qsizetype MetricChart::pointCount(const QString& label) const {
    for (const auto& c : m_curves)
        if (c->spec.label == label)
            return static_cast<qsizetype>(c->spec.data->size());
    return 0;
}

qsizetype MetricChart::drawnPointCount(const QString& label) const {
    for (const auto& c : m_curves)
        if (c->spec.label == label)
            return static_cast<qsizetype>(c->drawn.size());
    return 0;
}

const std::vector<XY>& MetricChart::drawn(int curve) const {
    return m_curves[static_cast<std::size_t>(curve)]->drawn;
}

void MetricChart::prepare(CurveState& c) {
    const SeriesBuffer& d = *c.spec.data;
    const bool sortedSource = m_xAxis == XAxis::WallTime ? d.timesAscending : d.stepsAscending;
    c.direct = m_smoothing == 0 && !m_logX && !m_logY && sortedSource &&
               (m_xAxis == XAxis::Step || m_xAxis == XAxis::WallTime);
    if (c.direct)
        return;
    std::vector<double> aligned;
    if (c.generation != d.generation)
        c.reset(m_smoothing); // the points were replaced (the preview by the points)
    if (m_xAxis == XAxis::Metric) {
        // The other metric may gain points for steps already drawn: align everything again.
        c.reset(m_smoothing);
        auto other = m_lookup ? m_lookup(c.spec.run, m_xMetric) : nullptr;
        if (!other)
            return;
        aligned = Metrics::alignByStep(d.steps, other->steps, other->values);
    }
    const double t0 = c.spec.start > 0 ? c.spec.start : (d.times.empty() ? 0 : d.times.front());
    for (std::size_t i = c.done; i < d.size(); ++i) {
        double x = m_xAxis == XAxis::Step       ? d.steps[i]
                   : m_xAxis == XAxis::WallTime ? d.times[i]
                   : m_xAxis == XAxis::Metric   ? aligned[i]
                                                : d.times[i] - t0;
        double raw = d.values[i];
        double y = m_smoothing > 0 ? c.ema.push(raw) : raw;
        if (!std::isfinite(x))
            continue;
        if (m_logX) {
            if (x <= 0) {
                ++c.hidden;
                continue;
            }
            x = std::log10(x);
        }
        if (m_logY) {
            if (!(y > 0)) {
                ++c.hidden;
                continue;
            }
            y = std::log10(y);
            raw = raw > 0 ? std::log10(raw) : kNaN;
        }
        if (!c.xs.empty() && x < c.xs.back())
            c.sorted = false;
        c.xs.push_back(x);
        c.ys.push_back(y);
        c.raw.push_back(raw);
        c.src.push_back(static_cast<std::uint32_t>(i));
    }
    c.done = d.size();
    c.index.extend(c.ys);
    if (m_smoothing > 0)
        c.rawIndex.extend(c.raw);
}

QRect MetricChart::plotRect() const {
    return rect().adjusted(64, 28, -14, -36);
}

void MetricChart::rebuild() {
    QElapsedTimer timer;
    timer.start();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    m_hiddenNonPositive = 0;
    for (auto& c : m_curves) {
        prepare(*c);
        m_hiddenNonPositive += c->direct ? 0 : c->hidden;
        if (!c->visible)
            continue;
        const auto xs = c->xSpan(m_xAxis);
        if (xs.empty())
            continue;
        if (c->direct || c->sorted) {
            lo = std::min(lo, xs.front());
            hi = std::max(hi, xs.back());
        } else {
            const auto [mn, mx] = std::minmax_element(xs.begin(), xs.end());
            lo = std::min(lo, *mn);
            hi = std::max(hi, *mx);
        }
    }
    if (lo > hi)
        lo = 0, hi = 1;
    if (lo == hi)
        lo -= 0.5, hi += 0.5;
    m_dataXLo = lo;
    m_dataXHi = hi;
    if (m_autoX) { // everything, with a little air so lines at the first and last x are not on the frame
        const double air = (hi - lo) * 0.01;
        m_xLo = lo - air;
        m_xHi = hi + air;
    } else if (m_follow) {
        const double width = m_xHi - m_xLo;
        m_xHi = hi;
        m_xLo = hi - width;
    }
    const int columns = std::max(50, plotRect().width());
    // Zoomed in while some curve is still kilnd's overview: ask for the level of detail of this view.
    const bool previewShown = std::any_of(m_curves.begin(), m_curves.end(),
                                          [](const auto& c) { return c->visible && c->spec.data->preview; });
    if (previewShown && !m_autoX && m_xAxis == XAxis::Step && !m_logX &&
        std::tie(m_xLo, m_xHi, columns) !=
            std::tie(m_detailAsked.lo, m_detailAsked.hi, m_detailAsked.columns)) {
        m_detailAsked = {m_xLo, m_xHi, columns};
        Q_EMIT detailWanted(m_xLo, m_xHi, columns);
    }
    double yLo = std::numeric_limits<double>::infinity(), yHi = -yLo;
    auto extend = [&](const std::vector<XY>& pts) {
        for (const auto& p : pts)
            if (p.x >= m_xLo && p.x <= m_xHi && std::isfinite(p.y))
                yLo = std::min(yLo, p.y), yHi = std::max(yHi, p.y);
    };
    for (auto& c : m_curves) {
        c->drawn.clear();
        c->drawnRaw.clear();
        if (!c->visible)
            continue;
        const auto xs = c->xSpan(m_xAxis);
        const auto ys = c->ySpan();
        if (c->direct || c->sorted) {
            c->drawn = Metrics::reduceMinMax(xs, ys, m_xLo, m_xHi, columns, &c->yIndex());
            if (m_smoothing > 0)
                c->drawnRaw = Metrics::reduceMinMax(xs, c->raw, m_xLo, m_xHi, columns, &c->rawIndex);
        } else {
            // x is not monotonic (another metric): a path in data order, thinned to a drawable size.
            const std::size_t stride = std::max<std::size_t>(1, xs.size() / 200000);
            for (std::size_t i = 0; i < xs.size(); i += stride)
                c->drawn.push_back({xs[i], ys[i]});
        }
        extend(c->drawn);
        extend(c->drawnRaw);
    }
    if (yLo > yHi)
        yLo = 0, yHi = 1;
    if (yLo == yHi) {
        const double pad = std::abs(yLo) > 0 ? std::abs(yLo) * 0.1 : 0.5;
        yLo -= pad, yHi += pad;
    }
    const double pad = (yHi - yLo) * 0.05;
    m_yLo = yLo - pad;
    m_yHi = yHi + pad;
    m_dirty = false;
    m_lastRedrawMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    if (m_hoverAt.x() >= 0)
        updateHover(m_hoverAt);
}

double MetricChart::toPixelX(double x, const QRect& r) const {
    return r.left() + (x - m_xLo) / (m_xHi - m_xLo) * r.width();
}

double MetricChart::toPixelY(double y, const QRect& r) const {
    return r.bottom() - (y - m_yLo) / (m_yHi - m_yLo) * r.height();
}

QString MetricChart::xLabel(double x) const {
    if (m_logX)
        return QString::number(std::pow(10.0, x), 'g', 3);
    if (m_xAxis == XAxis::WallTime)
        return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x * 1000))
            .toString(QStringLiteral("hh:mm:ss"));
    if (m_xAxis == XAxis::RelativeTime)
        return x >= 120 ? QStringLiteral("%1:%2")
                              .arg(static_cast<int>(x) / 60)
                              .arg(static_cast<int>(x) % 60, 2, 10, QLatin1Char('0'))
                        : QStringLiteral("%1 s").arg(x, 0, 'g', 3);
    return QString::number(x, 'g', 6);
}

std::vector<QRect> MetricChart::legendRects(const QRect& area) const {
    std::vector<QRect> out;
    const QFontMetrics fm(font());
    int right = area.right() - 14;
    for (auto it = m_curves.rbegin(); it != m_curves.rend(); ++it) {
        const int w = fm.horizontalAdvance((*it)->spec.label) + 18;
        out.insert(out.begin(), QRect(right - w, area.top() + 6, w, fm.height()));
        right -= w + 10;
    }
    return out;
}

QRect MetricChart::legendRect(int curve) const {
    return legendRects(rect())[static_cast<std::size_t>(curve)];
}

void MetricChart::paintChart(QPainter& p, const QRect& area) {
    const QPalette pal = palette();
    p.fillRect(area, pal.base());
    const QRect r = area.adjusted(64, 28, -14, -36);
    QColor grid = pal.color(QPalette::Text);
    grid.setAlpha(28);
    QColor axisText = pal.color(QPalette::Text);
    axisText.setAlpha(170);
    const QFontMetrics fm(font());

    // Grid, ticks and labels.
    const auto xt = m_logX ? Metrics::logTicks(m_xLo, m_xHi, std::max(2, r.width() / 80))
                           : Metrics::linearTicks(m_xLo, m_xHi, std::max(2, r.width() / 80));
    const auto yt = m_logY ? Metrics::logTicks(m_yLo, m_yHi, std::max(2, r.height() / 45))
                           : Metrics::linearTicks(m_yLo, m_yHi, std::max(2, r.height() / 45));
    for (double t : xt) {
        const double px = toPixelX(t, r);
        p.setPen(grid);
        p.drawLine(QPointF(px, r.top()), QPointF(px, r.bottom()));
        p.setPen(axisText);
        const auto text = xLabel(t);
        p.drawText(QPointF(px - fm.horizontalAdvance(text) / 2.0, r.bottom() + fm.ascent() + 4), text);
    }
    for (double t : yt) {
        const double py = toPixelY(t, r);
        p.setPen(grid);
        p.drawLine(QPointF(r.left(), py), QPointF(r.right(), py));
        p.setPen(axisText);
        const auto text = QString::number(m_logY ? std::pow(10.0, t) : t, 'g', 4);
        p.drawText(QPointF(r.left() - 6 - fm.horizontalAdvance(text), py + fm.ascent() / 2.0 - 1), text);
    }
    p.setPen(axisText);
    p.drawRect(r);
    const QString axisName = m_xAxis == XAxis::Step           ? tr("step")
                             : m_xAxis == XAxis::WallTime     ? tr("wall time")
                             : m_xAxis == XAxis::RelativeTime ? tr("time since start")
                                                              : m_xMetric;
    qsizetype total = 0, drawnCount = 0;
    bool preview = false;
    for (const auto& c : m_curves)
        total += static_cast<qsizetype>(c->spec.data->size()),
            drawnCount += static_cast<qsizetype>(c->drawn.size()), preview = preview || c->spec.data->preview;
    QString footer =
        preview ? tr("overview, loading every point…") : tr("%1 points, %2 drawn").arg(total).arg(drawnCount);
    if (m_hiddenNonPositive)
        footer += tr(" · %1 non-positive left out (log scale)").arg(m_hiddenNonPositive);
    p.drawText(QRect(r.left(), area.bottom() - fm.height() - 2, r.width(), fm.height()), Qt::AlignHCenter,
               axisName + (m_logX ? tr(" (log)") : QString()));
    // The counts where they fit beside the axis name (a small chart has room for the name only).
    if (fm.horizontalAdvance(axisName) / 2 + fm.horizontalAdvance(footer) + 16 < r.width() / 2)
        p.drawText(QRect(r.left(), area.bottom() - fm.height() - 2, r.width(), fm.height()), Qt::AlignRight,
                   footer);

    // Title and legend.
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QPointF(area.left() + 8, area.top() + 6 + fm.ascent()),
               m_title + (m_logY ? tr(" (log)") : QString()));
    p.setFont(font());
    const auto legend = legendRects(area);
    for (std::size_t i = 0; i < m_curves.size() && m_curves.size() > 1; ++i) {
        const auto& c = *m_curves[i];
        const QRect box = legend[i];
        QColor color = c.visible ? c.spec.color : pal.color(QPalette::Disabled, QPalette::Text);
        p.fillRect(QRect(box.left(), box.center().y() - 5, 12, 10), color);
        QFont f = font();
        f.setStrikeOut(!c.visible);
        p.setFont(f);
        p.setPen(c.visible ? pal.color(QPalette::Text) : pal.color(QPalette::Disabled, QPalette::Text));
        p.drawText(QPointF(box.left() + 17, box.top() + fm.ascent()), c.spec.label);
    }
    p.setFont(font());

    // Curves, clipped to the plot.
    p.save();
    p.setClipRect(r.adjusted(1, 1, -1, -1));
    p.setRenderHint(QPainter::Antialiasing, true);
    auto polyline = [&](const std::vector<XY>& pts, QPen pen) {
        // A dense curve (several points per pixel column) is drawn with a 1 px cosmetic pen and without
        // antialiasing: Qt's raster engine strokes it ~10x faster and at that density it looks the same.
        const bool dense = pts.size() > static_cast<std::size_t>(r.width()) * 3 / 2;
        p.setRenderHint(QPainter::Antialiasing, !dense);
        if (dense) {
            pen.setWidthF(1);
            pen.setCosmetic(true);
        }
        p.setPen(pen);
        QPolygonF line;
        line.reserve(static_cast<qsizetype>(pts.size()));
        for (const auto& pt : pts) {
            if (!std::isfinite(pt.y)) { // a gap
                if (line.size() > 1)
                    p.drawPolyline(line);
                line.clear();
                continue;
            }
            line << QPointF(toPixelX(pt.x, r), toPixelY(pt.y, r));
        }
        if (line.size() == 1)
            p.drawEllipse(line.front(), 2, 2);
        else if (line.size() > 1)
            p.drawPolyline(line);
    };
    for (const auto& c : m_curves) {
        if (!c->visible)
            continue;
        if (!c->drawnRaw.empty()) {
            QColor faint = c->spec.color;
            faint.setAlpha(60);
            polyline(c->drawnRaw, QPen(faint, 1.0));
        }
        polyline(c->drawn, QPen(c->spec.color, 1.6));
    }
    p.restore();
    if (total == 0) {
        p.setPen(axisText);
        p.drawText(r, Qt::AlignCenter, tr("No points yet"));
    }

    // Hover: a cursor line and the nearest point of every curve.
    if (!m_hoverText.isEmpty() && r.contains(m_hoverAt)) {
        QColor line = pal.color(QPalette::Text);
        line.setAlpha(90);
        p.setPen(QPen(line, 1, Qt::DashLine));
        p.drawLine(m_hoverAt.x(), r.top(), m_hoverAt.x(), r.bottom());
        const QStringList lines = m_hoverText.split(QLatin1Char('\n'));
        int w = 0;
        for (const auto& l : lines)
            w = std::max(w, fm.horizontalAdvance(l));
        QRect box(m_hoverAt.x() + 12, r.top() + 8, w + 12, static_cast<int>(lines.size()) * fm.height() + 8);
        if (box.right() > r.right())
            box.moveRight(m_hoverAt.x() - 12);
        QColor bg = pal.color(QPalette::ToolTipBase);
        bg.setAlpha(235);
        p.fillRect(box, bg);
        p.setPen(pal.color(QPalette::ToolTipText));
        p.drawRect(box);
        for (int i = 0; i < lines.size(); ++i)
            p.drawText(QPointF(box.left() + 6, box.top() + 4 + fm.ascent() + i * fm.height()), lines[i]);
    }
}

void MetricChart::paintEvent(QPaintEvent*) {
    if (m_dirty)
        rebuild();
    QPainter p(this);
    paintChart(p, rect());
    p.end();
    Q_EMIT painted();
}

void MetricChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_dirty = true; // the number of pixel columns changed
}

void MetricChart::zoomX(double factor, double anchorX) {
    const double lo = anchorX - (anchorX - m_xLo) * factor, hi = anchorX + (m_xHi - anchorX) * factor;
    if (hi - lo < 1e-12 * std::max(1.0, std::abs(anchorX)))
        return;
    m_autoX = false;
    m_follow = false;
    m_xLo = lo;
    m_xHi = hi;
    dataAppended();
    Q_EMIT viewChanged();
}

void MetricChart::panPixels(int dx) {
    const QRect r = plotRect();
    const double shift = -dx * (m_xHi - m_xLo) / std::max(1, r.width());
    m_autoX = false;
    m_follow = false;
    m_xLo += shift;
    m_xHi += shift;
    dataAppended();
    Q_EMIT viewChanged();
}

void MetricChart::mousePressEvent(QMouseEvent* event) {
    const auto legend = legendRects(rect());
    for (std::size_t i = 0; i < legend.size() && m_curves.size() > 1; ++i) {
        if (legend[i].contains(event->position().toPoint())) {
            setCurveVisible(static_cast<int>(i), !m_curves[i]->visible);
            return;
        }
    }
    if (event->button() == Qt::LeftButton && plotRect().contains(event->position().toPoint())) {
        m_dragging = true;
        m_dragFrom = event->position().toPoint();
        setCursor(Qt::ClosedHandCursor);
    }
}

void MetricChart::mouseMoveEvent(QMouseEvent* event) {
    const QPoint at = event->position().toPoint();
    if (m_dragging) {
        panPixels(at.x() - m_dragFrom.x());
        m_dragFrom = at;
    }
    updateHover(at);
}

void MetricChart::mouseReleaseEvent(QMouseEvent*) {
    m_dragging = false;
    unsetCursor();
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent*) {
    resetView();
    Q_EMIT viewChanged();
}

void MetricChart::wheelEvent(QWheelEvent* event) {
    const QRect r = plotRect();
    const double anchor =
        m_xLo + (event->position().x() - r.left()) / std::max(1, r.width()) * (m_xHi - m_xLo);
    zoomX(event->angleDelta().y() > 0 ? 0.8 : 1.25, anchor);
    event->accept();
}

void MetricChart::keyPressEvent(QKeyEvent* event) {
    const double mid = (m_xLo + m_xHi) / 2;
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomX(0.8, mid);
        break;
    case Qt::Key_Minus:
        zoomX(1.25, mid);
        break;
    case Qt::Key_Left:
        panPixels(plotRect().width() / 8);
        break;
    case Qt::Key_Right:
        panPixels(-plotRect().width() / 8);
        break;
    case Qt::Key_Home:
        resetView();
        Q_EMIT viewChanged();
        break;
    case Qt::Key_F:
        setFollow(!m_follow);
        Q_EMIT viewChanged();
        break;
    default:
        QWidget::keyPressEvent(event);
    }
}

void MetricChart::leaveEvent(QEvent*) {
    m_hoverAt = QPoint(-1, -1);
    m_hoverText.clear();
    update();
}

void MetricChart::updateHover(const QPoint& at) {
    m_hoverAt = at;
    const QRect r = plotRect();
    QStringList lines;
    if (r.contains(at)) {
        const double x = m_xLo + (at.x() - r.left()) / double(std::max(1, r.width())) * (m_xHi - m_xLo);
        for (const auto& c : m_curves) {
            const auto xs = c->xSpan(m_xAxis);
            if (!c->visible || xs.empty() || !(c->direct || c->sorted))
                continue;
            auto it = std::lower_bound(xs.begin(), xs.end(), x);
            std::size_t i = static_cast<std::size_t>(it - xs.begin());
            if (i == xs.size() || (i > 0 && std::abs(xs[i - 1] - x) <= std::abs(xs[i] - x)))
                i = i > 0 ? i - 1 : 0;
            const auto& d = *c->spec.data;
            const std::size_t k = c->srcOf(i);
            QString line = QStringLiteral("%1: %2").arg(c->spec.label, QString::number(d.values[k], 'g', 6));
            if (m_smoothing > 0)
                line += tr(" (smoothed %1)")
                            .arg(QString::number(m_logY ? std::pow(10.0, c->ys[i]) : c->ys[i], 'g', 6));
            line += tr("  step %1 · %2")
                        .arg(static_cast<qint64>(d.steps[k]))
                        .arg(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(d.times[k] * 1000))
                                 .toString(QStringLiteral("hh:mm:ss.zzz")));
            lines << line;
        }
    }
    m_hoverText = lines.join(QLatin1Char('\n'));
    update();
}

} // namespace Kiln::Ui
