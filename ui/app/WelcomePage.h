#pragma once
#include <QDialog>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QLabel;
class QLineEdit;
class QListWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

// What the studio shows when no run is open: one button runs the Fashion-MNIST sample, links open the
// datasets, environments, compute and models panels, and recent workspaces reopen with a click.
class WelcomePage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WelcomePage)
public:
    explicit WelcomePage(QWidget* parent = nullptr);
    void setRecentWorkspaces(const QStringList& workspaces);
    QListWidget* recent() const { return m_recent; }

Q_SIGNALS:
    void runSample();
    void newRun();
    void openPanel(const QString& panel); // "datasets", "environments", "compute", "models"
    void openWorkspace(const QString& workspace);
    void openWorkspaceDialog();

private:
    QListWidget* m_recent;
    QLabel* m_recentLabel;
};

// "Open workspace": a local folder, or a remote kilnd by URL and token (and a certificate for https).
class OpenWorkspaceDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenWorkspaceDialog)
public:
    explicit OpenWorkspaceDialog(QWidget* parent = nullptr);
    // The folder to open: the chosen one, or, for a remote server, a folder under the user's data holding a
    // .kiln/config.json that names it (written on accept).
    QString workspace() const { return m_workspace; }
    QLineEdit* folderEdit() const { return m_folder; }
    QLineEdit* urlEdit() const { return m_url; }
    QLineEdit* tokenEdit() const { return m_token; }

public Q_SLOTS:
    void accept() override;

private:
    QLineEdit* m_folder;
    QLineEdit* m_url;
    QLineEdit* m_token;
    QLineEdit* m_ca;
    QLabel* m_error;
    QString m_workspace;
};

} // namespace Kiln::Ui
