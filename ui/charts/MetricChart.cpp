#include "MetricChart.h"

#include "metrics/Reduce.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <QChart>
#include <QChartView>
#include <QGuiApplication>
#include <QLabel>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>

namespace Kiln::Ui {

MetricChart::MetricChart(const QString& title, QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart)
    , m_view(new QChartView(m_chart, this))
    , m_xAxis(new QValueAxis)
    , m_yAxis(new QValueAxis)
    , m_footer(new QLabel(this)) {
    m_chart->setTitle(title);
    m_chart->legend()->setVisible(false);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->addAxis(m_xAxis, Qt::AlignBottom);
    m_chart->addAxis(m_yAxis, Qt::AlignLeft);
    m_xAxis->setTitleText(tr("step"));
    m_xAxis->setLabelFormat(QStringLiteral("%g"));
    m_yAxis->setLabelFormat(QStringLiteral("%.4g"));
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(220);
    m_footer->setObjectName(QStringLiteral("chartFooter"));
    m_footer->setAlignment(Qt::AlignRight);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_view);
    layout->addWidget(m_footer);
    m_redraw.setSingleShot(true);
    m_redraw.setInterval(40);
    connect(&m_redraw, &QTimer::timeout, this, &MetricChart::redrawNow);
}

MetricChart::~MetricChart() = default;

void MetricChart::append(const QString& name, const std::vector<double>& xs, const std::vector<double>& ys) {
    auto it = m_series.find(name);
    if (it == m_series.end()) {
        it = m_series.insert(name, Series{});
        it->line = new QLineSeries(m_chart);
        it->line->setName(name);
        m_chart->addSeries(it->line);
        it->line->attachAxis(m_xAxis);
        it->line->attachAxis(m_yAxis);
        m_order.append(name);
        m_chart->legend()->setVisible(m_order.size() > 1);
    }
    auto& s = *it;
    const std::size_t n = std::min(xs.size(), ys.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (!s.xs.empty() && xs[i] < s.xs.back())
            s.sorted = false;
        s.xs.push_back(xs[i]);
        s.ys.push_back(ys[i]);
    }
    scheduleRedraw();
}

void MetricChart::scheduleRedraw() {
    if (!m_redraw.isActive())
        m_redraw.start();
}

void MetricChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    scheduleRedraw();
}

void MetricChart::redrawNow() {
    m_redraw.stop();
    double xMin = INFINITY, xMax = -INFINITY;
    for (auto& s : m_series) {
        if (!s.sorted) {
            // Steps logged out of order: sort once (x with its y) so the reduction can binary-search.
            std::vector<std::size_t> idx(s.xs.size());
            std::iota(idx.begin(), idx.end(), 0);
            std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return s.xs[a] < s.xs[b]; });
            std::vector<double> xs(idx.size()), ys(idx.size());
            for (std::size_t i = 0; i < idx.size(); ++i) {
                xs[i] = s.xs[idx[i]];
                ys[i] = s.ys[idx[i]];
            }
            s.xs.swap(xs);
            s.ys.swap(ys);
            s.sorted = true;
        }
        if (!s.xs.empty()) {
            xMin = std::min(xMin, s.xs.front());
            xMax = std::max(xMax, s.xs.back());
        }
    }
    if (!std::isfinite(xMin))
        return;
    const int columns = std::max(50, static_cast<int>(m_chart->plotArea().width()));
    double yMin = INFINITY, yMax = -INFINITY;
    qsizetype total = 0;
    for (auto& s : m_series) {
        const auto reduced = Metrics::reduceMinMax(s.xs, s.ys, xMin, xMax, columns);
        QList<QPointF> points;
        points.reserve(static_cast<qsizetype>(reduced.size()));
        for (const auto& p : reduced) {
            points.append(QPointF(p.x, p.y));
            if (std::isfinite(p.y)) {
                yMin = std::min(yMin, p.y);
                yMax = std::max(yMax, p.y);
            }
        }
        s.line->setPointsVisible(points.size() < 40);
        s.line->replace(points);
        total += static_cast<qsizetype>(s.xs.size());
    }
    if (xMax <= xMin)
        xMax = xMin + 1;
    if (!(yMax > yMin)) {
        yMin = std::isfinite(yMin) ? yMin - 0.5 : 0;
        yMax = yMin + 1;
    }
    const double pad = (yMax - yMin) * 0.05;
    m_xAxis->setRange(xMin, xMax);
    m_yAxis->setRange(yMin - pad, yMax + pad);
    m_footer->setText(tr("%n point(s)", nullptr, static_cast<int>(total)));
}

QStringList MetricChart::seriesNames() const {
    return m_order;
}

qsizetype MetricChart::pointCount(const QString& series) const {
    auto it = m_series.find(series);
    return it == m_series.end() ? 0 : static_cast<qsizetype>(it->xs.size());
}

qsizetype MetricChart::drawnPointCount(const QString& series) const {
    auto it = m_series.find(series);
    return it == m_series.end() ? 0 : it->line->count();
}

} // namespace Kiln::Ui
