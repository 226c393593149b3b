#pragma once
#include <QDialog>

#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
QT_END_NAMESPACE

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

class WorkspaceConnection;

// "Register model…" from a run: name (new or an existing model, which gets its next version; proposed as for
// the one-click QuickRegister), the run's file or folder (outputs/model pre-selected when the run has it),
// description and tags. A run that is not Completed asks for confirmation first.
class RegisterModelDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RegisterModelDialog)
public:
    // `name`: the name to start from instead of the proposed one.
    RegisterModelDialog(WorkspaceConnection& connection, qint64 runId, const QString& runStatus,
                        QWidget* parent = nullptr, const QString& name = {});

    // "key=value, key=value" into `tags`; false, with the bad part in `bad`, when a part has no key.
    static bool parseTags(const QString& text, nlohmann::json& tags, QString& bad);

    // What registering run `runId` needs to know, fetched in one go on a worker thread: {run, files, models,
    // lineage_models} (lineage_models: the models registered from the run's experiment, newest first).
    static nlohmann::json fetchContext(Api::Client& client, qint64 runId);
    // The folder a model is usually in (outputs/model, else outputs), or "" when the run has neither.
    static QString preferredPath(const nlohmann::json& files);
    // The next version of the model the run's experiment already registers to, else the experiment's name
    // made a valid model name.
    static QString proposedName(const nlohmann::json& context);
    // The version `name` would get: one past its newest, or 1.
    static int nextVersion(const nlohmann::json& models, const QString& name);

    QComboBox* nameBox() const { return m_name; }
    QComboBox* pathBox() const { return m_path; }

public Q_SLOTS:
    void accept() override;

Q_SIGNALS:
    void registered(const QString& name, int version);

private:
    void load();

    WorkspaceConnection& m_connection;
    qint64 m_runId;
    QString m_runStatus;
    QString m_startName;
    QComboBox* m_name;
    QComboBox* m_path;
    QPlainTextEdit* m_description;
    QLineEdit* m_tags;
    QLabel* m_error;
    QPushButton* m_ok;
};

} // namespace Kiln::Ui
