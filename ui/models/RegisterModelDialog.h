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

namespace Kiln::Ui {

class WorkspaceConnection;

// "Register model" from a run: name (new or an existing model, which gets its next version), the run's file
// or folder (outputs/model pre-selected when the run has it), description and tags. A run that is not
// Completed asks for confirmation first.
class RegisterModelDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RegisterModelDialog)
public:
    RegisterModelDialog(WorkspaceConnection& connection, qint64 runId, const QString& runStatus,
                        QWidget* parent = nullptr);

    // "key=value, key=value" into `tags`; false, with the bad part in `bad`, when a part has no key.
    static bool parseTags(const QString& text, nlohmann::json& tags, QString& bad);

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
    QComboBox* m_name;
    QComboBox* m_path;
    QPlainTextEdit* m_description;
    QLineEdit* m_tags;
    QLabel* m_error;
    QPushButton* m_ok;
};

} // namespace Kiln::Ui
