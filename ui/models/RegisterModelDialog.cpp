#include "RegisterModelDialog.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/TabOrder.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSet>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

RegisterModelDialog::RegisterModelDialog(WorkspaceConnection& connection, qint64 runId,
                                         const QString& runStatus, QWidget* parent, const QString& name)
    : QDialog(parent)
    , m_connection(connection)
    , m_runId(runId)
    , m_runStatus(runStatus)
    , m_startName(name)
    , m_name(new QComboBox(this))
    , m_path(new QComboBox(this))
    , m_description(new QPlainTextEdit(this))
    , m_tags(new QLineEdit(this))
    , m_error(new QLabel(this)) {
    setObjectName(QStringLiteral("registerModelDialog"));
    setWindowTitle(tr("Register a model from run %1").arg(runId));
    m_name->setObjectName(QStringLiteral("modelName"));
    m_path->setObjectName(QStringLiteral("modelPath"));
    m_tags->setObjectName(QStringLiteral("modelTags"));
    m_name->setEditable(true);
    m_name->setInsertPolicy(QComboBox::NoInsert);
    m_name->lineEdit()->setPlaceholderText(tr("e.g. fashion-mnist-mlp"));
    m_name->setToolTip(tr("A new name starts at version 1; an existing model gets its next version"));
    m_path->setEditable(true);
    m_path->setInsertPolicy(QComboBox::NoInsert);
    m_path->setToolTip(tr("A folder or a file among the run's files"));
    m_description->setPlaceholderText(tr("What is this model? (optional)"));
    m_description->setTabChangesFocus(true);
    m_description->setFixedHeight(m_description->fontMetrics().lineSpacing() * 4 + 10);
    m_tags->setPlaceholderText(tr("key=value, key=value (optional)"));
    m_error->setObjectName(QStringLiteral("modelError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->hide();

    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Files:"), m_path);
    form->addRow(tr("&Description:"), m_description);
    form->addRow(tr("&Tags:"), m_tags);
    auto* note =
        new QLabel(tr("The model keeps its lineage: run %1, its experiment, datasets, environment, source "
                      "snapshot and final metrics. Its files are not copied.")
                       .arg(runId),
                   this);
    note->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(tr("&Register"));
    m_ok->setObjectName(QStringLiteral("registerModelOk"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(520, sizeHint().height());
    connect(buttons, &QDialogButtonBox::accepted, this, &RegisterModelDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    load();
    tabInLayoutOrder(this);
}

Json RegisterModelDialog::fetchContext(Api::Client& c, qint64 runId) {
    const auto base = "/api/v1/runs/" + std::to_string(runId);
    auto run = c.get(base);
    const auto experiment = Api::percentEncode(run.value("experiment", std::string()));
    return Json{{"run", std::move(run)},
                {"files", c.get(base + "/files")},
                {"models", c.get("/api/v1/models")},
                {"lineage_models", c.get("/api/v1/models?experiment=" + experiment)}};
}

QString RegisterModelDialog::preferredPath(const Json& files) {
    bool outputs = false;
    for (const auto& f : files) {
        const auto path = QString::fromStdString(f["path"].get<std::string>());
        if (path.startsWith(QLatin1String("outputs/model/")))
            return QStringLiteral("outputs/model");
        outputs = outputs || path.startsWith(QLatin1String("outputs/"));
    }
    return outputs ? QStringLiteral("outputs") : QString();
}

QString RegisterModelDialog::proposedName(const Json& context) {
    const auto& lineage = context["lineage_models"];
    if (lineage.is_array() && !lineage.empty())
        return QString::fromStdString(lineage[0]["name"].get<std::string>());
    // Model names are 1-100 of [A-Za-z0-9._-], starting with a letter or digit, without "..".
    QString name;
    for (const QChar ch : QString::fromStdString(context["run"].value("experiment", std::string()))) {
        const bool ok = (ch.isLetterOrNumber() && ch.unicode() < 128) || ch == QLatin1Char('.') ||
                        ch == QLatin1Char('_') || ch == QLatin1Char('-');
        if (ok && !(ch == QLatin1Char('.') && name.endsWith(QLatin1Char('.'))))
            name += ch;
        else if (!ok && !name.isEmpty() && !name.endsWith(QLatin1Char('-')))
            name += QLatin1Char('-');
    }
    while (!name.isEmpty() && !name.front().isLetterOrNumber())
        name.remove(0, 1);
    while (name.endsWith(QLatin1Char('-')))
        name.chop(1);
    name.truncate(100);
    return name.isEmpty() ? QStringLiteral("model") : name;
}

int RegisterModelDialog::nextVersion(const Json& models, const QString& name) {
    for (const auto& m : models)
        if (QString::fromStdString(m["name"].get<std::string>()) == name)
            return static_cast<int>(m["latest_version"].get<std::int64_t>()) + 1;
    return 1;
}

void RegisterModelDialog::load() {
    m_connection.call(
        this, [runId = m_runId](Api::Client& c) { return fetchContext(c, runId); },
        [this](const Json& j) {
            // Every folder holding files, then every file: outputs/model first when the run has it.
            QStringList folders, files;
            QSet<QString> seen;
            for (const auto& f : j["files"]) {
                const auto path = QString::fromStdString(f["path"].get<std::string>());
                files << path;
                for (int slash = path.indexOf(QLatin1Char('/')); slash > 0;
                     slash = path.indexOf(QLatin1Char('/'), slash + 1)) {
                    const auto folder = path.left(slash);
                    if (!seen.contains(folder)) {
                        seen.insert(folder);
                        folders << folder;
                    }
                }
            }
            folders.sort();
            m_path->addItems(folders + files);
            if (const auto preferred = preferredPath(j["files"]); !preferred.isEmpty())
                m_path->setCurrentText(preferred);
            for (const auto& m : j["models"])
                m_name->addItem(QString::fromStdString(m["name"].get<std::string>()));
            m_name->setCurrentText(m_startName.isEmpty() ? proposedName(j) : m_startName);
            m_name->lineEdit()->selectAll();
            if (j["files"].empty()) {
                m_error->setText(tr("This run has no files yet: a run's outputs are kept when it ends."));
                m_error->show();
            }
        },
        [this](const QString& error) {
            m_error->setText(error);
            m_error->show();
        });
}

bool RegisterModelDialog::parseTags(const QString& text, Json& tags, QString& bad) {
    tags = Json::object();
    for (const auto& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const auto eq = part.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            bad = part.trimmed();
            return false;
        }
        tags[part.left(eq).trimmed().toStdString()] = part.mid(eq + 1).trimmed().toStdString();
    }
    return true;
}

void RegisterModelDialog::accept() {
    const auto name = m_name->currentText().trimmed();
    const auto path = m_path->currentText().trimmed();
    if (name.isEmpty() || path.isEmpty()) {
        m_error->setText(tr("Give the model a name and choose its files."));
        m_error->show();
        return;
    }
    Json tags;
    QString bad;
    if (!parseTags(m_tags->text(), tags, bad)) {
        m_error->setText(tr("Tags are key=value pairs separated by commas: %1").arg(bad));
        m_error->show();
        return;
    }
    bool force = false;
    if (m_runStatus != QLatin1String("Completed")) {
        const auto answer =
            QMessageBox::question(this, tr("Register model"),
                                  tr("Run %1 is %2, not Completed. Register its files as a model anyway?")
                                      .arg(m_runId)
                                      .arg(m_runStatus));
        if (answer != QMessageBox::Yes)
            return;
        force = true;
    }
    Json body = {{"run", m_runId},
                 {"name", name.toStdString()},
                 {"path", path.toStdString()},
                 {"description", m_description->toPlainText().toStdString()},
                 {"tags", tags},
                 {"force", force}};
    m_ok->setEnabled(false);
    m_error->hide();
    m_connection.call(
        this, [body](Api::Client& c) { return c.post("/api/v1/models", body); },
        [this](const Json& v) {
            Q_EMIT registered(QString::fromStdString(v["name"].get<std::string>()), v["version"].get<int>());
            QDialog::accept();
        },
        [this](const QString& error) {
            m_ok->setEnabled(true);
            m_error->setText(error);
            m_error->show();
        });
}

} // namespace Kiln::Ui
