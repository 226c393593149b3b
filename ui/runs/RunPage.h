#pragma once
#include <QHash>
#include <QWidget>

#include <memory>
#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QToolButton;
class QComboBox;
class QGridLayout;
class QScrollArea;
class QTextBrowser;
QT_END_NAMESPACE

namespace Kiln::Ui {

class ChartPanel;
class MetricChart;
struct SeriesBuffer;
class RunFilesView;
class RunMediaView;
class RunFollower;
class SystemSection;
class WorkspaceConnection;

// One run: a header (status, timings, arguments, error), its output streaming live, and a live chart per
// metric (or all metrics overlaid in one chart), and once it ends its kept files (download) and "Register
// model". Everything live arrives through a RunFollower.
class RunPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunPage)
public:
    RunPage(WorkspaceConnection& connection, qint64 runId, QWidget* parent = nullptr);
    ~RunPage() override;

    qint64 runId() const { return m_runId; }
    QString status() const { return m_status; }
    MetricChart* chart(const QString& key) const;
    QList<MetricChart*> charts() const;
    RunFilesView* files() const { return m_files; }
    RunMediaView* media() const { return m_media; }
    SystemSection* systemSection() const { return m_system; }
    QString systemSummary() const; // the header's "peak memory … · mean CPU …"
    QTextBrowser* note() const { return m_note; }
    // "Register model": one click proposes a name and Enter registers (QuickRegister); its menu's "Register
    // model…" opens the dialog. Enabled once the run has ended.
    QToolButton* registerModelButton() const { return m_registerModel; }
    class QuickRegister* quickRegister(); // a run that did not complete gets the dialog, which asks first
    class RegisterModelDialog* registerModel(const QString& name = {});

Q_SIGNALS:
    void titleChanged(const QString& title);
    void modelRegistered(const QString& name, int version);
    void runAgainRequested(qint64 runId);
    void cloneRequested(qint64 runId);
    void sweepRequested(qint64 runId);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override; // the chart area's width sets its columns

private:
    void modelWasRegistered(const QString& name, int version);
    void apply(const nlohmann::json& answer);
    void metricsArrived(const QStringList& created); // new points (and buffers `created`) in m_series
    void updateHeader(const nlohmann::json& run);
    void rebuildCharts(); // after a layout switch: new charts over the same buffers
    void layoutCharts();  // places the charts in key order
    ChartPanel* panelFor(const QString& key);

    WorkspaceConnection& m_connection;
    qint64 m_runId;
    QString m_status;
    qint64 m_statusSeq = 0; // of the newest record shown
    QLabel* m_title;
    QLabel* m_statusLabel;
    QLabel* m_details;
    QLabel* m_error;
    QPushButton* m_cancel;
    QToolButton* m_registerModel;
    QString m_experiment;
    RunFilesView* m_files;
    RunMediaView* m_media;
    bool m_filesLoaded = false;
    QComboBox* m_layoutChoice;
    QPlainTextEdit* m_log;
    QTextBrowser* m_note;       // the run's Markdown note, rendered
    QPlainTextEdit* m_noteEdit; // ...and its text while being edited
    QPushButton* m_editNote;
    QString m_noteText;
    QWidget* m_chartArea;
    QGridLayout* m_chartGrid;
    int m_columns = 2;
    QLabel* m_noMetrics;
    SystemSection* m_system;
    QLabel* m_systemSummary;
    QHash<QString, ChartPanel*> m_charts; // by key; "" is the overlay of all metrics
    // Every point received, per key: the one copy the charts draw from.
    QHash<QString, std::shared_ptr<SeriesBuffer>> m_series;
    double m_started = 0;
    QStringList m_keys;
    RunFollower* m_follower;
};

} // namespace Kiln::Ui
