#include "ParallelCoordinates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace Kiln::Ui {

namespace {

constexpr int kMargin = 36;

bool isNumber(const QVariant& v) {
    return v.isValid() && !v.isNull() &&
           (v.typeId() == QMetaType::Double || v.typeId() == QMetaType::LongLong ||
            v.typeId() == QMetaType::Int);
}

// Dark blue (worst) to orange (best).
QColor ramp(double t) {
    t = std::clamp(t, 0.0, 1.0);
    const QColor a(0x2c, 0x3e, 0x8f), b(0xf5, 0x8a, 0x07);
    return QColor::fromRgbF(static_cast<float>(a.redF() + (b.redF() - a.redF()) * t),
                            static_cast<float>(a.greenF() + (b.greenF() - a.greenF()) * t),
                            static_cast<float>(a.blueF() + (b.blueF() - a.blueF()) * t));
}

} // namespace

ParallelCoordinates::ParallelCoordinates(QWidget* parent)
    : QWidget(parent) {
    setObjectName(QStringLiteral("parallelCoordinates"));
    setMinimumSize(320, 180);
    setFocusPolicy(Qt::StrongFocus);
    setToolTip(tr("Drag along an axis to select a range; double-click it (or press Escape) to clear"));
}

void ParallelCoordinates::setData(const QList<Axis>& axes, const QList<QList<QVariant>>& rows,
                                  const QList<bool>& dimmed, bool maximize) {
    const bool sameAxes = axes.size() == m_axes.size() &&
                          std::equal(axes.begin(), axes.end(), m_axes.begin(),
                                     [](const Axis& a, const Axis& b) { return a.name == b.name; });
    m_axes = axes;
    m_rows = rows;
    m_dimmed = dimmed;
    m_maximize = maximize;
    m_scales.clear();
    for (int a = 0; a < axes.size(); ++a) {
        Scale s;
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto& r : rows) {
            const auto& v = r.value(a);
            if (isNumber(v)) {
                double x = v.toDouble();
                if (axes[a].log) {
                    if (x <= 0)
                        continue;
                    x = std::log10(x);
                }
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            } else if (v.isValid() && !v.isNull()) {
                s.words = true;
                if (!s.categories.contains(v.toString()))
                    s.categories << v.toString();
            }
        }
        if (s.words) {
            // Numbers among words become words too.
            for (const auto& r : rows)
                if (isNumber(r.value(a)) && !s.categories.contains(r.value(a).toString()))
                    s.categories << r.value(a).toString();
        } else if (std::isfinite(lo)) {
            if (hi - lo < 1e-12) {
                lo -= 0.5;
                hi += 0.5;
            }
            s.lo = lo;
            s.hi = hi;
        }
        m_scales << s;
    }
    if (!sameAxes)
        m_brush = QList<std::optional<std::pair<double, double>>>(axes.size());
    update();
}

double ParallelCoordinates::position(int axis, const QVariant& v) const {
    const auto& s = m_scales[axis];
    if (!v.isValid() || v.isNull())
        return std::nan("");
    if (s.words) {
        const auto i = s.categories.indexOf(v.toString());
        return (i + 0.5) / static_cast<double>(std::max<qsizetype>(1, s.categories.size()));
    }
    double x = v.toDouble();
    if (m_axes[axis].log) {
        if (x <= 0)
            return std::nan("");
        x = std::log10(x);
    }
    return (x - s.lo) / (s.hi - s.lo);
}

bool ParallelCoordinates::accepts(int row) const {
    if (row < 0 || row >= m_rows.size())
        return true;
    for (int a = 0; a < m_brush.size(); ++a) {
        if (!m_brush[a])
            continue;
        const double p = position(a, m_rows[row].value(a));
        if (std::isnan(p) || p < m_brush[a]->first - 1e-9 || p > m_brush[a]->second + 1e-9)
            return false;
    }
    return true;
}

void ParallelCoordinates::setBrush(int axis, std::optional<std::pair<double, double>> range) {
    if (axis < 0 || axis >= m_brush.size())
        return;
    if (range) {
        auto [lo, hi] = *range;
        if (!m_scales[axis].words) {
            auto toPos = [&](double x) {
                if (m_axes[axis].log)
                    x = std::log10(std::max(x, 1e-300));
                return (x - m_scales[axis].lo) / (m_scales[axis].hi - m_scales[axis].lo);
            };
            lo = toPos(lo);
            hi = toPos(hi);
        }
        range = std::make_pair(std::min(lo, hi), std::max(lo, hi));
    }
    m_brush[axis] = range;
    update();
    Q_EMIT brushChanged();
}

QRect ParallelCoordinates::plotArea() const {
    return rect().adjusted(kMargin + 20, kMargin, -kMargin - 20, -kMargin + 8);
}

QRect ParallelCoordinates::axisRect(int axis) const {
    const auto area = plotArea();
    const int n = std::max(1, axisCount());
    const int x = n == 1 ? area.center().x() : area.left() + area.width() * axis / (n - 1);
    return QRect(x - 6, area.top(), 12, area.height());
}

int ParallelCoordinates::axisAt(int x) const {
    int nearest = -1;
    for (int a = 0; a < axisCount(); ++a)
        if (std::abs(axisRect(a).center().x() - x) <= 12 &&
            (nearest < 0 ||
             std::abs(axisRect(a).center().x() - x) < std::abs(axisRect(nearest).center().x() - x)))
            nearest = a;
    return nearest;
}

double ParallelCoordinates::toPosition(int, double y) const {
    const auto area = plotArea();
    const double p = (area.bottom() - y) / static_cast<double>(std::max(1, area.height()));
    // Within a few pixels of an end is the end: a drag from the top takes the best trial too.
    const double snap = 4.0 / std::max(1, area.height());
    return p >= 1 - snap ? 1.0 : p <= snap ? 0.0 : p;
}

QString ParallelCoordinates::label(int axis, double p) const {
    const auto& s = m_scales[axis];
    double x = s.lo + p * (s.hi - s.lo);
    if (m_axes[axis].log)
        x = std::pow(10.0, x);
    return QString::number(x, 'g', 3);
}

void ParallelCoordinates::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const auto area = plotArea();
    if (m_axes.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Trials appear here as they report"));
        return;
    }
    const int metric = axisCount() - 1;
    double worst = std::numeric_limits<double>::infinity(), best = -worst;
    for (const auto& r : m_rows)
        if (isNumber(r.value(metric))) {
            const double v = r.value(metric).toDouble() * (m_maximize ? 1 : -1);
            worst = std::min(worst, v);
            best = std::max(best, v);
        }
    auto yOf = [&](double pos) { return area.bottom() - pos * area.height(); };
    // Rejected lines first (pale), then accepted ones by rising metric, so the best are on top.
    QList<int> order;
    for (int i = 0; i < m_rows.size(); ++i)
        order << i;
    auto score = [&](int i) {
        const auto& v = m_rows[i].value(metric);
        return isNumber(v) ? v.toDouble() * (m_maximize ? 1 : -1) : -std::numeric_limits<double>::infinity();
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        if (accepts(a) != accepts(b))
            return !accepts(a);
        return score(a) < score(b);
    });
    for (int i : order) {
        QPainterPath path;
        bool started = false;
        for (int a = 0; a < axisCount(); ++a) {
            const double pos = position(a, m_rows[i].value(a));
            if (std::isnan(pos)) {
                started = false;
                continue;
            }
            const QPointF pt(axisRect(a).center().x(), yOf(pos));
            started ? path.lineTo(pt) : path.moveTo(pt);
            started = true;
        }
        QColor c = isNumber(m_rows[i].value(metric))
                       ? ramp(best > worst ? (score(i) - worst) / (best - worst) : 1.0)
                       : palette().color(QPalette::Disabled, QPalette::Text);
        if (!accepts(i))
            c = palette().color(QPalette::Midlight);
        else if (m_dimmed.value(i))
            c.setAlphaF(0.45f);
        p.setPen(QPen(c, m_dimmed.value(i) ? 1.0 : 1.8));
        p.drawPath(path);
    }
    // Axes, their names, ranges and brushes.
    const auto text = palette().color(QPalette::Text);
    for (int a = 0; a < axisCount(); ++a) {
        const int x = axisRect(a).center().x();
        p.setPen(QPen(text, 1));
        p.drawLine(x, area.top(), x, area.bottom());
        QFont bold = font();
        bold.setBold(a == metric);
        p.setFont(bold);
        const QRect nameBox(x - 80, 2, 160, kMargin - 14);
        p.drawText(nameBox, Qt::AlignHCenter | Qt::AlignBottom,
                   m_axes[a].name + (m_axes[a].log ? QStringLiteral(" (log)") : QString()));
        p.setFont(font());
        const auto& s = m_scales[a];
        p.setPen(palette().color(QPalette::PlaceholderText));
        if (s.words) {
            for (int k = 0; k < s.categories.size(); ++k)
                p.drawText(QRect(x + 4, static_cast<int>(yOf((k + 0.5) / s.categories.size())) - 8, 90, 16),
                           Qt::AlignLeft | Qt::AlignVCenter, s.categories[k]);
        } else {
            p.drawText(QRect(x - 60, area.bottom() + 2, 120, 16), Qt::AlignHCenter | Qt::AlignTop,
                       label(a, 0));
            p.drawText(QRect(x - 60, area.top() - 17, 120, 16), Qt::AlignHCenter | Qt::AlignBottom,
                       label(a, 1));
        }
        if (a < m_brush.size() && m_brush[a]) {
            const QRectF band(x - 7, yOf(m_brush[a]->second), 14,
                              (m_brush[a]->second - m_brush[a]->first) * area.height());
            QColor fill = palette().color(QPalette::Highlight);
            fill.setAlphaF(0.35f);
            p.fillRect(band, fill);
            p.setPen(QPen(palette().color(QPalette::Highlight), 1));
            p.drawRect(band);
        }
    }
}

void ParallelCoordinates::mousePressEvent(QMouseEvent* e) {
    m_dragAxis = axisAt(static_cast<int>(e->position().x()));
    if (m_dragAxis >= 0)
        m_dragFrom = toPosition(m_dragAxis, e->position().y());
}

void ParallelCoordinates::mouseMoveEvent(QMouseEvent* e) {
    if (m_dragAxis < 0)
        return;
    const double to = toPosition(m_dragAxis, e->position().y());
    if (std::abs(to - m_dragFrom) < 0.01)
        return;
    m_brush[m_dragAxis] = std::make_pair(std::min(m_dragFrom, to), std::max(m_dragFrom, to));
    update();
    Q_EMIT brushChanged();
}

void ParallelCoordinates::mouseReleaseEvent(QMouseEvent* e) {
    mouseMoveEvent(e);
    m_dragAxis = -1;
}

void ParallelCoordinates::mouseDoubleClickEvent(QMouseEvent* e) {
    const int a = axisAt(static_cast<int>(e->position().x()));
    if (a >= 0 && m_brush[a]) {
        m_brush[a].reset();
        update();
        Q_EMIT brushChanged();
    }
}

void ParallelCoordinates::keyPressEvent(QKeyEvent* e) {
    if (e->key() != Qt::Key_Escape)
        return QWidget::keyPressEvent(e);
    for (auto& b : m_brush)
        b.reset();
    update();
    Q_EMIT brushChanged();
}

} // namespace Kiln::Ui
