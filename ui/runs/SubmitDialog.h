#pragma once
#include <QDialog>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLineEdit;
class QTableWidget;
class QLabel;
class QDialogButtonBox;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// Submits a run: experiment, source folder, script, arguments (a table of argument/value pairs).
// Opens pre-filled with the Fashion-MNIST sample. Submits in the background; errors stay in the dialog.
class SubmitDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubmitDialog)
public:
    SubmitDialog(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void setExperiments(const QStringList& names);
    // Registered datasets, offered for insertion as {dataset:NAME}; the sample's --data-folder uses
    // {dataset:fashion-mnist} when the workspace has it.
    void setDatasets(const QStringList& names);
    void setEnvironments(const QStringList& names); // first entry: the system python
    void setComputeTargets(const QStringList& names);
    void setSource(const QString& folder, const QString& script);
    void setArguments(const QList<QPair<QString, QString>>& args);
    QStringList arguments() const;

Q_SIGNALS:
    void submitted(qint64 runId);

private:
    void submit();
    void fillScripts();
    void addArgument(const QString& name = {}, const QString& value = {});

    WorkspaceConnection& m_connection;
    QComboBox* m_experiment;
    QLineEdit* m_name;
    QLineEdit* m_source;
    QComboBox* m_script;
    QComboBox* m_environment;
    QComboBox* m_compute;
    QTableWidget* m_args;
    QComboBox* m_datasets;
    QLabel* m_message;
    QDialogButtonBox* m_buttons;
};

} // namespace Kiln::Ui
