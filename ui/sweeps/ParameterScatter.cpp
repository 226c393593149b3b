#include "ParameterScatter.h"

#include <cmath>
#include <limits>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QValueAxis>
#include <QVBoxLayout>

namespace Kiln::Ui {

ParameterScatter::ParameterScatter(QWidget* parent)
    : QWidget(parent)
    , m_parameter(new QComboBox(this))
    , m_view(new QChartView(new QChart, this)) {
    setObjectName(QStringLiteral("parameterScatter"));
    m_parameter->setObjectName(QStringLiteral("scatterParameter"));
    m_parameter->setToolTip(tr("The parameter on the x axis"));
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->chart()->legend()->hide();
    m_view->chart()->setMargins(QMargins(4, 4, 4, 4));
    m_view->setMinimumSize(240, 180);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_parameter);
    layout->addWidget(m_view, 1);
    connect(m_parameter, &QComboBox::currentIndexChanged, this, &ParameterScatter::rebuild);
}

QChart* ParameterScatter::chart() const {
    return m_view->chart();
}

QString ParameterScatter::xTitle() const {
    const auto axes = m_view->chart()->axes(Qt::Horizontal);
    return axes.isEmpty() ? QString() : axes.first()->titleText();
}

void ParameterScatter::setData(const QStringList& names, const QList<bool>& log,
                               const QList<QList<QVariant>>& rows, const QList<QVariant>& metric,
                               const QList<bool>& stopped, const QString& metricName) {
    m_rows = rows;
    m_metric = metric;
    m_stopped = stopped;
    m_metricName = metricName;
    m_log = log;
    if (names != m_names) {
        m_names = names;
        QSignalBlocker block(m_parameter);
        const auto current = m_parameter->currentText();
        m_parameter->clear();
        for (const auto& n : names)
            m_parameter->addItem(tr("%1 against %2").arg(metricName, n), n);
        m_parameter->setCurrentIndex(std::max(0, static_cast<int>(names.indexOf(current))));
    }
    rebuild();
}

int ParameterScatter::pointCount() const {
    return (m_kept ? static_cast<int>(m_kept->count()) : 0) +
           (m_faint ? static_cast<int>(m_faint->count()) : 0);
}

void ParameterScatter::rebuild() {
    auto* chart = m_view->chart();
    chart->removeAllSeries();
    for (auto* axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
    m_kept = m_faint = nullptr;
    const int p = m_parameter->currentIndex();
    if (p < 0 || p >= m_names.size())
        return;
    // Words are placed by their order of first appearance.
    QStringList words;
    for (const auto& r : m_rows) {
        const auto& v = r.value(p);
        if (v.isValid() && v.typeId() == QMetaType::QString && !words.contains(v.toString()))
            words << v.toString();
    }
    const bool log = m_log.value(p) && words.isEmpty();
    m_kept = new QScatterSeries(chart);
    m_faint = new QScatterSeries(chart);
    m_kept->setMarkerSize(9);
    m_faint->setMarkerSize(7);
    m_kept->setColor(QColor(0xf5, 0x8a, 0x07));
    m_faint->setColor(palette().color(QPalette::Disabled, QPalette::Text));
    double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
    for (int i = 0; i < m_rows.size(); ++i) {
        const auto& v = m_rows[i].value(p);
        if (!v.isValid() || !m_metric.value(i).isValid())
            continue;
        const double x = words.isEmpty() ? v.toDouble() : static_cast<double>(words.indexOf(v.toString()));
        const double y = m_metric[i].toDouble();
        if (log && x <= 0)
            continue;
        (m_stopped.value(i) ? m_faint : m_kept)->append(x, y);
        xlo = std::min(xlo, x);
        xhi = std::max(xhi, x);
        ylo = std::min(ylo, y);
        yhi = std::max(yhi, y);
    }
    chart->addSeries(m_faint);
    chart->addSeries(m_kept);
    QAbstractAxis* xAxis = nullptr;
    if (!words.isEmpty()) {
        auto* cats = new QCategoryAxis;
        for (int k = 0; k < words.size(); ++k)
            cats->append(words[k], k + 0.5);
        cats->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        cats->setRange(-0.5, words.size() - 0.5);
        xAxis = cats;
    } else if (log) {
        auto* axis = new QLogValueAxis;
        axis->setLabelFormat(QStringLiteral("%.3g"));
        if (std::isfinite(xlo))
            axis->setRange(xlo / 1.5, xhi * 1.5);
        xAxis = axis;
    } else {
        auto* axis = new QValueAxis;
        if (std::isfinite(xlo)) {
            const double pad = xhi > xlo ? (xhi - xlo) * 0.05 : 0.5;
            axis->setRange(xlo - pad, xhi + pad);
        }
        xAxis = axis;
    }
    xAxis->setTitleText(m_names[p] + (log ? tr(" (log)") : QString()));
    auto* yAxis = new QValueAxis;
    if (std::isfinite(ylo)) {
        const double pad = yhi > ylo ? (yhi - ylo) * 0.05 : 0.5;
        yAxis->setRange(ylo - pad, yhi + pad);
    }
    yAxis->setTitleText(m_metricName);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    for (auto* s : {m_faint, m_kept}) {
        s->attachAxis(xAxis);
        s->attachAxis(yAxis);
    }
}

} // namespace Kiln::Ui
