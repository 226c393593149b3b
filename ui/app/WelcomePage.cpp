#include "WelcomePage.h"

#include "app/TabOrder.h"
#include "util/Json.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUrl>
#include <QVBoxLayout>

namespace Kiln::Ui {

WelcomePage::WelcomePage(QWidget* parent)
    : QWidget(parent)
    , m_recent(new QListWidget(this)) {
    setObjectName(QStringLiteral("welcome"));
    m_recent->setObjectName(QStringLiteral("recentWorkspaces"));
    auto* hello =
        new QLabel(tr("<h2>Welcome to Kiln Studio</h2>"
                      "<p>Train a model, watch its curves live, compare runs and keep the best model.<br>"
                      "The Fashion-MNIST sample is ready: one click trains a small network on this "
                      "machine (about half a minute).</p>"),
                   this);
    hello->setAlignment(Qt::AlignCenter);
    hello->setWordWrap(true);
    auto* sample = new QPushButton(tr("&Run the Fashion-MNIST sample"), this);
    sample->setObjectName(QStringLiteral("welcomeRunSample"));
    sample->setDefault(true);
    auto* submit = new QPushButton(tr("Submit a run…"), this);
    submit->setObjectName(QStringLiteral("welcomeNewRun"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(sample);
    buttons->addWidget(submit);
    buttons->addStretch();
    auto* links = new QLabel(
        tr("Set up: <a href=\"datasets\">datasets</a> · <a href=\"environments\">environments</a> · "
           "<a href=\"compute\">compute</a> · <a href=\"models\">models</a> — or press Ctrl+K "
           "to go anywhere."),
        this);
    links->setObjectName(QStringLiteral("welcomeLinks"));
    links->setAlignment(Qt::AlignCenter);
    links->setTextInteractionFlags(Qt::TextBrowserInteraction);
    auto* recentLabel = m_recentLabel =
        new QLabel(tr("Recent &workspaces (double-click or Enter to open in a new window):"), this);
    recentLabel->setBuddy(m_recent);
    auto* open = new QPushButton(tr("&Open workspace…"), this);
    open->setObjectName(QStringLiteral("welcomeOpenWorkspace"));
    m_recent->setMaximumHeight(140);

    auto* column = new QWidget(this);
    column->setMaximumWidth(720);
    auto* inner = new QVBoxLayout(column);
    inner->addWidget(hello);
    inner->addLayout(buttons);
    inner->addSpacing(12);
    inner->addWidget(links);
    inner->addSpacing(24);
    inner->addWidget(recentLabel);
    inner->addWidget(m_recent);
    inner->addWidget(open, 0, Qt::AlignLeft);
    // (Centred between stretches, not by alignment: an aligned column would get its word-wrapped text's
    // one-line height and cut the last line off.)
    auto* row = new QHBoxLayout;
    row->addStretch();
    row->addWidget(column, 4);
    row->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->addStretch();
    layout->addLayout(row);
    layout->addStretch();

    connect(sample, &QPushButton::clicked, this, &WelcomePage::runSample);
    connect(submit, &QPushButton::clicked, this, &WelcomePage::newRun);
    connect(links, &QLabel::linkActivated, this, &WelcomePage::openPanel);
    connect(open, &QPushButton::clicked, this, &WelcomePage::openWorkspaceDialog);
    connect(m_recent, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { Q_EMIT openWorkspace(item->data(Qt::UserRole).toString()); });
}

void WelcomePage::setRecentWorkspaces(const QStringList& workspaces) {
    m_recent->clear();
    m_recent->setVisible(!workspaces.isEmpty()); // nothing to list on a first start
    m_recentLabel->setVisible(!workspaces.isEmpty());
    for (const auto& w : workspaces) {
        auto* item = new QListWidgetItem(w, m_recent);
        item->setData(Qt::UserRole, w);
    }
}

OpenWorkspaceDialog::OpenWorkspaceDialog(QWidget* parent)
    : QDialog(parent)
    , m_folder(new QLineEdit(this))
    , m_url(new QLineEdit(this))
    , m_token(new QLineEdit(this))
    , m_ca(new QLineEdit(this))
    , m_error(new QLabel(this)) {
    setObjectName(QStringLiteral("openWorkspaceDialog"));
    setWindowTitle(tr("Open workspace"));
    m_folder->setPlaceholderText(tr("a workspace folder on this machine"));
    m_folder->setAccessibleName(tr("Workspace folder"));
    m_url->setPlaceholderText(tr("or a server: https://host:port"));
    m_token->setPlaceholderText(tr("its token (in the server's server.json)"));
    m_token->setEchoMode(QLineEdit::Password);
    m_ca->setPlaceholderText(tr("optional: its certificate (PEM), when self-signed"));
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->setWordWrap(true);
    auto* browse = new QPushButton(tr("&Browse…"), this);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("&Folder:"), folderRow);
    form->addRow(tr("Server &URL:"), m_url);
    form->addRow(tr("&Token:"), m_token);
    form->addRow(tr("&Certificate:"), m_ca);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());
    connect(browse, &QPushButton::clicked, this, [this] {
        const auto dir = QFileDialog::getExistingDirectory(this, tr("Workspace folder"), m_folder->text());
        if (!dir.isEmpty())
            m_folder->setText(dir);
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &OpenWorkspaceDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    tabInLayoutOrder(this);
}

void OpenWorkspaceDialog::accept() {
    const auto folder = m_folder->text().trimmed();
    const auto url = QUrl(m_url->text().trimmed());
    if (!folder.isEmpty()) {
        if (!QDir(folder).exists()) {
            m_error->setText(tr("No such folder: %1").arg(folder));
            return;
        }
        m_workspace = QDir(folder).absolutePath();
        QDialog::accept();
        return;
    }
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.host().isEmpty() || url.port() <= 0 || m_token->text().isEmpty()) {
        m_error->setText(tr("Give a folder, or a server URL like https://host:8765 with its token."));
        return;
    }
    // A remote workspace is a folder of its own whose .kiln/config.json names the server.
    const auto dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                     QStringLiteral("/remotes/") + url.host() + QLatin1Char('-') +
                     QString::number(url.port());
    QDir().mkpath(dir + QStringLiteral("/.kiln"));
    Json config = {{"url", url.toString(QUrl::RemovePath).toStdString()},
                   {"token", m_token->text().toStdString()}};
    if (!m_ca->text().trimmed().isEmpty())
        config["ca"] = QDir(m_ca->text().trimmed()).absolutePath().toStdString();
    QSaveFile file(dir + QStringLiteral("/.kiln/config.json"));
    if (!file.open(QIODevice::WriteOnly) || file.write(QByteArray::fromStdString(config.dump(2))) < 0 ||
        !file.commit()) {
        m_error->setText(tr("Could not save the connection in %1").arg(dir));
        return;
    }
    QFile::setPermissions(dir + QStringLiteral("/.kiln/config.json"), QFile::ReadOwner | QFile::WriteOwner);
    m_workspace = dir;
    QDialog::accept();
}

} // namespace Kiln::Ui
