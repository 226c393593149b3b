#pragma once
#include <QDialog>

QT_BEGIN_NAMESPACE
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSpinBox;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// Provisions a compute target: a local pool (node slots, warm minimum, idle scale-down, per-run CPUs
// and memory) or a Slurm cluster (slurmrestd URL, user, token, partition). Shows each provisioning step
// and the error if it fails.
class NewComputeDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NewComputeDialog)
public:
    explicit NewComputeDialog(WorkspaceConnection& connection, QWidget* parent = nullptr);

Q_SIGNALS:
    void created(const QString& name);

private:
    void provision();

    WorkspaceConnection& m_connection;
    QLineEdit* m_name;
    QComboBox* m_type;
    QSpinBox* m_maxNodes;
    QSpinBox* m_cpus;
    QSpinBox* m_memory;
    QLineEdit* m_slurmUrl;
    QLineEdit* m_slurmToken;
    QLineEdit* m_slurmUser;
    QLineEdit* m_partition;
    QWidget* m_localBox;
    QWidget* m_slurmBox;
    QProgressBar* m_progress;
    QLabel* m_message;
    QDialogButtonBox* m_buttons;
};

} // namespace Kiln::Ui
