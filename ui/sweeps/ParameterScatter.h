#pragma once
#include <QList>
#include <QStringList>
#include <QVariant>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QComboBox;
class QScatterSeries;
QT_END_NAMESPACE

namespace Kiln::Ui {

// The primary metric against one parameter of a sweep (chosen in a list), one point per trial: Qt Charts'
// scatter series over a value axis, or a log axis for a log-scale parameter; words are placed by their order.
// Trials stopped early are a second, grey series.
class ParameterScatter final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ParameterScatter)
public:
    explicit ParameterScatter(QWidget* parent = nullptr);

    // names[p] with log[p]; rows[i][p] is trial i's value of parameter p, metric[i] its metric (invalid:
    // none).
    void setData(const QStringList& names, const QList<bool>& log, const QList<QList<QVariant>>& rows,
                 const QList<QVariant>& metric, const QList<bool>& stopped, const QString& metricName);
    QComboBox* parameterBox() const { return m_parameter; }
    int pointCount() const; // points drawn for the chosen parameter (both series)
    QChart* chart() const;
    QString xTitle() const; // the x axis' title: the parameter shown

private:
    void rebuild();

    QComboBox* m_parameter;
    QChartView* m_view;
    QStringList m_names;
    QList<bool> m_log;
    QList<QList<QVariant>> m_rows;
    QList<QVariant> m_metric;
    QList<bool> m_stopped;
    QString m_metricName;
    QScatterSeries* m_kept = nullptr;
    QScatterSeries* m_faint = nullptr;
};

} // namespace Kiln::Ui
