#pragma once
#include <QWidget>

QT_BEGIN_NAMESPACE
class QComboBox;
class QSlider;
class QToolButton;
QT_END_NAMESPACE

namespace Kiln::Ui {

class MetricChart;

// A MetricChart with its controls: x-axis (step, wall time, time since start, or another metric), a
// smoothing slider, log x / log y, follow, and export (PNG, SVG, CSV). With a settings key the choices
// persist (QSettings, per workspace and metric) and come back the next time that chart is shown.
class ChartPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChartPanel)
public:
    explicit ChartPanel(const QString& title, QWidget* parent = nullptr);

    MetricChart* chart() const { return m_chart; }
    // Metrics offered as x-axis (the run's other metrics, e.g. epoch).
    void setMetricKeys(const QStringList& keys);
    void setSettingsKey(const QString& key);
    QComboBox* xAxisBox() const { return m_xAxis; }
    QSlider* smoothingSlider() const { return m_smoothing; }
    QToolButton* logYButton() const { return m_logY; }
    QToolButton* logXButton() const { return m_logX; }
    QToolButton* followButton() const { return m_follow; }

private:
    void applyXAxis();
    void save() const;
    void exportAs(const QString& format);

    MetricChart* m_chart;
    QComboBox* m_xAxis;
    QSlider* m_smoothing;
    QToolButton* m_logX;
    QToolButton* m_logY;
    QToolButton* m_follow;
    QToolButton* m_export;
    QString m_settingsKey;
    QString m_wantedXAxis; // a persisted metric x-axis not offered yet (its metric has not arrived)
    bool m_loading = false;
};

} // namespace Kiln::Ui
