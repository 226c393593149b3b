#include "QuickRegister.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "models/RegisterModelDialog.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScreen>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

QuickRegister::QuickRegister(WorkspaceConnection& connection, qint64 runId, QWidget* anchor)
    : QDialog(anchor, Qt::Popup)
    , m_connection(connection)
    , m_runId(runId)
    , m_name(new QLineEdit(this))
    , m_summary(new QLabel(tr("Looking at the run's files…"), this))
    , m_error(new QLabel(this))
    , m_register(new QPushButton(tr("&Register"), this)) {
    setObjectName(QStringLiteral("quickRegister"));
    setAccessibleName(tr("Register model"));
    m_name->setObjectName(QStringLiteral("quickModelName"));
    m_name->setAccessibleName(tr("Model name"));
    m_name->setMinimumWidth(260);
    m_name->setPlaceholderText(tr("model name"));
    m_summary->setObjectName(QStringLiteral("quickModelSummary"));
    m_summary->setWordWrap(true);
    m_error->setObjectName(QStringLiteral("quickModelError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->hide();
    m_register->setObjectName(QStringLiteral("quickModelRegister"));
    m_register->setDefault(true);
    m_register->setEnabled(false);
    auto* more = new QPushButton(tr("M&ore…"), this);
    more->setObjectName(QStringLiteral("quickModelMore"));
    more->setToolTip(tr("Choose the files, a description and tags"));

    // A popup has no window frame: a panel frame marks its edge.
    auto* panel = new QFrame(this);
    panel->setFrameShape(QFrame::StyledPanel);
    panel->setFrameShadow(QFrame::Raised);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(panel);
    auto* layout = new QGridLayout(panel);
    layout->addWidget(new QLabel(tr("Register as:"), this), 0, 0);
    layout->addWidget(m_name, 0, 1);
    layout->addWidget(m_register, 0, 2);
    layout->addWidget(more, 0, 3);
    layout->addWidget(m_summary, 1, 0, 1, 4);
    layout->addWidget(m_error, 2, 0, 1, 4);
    setMinimumWidth(480);

    connect(m_name, &QLineEdit::textChanged, this, &QuickRegister::updateSummary);
    // Enter before the proposal arrived registers once it does (after that, Enter is the default button's).
    connect(m_name, &QLineEdit::returnPressed, this, [this] { m_acceptWhenLoaded = !m_context; });
    connect(m_register, &QPushButton::clicked, this, &QuickRegister::accept);
    connect(more, &QPushButton::clicked, this, [this] {
        Q_EMIT moreRequested(m_name->text().trimmed());
        reject();
    });

    m_connection.call(
        this, [runId](Api::Client& c) { return RegisterModelDialog::fetchContext(c, runId); },
        [this](const Json& context) {
            m_context = std::make_unique<Json>(context);
            m_path = RegisterModelDialog::preferredPath(context["files"]);
            if (m_name->text().isEmpty()) { // (unless the user typed while it loaded)
                m_name->setText(RegisterModelDialog::proposedName(context));
                m_name->selectAll();
            }
            updateSummary();
            if (m_acceptWhenLoaded)
                accept();
        },
        [this](const QString& error) {
            m_summary->hide();
            m_error->setText(error);
            m_error->show();
        });

    // Under the anchor, kept on its screen.
    adjustSize();
    QPoint at = anchor->mapToGlobal(QPoint(0, anchor->height()));
    if (const auto* screen = anchor->screen()) {
        const auto area = screen->availableGeometry();
        at.setX(std::clamp(at.x() + anchor->width() - width(), area.left(), area.right() - width()));
        if (at.y() + height() > area.bottom())
            at.setY(anchor->mapToGlobal(QPoint(0, 0)).y() - height());
    }
    move(at);
    m_name->setFocus();
    tabInLayoutOrder(this);
}

QuickRegister::~QuickRegister() = default;

void QuickRegister::updateSummary() {
    if (!m_context)
        return;
    const auto name = m_name->text().trimmed();
    if (m_path.isEmpty()) {
        m_summary->setText(
            tr("Run %1 has no outputs/model or outputs folder: use More… to choose its files.").arg(m_runId));
        m_register->setEnabled(false);
        return;
    }
    m_register->setEnabled(!name.isEmpty());
    if (name.isEmpty()) {
        m_summary->setText(tr("Type a name for the model."));
        return;
    }
    const int version = RegisterModelDialog::nextVersion((*m_context)["models"], name);
    m_summary->setText(version == 1 ? tr("Enter registers %1 of run %2 as the new model %3, version 1.")
                                          .arg(m_path)
                                          .arg(m_runId)
                                          .arg(name)
                                    : tr("Enter registers %1 of run %2 as version %3 of %4.")
                                          .arg(m_path)
                                          .arg(m_runId)
                                          .arg(version)
                                          .arg(name));
}

void QuickRegister::accept() {
    if (!m_context)
        return;
    m_acceptWhenLoaded = false;
    const auto name = m_name->text().trimmed();
    if (name.isEmpty() || m_path.isEmpty() || !m_register->isEnabled())
        return;
    m_register->setEnabled(false);
    m_name->setEnabled(false);
    m_error->hide();
    const Json body = {{"run", m_runId}, {"name", name.toStdString()}, {"path", m_path.toStdString()}};
    m_connection.call(
        this, [body](Api::Client& c) { return c.post("/api/v1/models", body); },
        [this](const Json& v) {
            Q_EMIT registered(QString::fromStdString(v["name"].get<std::string>()), v["version"].get<int>());
            QDialog::accept();
        },
        [this](const QString& error) {
            // Say why and let the name be fixed (an invalid name, a run that is gone…).
            m_name->setEnabled(true);
            m_register->setEnabled(true);
            m_name->setFocus();
            m_error->setText(error);
            m_error->show();
            adjustSize();
        });
}

} // namespace Kiln::Ui
