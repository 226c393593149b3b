#pragma once
#include <QDialog>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QTableWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// Registers a dataset from files, folders (dropped, or picked) and http(s) URLs (pasted). kilnd hashes
// and stores them as a job; the dialog shows each file's progress and the hashing speed, and Cancel
// stops the job (nothing is registered then).
class RegisterDatasetDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RegisterDatasetDialog)
public:
    explicit RegisterDatasetDialog(WorkspaceConnection& connection, QWidget* parent = nullptr);

    void addSource(const QString& pathOrUrl);
    QStringList sources() const;
    bool running() const { return m_job > 0; }

Q_SIGNALS:
    void registered(const QString& name, int version);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void reject() override;

private:
    void start();
    void showProgress(const nlohmann::json& job);
    void finished(const nlohmann::json& result, const QString& error);

    WorkspaceConnection& m_connection;
    QLineEdit* m_name;
    QLineEdit* m_description;
    QLineEdit* m_tags;
    QCheckBox* m_newVersion;
    QListWidget* m_sources;
    QLineEdit* m_url;
    QTableWidget* m_progress;
    QProgressBar* m_total;
    QLabel* m_speed;
    QLabel* m_message;
    QDialogButtonBox* m_buttons;
    qint64 m_job = 0;
};

} // namespace Kiln::Ui
