#pragma once
#include <QDialog>

#include <nlohmann/json.hpp>

QT_BEGIN_NAMESPACE
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// "Sweep this run…": a sweep whose template is a run (its snapshot, script, environment, compute and the
// arguments not being swept). Numeric arguments of the run are proposed as parameters around their values
// (a float f: loguniform(ln(f / 10), ln(f * 10)); a whole number n: choice(n / 2, n, 2n)); every expression
// is checked as it is typed (the message names the column), and the whole sweep before it can be submitted.
class NewSweepDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NewSweepDialog)
public:
    NewSweepDialog(WorkspaceConnection& connection, qint64 fromRun, QWidget* parent = nullptr);

    QTableWidget* parameters() const { return m_parameters; }
    QLabel* message() const { return m_message; }
    nlohmann::json body() const; // the POST /api/v1/sweeps body as the form stands (without the snapshot)

Q_SIGNALS:
    void created(qint64 sweepId);

private:
    void loaded(const nlohmann::json& answer);
    bool validate(); // true when the sweep can be submitted; says why not
    void submit();

    WorkspaceConnection& m_connection;
    qint64 m_run;
    nlohmann::json m_template; // the run's experiment, script, fixed args, compute, environment
    nlohmann::json m_snapshot;
    QLabel* m_source;
    QTableWidget* m_parameters;
    QLineEdit* m_experiment;
    QComboBox* m_metric;
    QComboBox* m_goal;
    QComboBox* m_sampling;
    QSpinBox* m_seed;
    QSpinBox* m_total;
    QSpinBox* m_concurrent;
    QComboBox* m_policy;
    QDoubleSpinBox* m_policySetting;
    QSpinBox* m_delay;
    QLabel* m_message;
    QDialogButtonBox* m_buttons;
};

} // namespace Kiln::Ui
