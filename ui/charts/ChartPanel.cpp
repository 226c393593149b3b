#include "ChartPanel.h"

#include "charts/MetricChart.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QToolButton>
#include <QVBoxLayout>

namespace Kiln::Ui {

ChartPanel::ChartPanel(const QString& title, QWidget* parent)
    : QWidget(parent)
    , m_chart(new MetricChart(title, this))
    , m_xAxis(new QComboBox(this))
    , m_smoothing(new QSlider(Qt::Horizontal, this))
    , m_logX(new QToolButton(this))
    , m_logY(new QToolButton(this))
    , m_follow(new QToolButton(this))
    , m_export(new QToolButton(this)) {
    setObjectName(QStringLiteral("chartPanel"));
    m_xAxis->setObjectName(QStringLiteral("chartXAxis"));
    m_smoothing->setObjectName(QStringLiteral("chartSmoothing"));
    m_logY->setObjectName(QStringLiteral("chartLogY"));
    m_logX->setObjectName(QStringLiteral("chartLogX"));
    m_follow->setObjectName(QStringLiteral("chartFollow"));
    m_xAxis->addItem(tr("step"), QStringLiteral("step"));
    m_xAxis->addItem(tr("wall time"), QStringLiteral("time"));
    m_xAxis->addItem(tr("time since start"), QStringLiteral("relative"));
    m_xAxis->setToolTip(tr("x-axis: step, wall time, time since the run started, or another metric"));
    m_xAxis->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_xAxis->setMinimumContentsLength(9);
    m_smoothing->setRange(0, 99);
    m_smoothing->setToolTip(tr("Smoothing (exponential moving average); the raw curve stays faint behind"));
    m_smoothing->setFixedWidth(60);
    // Compact toggles: two charts side by side must fit their controls.
    for (auto [button, text, tip] :
         {std::tuple{m_logX, tr("log x"), tr("Logarithmic x-axis")},
          std::tuple{m_logY, tr("log y"), tr("Logarithmic y-axis")},
          std::tuple{m_follow, tr("follow"), tr("Keep the newest points in view while zoomed (F)")}}) {
        button->setText(text);
        button->setToolTip(tip);
        button->setCheckable(true);
        button->setAutoRaise(true);
    }
    m_export->setText(tr("Export"));
    m_export->setToolTip(tr("Save the chart as PNG or SVG, or its points as CSV"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    m_export->setAutoRaise(true);
    auto* menu = new QMenu(m_export);
    menu->addAction(tr("Image (PNG)…"), this, [this] { exportAs(QStringLiteral("png")); });
    menu->addAction(tr("Vector image (SVG)…"), this, [this] { exportAs(QStringLiteral("svg")); });
    menu->addAction(tr("Data (CSV)…"), this, [this] { exportAs(QStringLiteral("csv")); });
    m_export->setMenu(menu);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 0, 4, 0);
    bar->setSpacing(4);
    auto* xLabel = new QLabel(tr("&x:"), this);
    xLabel->setBuddy(m_xAxis);
    bar->addWidget(xLabel);
    bar->addWidget(m_xAxis);
    auto* smoothLabel = new QLabel(tr("s&mooth"), this);
    smoothLabel->setBuddy(m_smoothing);
    bar->addWidget(smoothLabel);
    bar->addWidget(m_smoothing);
    bar->addWidget(m_logX);
    bar->addWidget(m_logY);
    bar->addWidget(m_follow);
    bar->addStretch();
    bar->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(bar);
    layout->addWidget(m_chart, 1);
    setMinimumHeight(280);

    connect(m_xAxis, &QComboBox::currentIndexChanged, this, [this] {
        applyXAxis();
        save();
    });
    connect(m_smoothing, &QSlider::valueChanged, this, [this](int v) {
        m_chart->setSmoothing(v / 100.0);
        save();
    });
    connect(m_logX, &QToolButton::toggled, this, [this](bool on) {
        m_chart->setLogX(on);
        save();
    });
    connect(m_logY, &QToolButton::toggled, this, [this](bool on) {
        m_chart->setLogY(on);
        save();
    });
    connect(m_follow, &QToolButton::toggled, this, [this](bool on) {
        if (on != m_chart->follow())
            m_chart->setFollow(on);
    });
    connect(m_chart, &MetricChart::viewChanged, this, [this] { m_follow->setChecked(m_chart->follow()); });
}

void ChartPanel::setMetricKeys(const QStringList& keys) {
    for (const auto& key : keys) {
        const QString data = QStringLiteral("metric:") + key;
        if (m_xAxis->findData(data) < 0)
            m_xAxis->addItem(key, data);
    }
    if (!m_wantedXAxis.isEmpty()) {
        const int i = m_xAxis->findData(m_wantedXAxis);
        if (i >= 0) {
            m_loading = true;
            m_xAxis->setCurrentIndex(i);
            m_loading = false;
            m_wantedXAxis.clear();
        }
    }
}

void ChartPanel::applyXAxis() {
    const auto data = m_xAxis->currentData().toString();
    if (data == QLatin1String("time"))
        m_chart->setXAxis(MetricChart::XAxis::WallTime);
    else if (data == QLatin1String("relative"))
        m_chart->setXAxis(MetricChart::XAxis::RelativeTime);
    else if (data.startsWith(QLatin1String("metric:")))
        m_chart->setXAxis(MetricChart::XAxis::Metric, data.mid(7));
    else
        m_chart->setXAxis(MetricChart::XAxis::Step);
}

void ChartPanel::setSettingsKey(const QString& key) {
    m_settingsKey = key;
    QSettings settings;
    settings.beginGroup(QStringLiteral("charts/") + key);
    m_loading = true;
    // A chart's own choices, else the defaults from the settings dialog.
    QSettings defaults;
    defaults.beginGroup(QStringLiteral("chartDefaults"));
    const auto x =
        settings.value(QStringLiteral("x"), defaults.value(QStringLiteral("x"), QStringLiteral("step")))
            .toString();
    const int i = m_xAxis->findData(x);
    if (i >= 0)
        m_xAxis->setCurrentIndex(i);
    else
        m_wantedXAxis = x;
    m_smoothing->setValue(
        settings.value(QStringLiteral("smoothing"), defaults.value(QStringLiteral("smoothing"), 0)).toInt());
    m_logX->setChecked(settings.value(QStringLiteral("logX"), false).toBool());
    m_logY->setChecked(
        settings.value(QStringLiteral("logY"), defaults.value(QStringLiteral("logY"), false)).toBool());
    m_loading = false;
}

void ChartPanel::save() const {
    if (m_loading || m_settingsKey.isEmpty())
        return;
    QSettings settings;
    settings.beginGroup(QStringLiteral("charts/") + m_settingsKey);
    settings.setValue(QStringLiteral("x"), m_xAxis->currentData().toString());
    settings.setValue(QStringLiteral("smoothing"), m_smoothing->value());
    settings.setValue(QStringLiteral("logX"), m_logX->isChecked());
    settings.setValue(QStringLiteral("logY"), m_logY->isChecked());
}

void ChartPanel::exportAs(const QString& format) {
    if (format == QLatin1String("csv") && m_chart->showsPreview()) { // (a CSV has every point or none)
        QMessageBox::information(this, tr("Export chart"),
                                 tr("The chart still shows an overview while every point loads. Export the "
                                    "CSV again in a moment."));
        return;
    }
    const auto suggested = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) +
                           QLatin1Char('/') + m_chart->objectName().section(QLatin1Char(':'), -1) +
                           QLatin1Char('.') + format;
    const auto path =
        QFileDialog::getSaveFileName(this, tr("Export chart"), suggested,
                                     format.toUpper() + QStringLiteral(" (*.") + format + QLatin1Char(')'));
    if (path.isEmpty())
        return;
    const bool ok = format == QLatin1String("png")   ? m_chart->exportPng(path)
                    : format == QLatin1String("svg") ? m_chart->exportSvg(path)
                                                     : m_chart->exportCsv(path);
    if (!ok)
        QMessageBox::warning(this, tr("Export chart"), tr("Could not write %1").arg(path));
}

} // namespace Kiln::Ui
