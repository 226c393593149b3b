#pragma once
#include <QDialog>

#include <memory>
#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QLabel;
class QLineEdit;
class QPushButton;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// One-click "Register model": a small popup under the button with the proposed name already selected (the
// next version of the model the run's experiment registers to, else the experiment's name) and the files it
// will take (outputs/model). Enter registers; typing another name first registers that; Esc closes; "More…"
// hands over to RegisterModelDialog with the name typed so far.
class QuickRegister final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuickRegister)
public:
    QuickRegister(WorkspaceConnection& connection, qint64 runId, QWidget* anchor);
    ~QuickRegister() override;

    QLineEdit* nameEdit() const { return m_name; }
    QLabel* summary() const { return m_summary; }
    bool loaded() const { return m_context != nullptr; }

public Q_SLOTS:
    void accept() override; // registers

Q_SIGNALS:
    void registered(const QString& name, int version);
    void moreRequested(const QString& name); // "More…": the full dialog, starting from this name

private:
    void updateSummary();

    WorkspaceConnection& m_connection;
    qint64 m_runId;
    std::unique_ptr<nlohmann::json> m_context; // RegisterModelDialog::fetchContext's answer, once it came
    QString m_path;
    QLineEdit* m_name;
    QLabel* m_summary;
    QLabel* m_error;
    QPushButton* m_register;
    bool m_acceptWhenLoaded = false; // Enter pressed before the proposal arrived
};

} // namespace Kiln::Ui
