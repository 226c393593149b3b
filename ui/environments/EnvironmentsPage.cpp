#include "EnvironmentsPage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/Remember.h"
#include "environments/EnvironmentSpec.h"
#include "environments/YamlHighlighter.h"
#include "workspace/AssetVersionsModel.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QCheckBox>
#include <QCoreApplication>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTextBlock>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString str(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

static const char* kTemplate = "name: my-environment\n"
                               "channels:\n"
                               "  - defaults\n"
                               "dependencies:\n"
                               "  - python=3\n"
                               "  - pip:\n"
                               "    # pip requirements; Debian's numpy and torch are visible already\n"
                               "    - tqdm\n";

EnvironmentsPage::EnvironmentsPage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_model(new AssetVersionsModel({{tr("Environment"),
                                       [this](const Json& e, const Json* v) {
                                           return v ? tr("version %1").arg((*v)["version"].get<int>())
                                                    : str(e["name"]);
                                       }},
                                      {tr("Built"),
                                       [this](const Json&, const Json* v) {
                                           return v ? ((*v)["built"].get<bool>() ? tr("yes") : tr("no"))
                                                    : QString();
                                       }}},
                                     this))
    , m_tree(new QTreeView(this))
    , m_emptyHint(
          new QLabel(tr("No environments yet. Write the first one on the right (a conda file, or just "
                        "a Python version), give it a name and Save."),
                     this))
    , m_name(new QLineEdit(this))
    , m_python(new QLineEdit(this))
    , m_yaml(new QPlainTextEdit(this))
    , m_validation(new QLabel(this))
    , m_findLinks(new QLineEdit(this))
    , m_noIndex(new QCheckBox(tr("Only these folders (--no-index)"), this))
    , m_variables(new QLineEdit(this))
    , m_docker(new QLineEdit(this))
    , m_save(new QPushButton(tr("&Save"), this))
    , m_build(new QPushButton(tr("&Build"), this))
    , m_status(new QLabel(this))
    , m_log(new QPlainTextEdit(this))
    , m_runs(new QListWidget(this)) {
    setObjectName(QStringLiteral("environmentsPage"));
    m_tree->setObjectName(QStringLiteral("environmentTree"));
    m_name->setObjectName(QStringLiteral("environmentName"));
    m_yaml->setObjectName(QStringLiteral("environmentYaml"));
    m_validation->setObjectName(QStringLiteral("yamlValidation"));
    m_save->setObjectName(QStringLiteral("saveEnvironment"));
    m_build->setObjectName(QStringLiteral("buildEnvironment"));
    m_log->setObjectName(QStringLiteral("buildLog"));
    m_status->setObjectName(QStringLiteral("environmentStatus"));
    m_findLinks->setObjectName(QStringLiteral("findLinks"));
    m_noIndex->setObjectName(QStringLiteral("noIndex"));
    m_runs->setObjectName(QStringLiteral("environmentRuns"));

    m_tree->setModel(m_model);
    m_tree->setAccessibleName(tr("Environments and their versions"));
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_emptyHint->setObjectName(QStringLiteral("environmentsEmpty"));
    m_emptyHint->setWordWrap(true);
    m_emptyHint->hide();
    m_tree->header()->setStretchLastSection(false);
    const auto mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_yaml->setFont(mono);
    m_yaml->setTabChangesFocus(true);
    m_yaml->setLineWrapMode(QPlainTextEdit::NoWrap);
    new YamlHighlighter(m_yaml->document());
    m_log->setReadOnly(true);
    m_log->setFont(mono);
    m_log->setMaximumBlockCount(20000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setPlaceholderText(tr("Build output appears here."));
    m_validation->setWordWrap(true);
    m_python->setPlaceholderText(tr("system python3, or a version (3.11) or an interpreter path"));
    m_findLinks->setPlaceholderText(tr("local wheel folders or URLs, separated by ';'"));
    m_variables->setPlaceholderText(tr("NAME=value; NAME2=value2 (set in the run's environment)"));
    m_docker->setPlaceholderText(tr("e.g. python:3.11-slim"));
    m_docker->setToolTip(tr("Kept for container backends. Local runs build a venv and do not use it."));
    m_status->setWordWrap(true);

    auto* newButton = new QPushButton(tr("&New environment"), this);
    newButton->setObjectName(QStringLiteral("newEnvironment"));
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(newButton);
    leftLayout->addWidget(m_emptyHint);
    leftLayout->addWidget(m_tree);

    auto* dockerNote = new QLabel(
        tr("Container image: kept for container backends; local venv builds do not use it."), this);
    dockerNote->setWordWrap(true);
    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Python:"), m_python);
    form->addRow(tr("&Conda file:"), m_yaml);
    form->addRow(QString(), m_validation);
    form->addRow(tr("&Find links:"), m_findLinks);
    form->addRow(QString(), m_noIndex);
    form->addRow(tr("&Variables:"), m_variables);
    form->addRow(tr("&Container image:"), m_docker);
    form->addRow(QString(), dockerNote);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_save);
    buttons->addWidget(m_build);
    buttons->addWidget(m_status, 1);

    auto* bottom = new QSplitter(Qt::Horizontal, this);
    auto* logBox = new QWidget(this);
    auto* logLayout = new QVBoxLayout(logBox);
    logLayout->setContentsMargins(0, 0, 0, 0);
    logLayout->addWidget(new QLabel(tr("Build log"), this));
    logLayout->addWidget(m_log);
    auto* runsBox = new QWidget(this);
    auto* runsLayout = new QVBoxLayout(runsBox);
    runsLayout->setContentsMargins(0, 0, 0, 0);
    runsLayout->addWidget(new QLabel(tr("Runs that used this version"), this));
    runsLayout->addWidget(m_runs);
    bottom->addWidget(logBox);
    bottom->addWidget(runsBox);
    bottom->setStretchFactor(0, 3);
    Remember::splitter(bottom, QStringLiteral("environments/bottom"));

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(8, 0, 0, 0);
    rightLayout->addLayout(form, 3);
    rightLayout->addLayout(buttons);
    rightLayout->addWidget(bottom, 2);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({260, 800});
    Remember::splitter(splitter, QStringLiteral("environments"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    m_validateTimer.setSingleShot(true);
    m_validateTimer.setInterval(150);
    connect(&m_validateTimer, &QTimer::timeout, this, &EnvironmentsPage::validate);
    connect(m_yaml, &QPlainTextEdit::textChanged, this, [this] { m_validateTimer.start(); });
    connect(newButton, &QPushButton::clicked, this, [this] {
        m_tree->setCurrentIndex({});
        m_loadedName.clear();
        m_name->clear();
        m_python->clear();
        m_findLinks->clear();
        m_noIndex->setChecked(false);
        m_variables->clear();
        m_docker->clear();
        m_yaml->setPlainText(QString::fromUtf8(kTemplate));
        m_log->clear();
        m_runs->clear();
        m_name->setFocus();
    });
    connect(m_save, &QPushButton::clicked, this, &EnvironmentsPage::save);
    connect(m_build, &QPushButton::clicked, this, &EnvironmentsPage::build);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                if (index.isValid() && !m_reselecting)
                    load(index.data(AssetVersionsModel::NameRole).toString(),
                         index.data(AssetVersionsModel::VersionRole).toInt());
            });
    connect(m_runs, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { Q_EMIT openRun(item->data(Qt::UserRole).toLongLong()); });
    m_yaml->setPlainText(QString::fromUtf8(kTemplate));
    validate();
}

void EnvironmentsPage::validate() {
    QList<QTextEdit::ExtraSelection> marks;
    Environments::CondaFile file;
    Environments::YamlError error;
    const auto text = m_yaml->toPlainText();
    if (text.trimmed().isEmpty() || Environments::parseCondaYaml(text.toStdString(), file, error)) {
        m_markedLine = 0;
        m_validation->setStyleSheet(QStringLiteral("color: #2e7d32;"));
        m_validation->setText(
            text.trimmed().isEmpty()
                ? tr("No conda file: the environment is the interpreter above.")
                : tr("Valid: %n pip package(s)", nullptr, static_cast<int>(file.pip.size())));
    } else {
        m_markedLine = error.line;
        m_validation->setStyleSheet(QStringLiteral("color: #c62828;"));
        m_validation->setText(tr("Line %1, column %2: %3")
                                  .arg(error.line)
                                  .arg(error.column)
                                  .arg(QString::fromStdString(error.message)));
        const auto block = m_yaml->document()->findBlockByNumber(std::max(0, error.line - 1));
        if (block.isValid()) {
            QTextEdit::ExtraSelection mark;
            mark.format.setBackground(QColor(0xff, 0xcd, 0xd2));
            mark.format.setProperty(QTextFormat::FullWidthSelection, true);
            mark.cursor = QTextCursor(block);
            marks.append(mark);
        }
    }
    m_yaml->setExtraSelections(marks);
    m_save->setEnabled(m_markedLine == 0);
}

void EnvironmentsPage::refresh() {
    m_connection.call(
        this, [](Api::Client& c) { return AssetVersionsModel::fetch(c, "environments"); },
        [this](const Json& all) {
            // The version being edited stays selected, without loading it again over unsaved edits.
            m_reselecting = true;
            m_model->setAssets(all);
            m_tree->expandAll();
            m_emptyHint->setVisible(all.empty());
            if (const auto index = m_model->indexOf(m_loadedName, m_loadedVersion); index.isValid())
                m_tree->setCurrentIndex(index);
            m_reselecting = false;
        });
}

void EnvironmentsPage::load(const QString& name, int version) {
    const auto path = "/api/v1/environments/" + Api::percentEncode(name.toStdString()) + "/versions/" +
                      (version > 0 ? std::to_string(version) : std::string("latest"));
    m_connection.call(
        this, [path](Api::Client& c) { return c.get(path); },
        [this](const Json& v) {
            const auto& s = v["spec"];
            m_loadedName = str(v["name"]);
            m_loadedVersion = v["version"].get<int>();
            m_name->setText(m_loadedName);
            m_python->setText(str(s["python"]));
            m_yaml->setPlainText(str(s["conda_yaml"]));
            QStringList links;
            for (const auto& l : s["find_links"])
                links << str(l);
            m_findLinks->setText(links.join(QStringLiteral("; ")));
            m_noIndex->setChecked(s["no_index"].get<bool>());
            QStringList vars;
            for (const auto& [k, value] : s["variables"].items())
                vars << QString::fromStdString(k) + QLatin1Char('=') + str(value);
            m_variables->setText(vars.join(QStringLiteral("; ")));
            m_docker->setText(str(s["docker_image"]));
            m_status->setText(tr("%1:%2 · %3")
                                  .arg(m_loadedName)
                                  .arg(m_loadedVersion)
                                  .arg(v["built"].get<bool>() ? tr("built") : tr("not built yet")));
            m_runs->clear();
            for (const auto& r : v["runs"]) {
                auto* item = new QListWidgetItem(tr("%1 (%2)").arg(str(r["name"]), str(r["status"])), m_runs);
                item->setData(Qt::UserRole, static_cast<qint64>(r["id"].get<qint64>()));
            }
        });
}

void EnvironmentsPage::save() {
    Json body = {{"name", m_name->text().trimmed().toStdString()}};
    if (!m_python->text().trimmed().isEmpty())
        body["python"] = m_python->text().trimmed().toStdString();
    if (!m_yaml->toPlainText().trimmed().isEmpty())
        body["conda_yaml"] = m_yaml->toPlainText().toStdString();
    Json links = Json::array();
    for (const auto& l : m_findLinks->text().split(QLatin1Char(';'), Qt::SkipEmptyParts))
        links.push_back(l.trimmed().toStdString());
    body["find_links"] = links;
    body["no_index"] = m_noIndex->isChecked();
    Json vars = Json::object();
    for (const auto& pair : m_variables->text().split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const auto eq = pair.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            m_status->setText(tr("Variables are NAME=value pairs separated by ';'."));
            return;
        }
        vars[pair.left(eq).trimmed().toStdString()] = pair.mid(eq + 1).trimmed().toStdString();
    }
    body["variables"] = vars;
    body["docker_image"] = m_docker->text().trimmed().toStdString();
    m_status->setText(tr("Saving…"));
    m_connection.call(
        this, [body](Api::Client& c) { return c.post("/api/v1/environments", body); },
        [this](const Json& r) {
            const auto& e = r["environment"];
            m_loadedName = str(e["name"]);
            m_loadedVersion = e["version"].get<int>();
            m_status->setText(
                r["created"].get<bool>()
                    ? tr("Saved as %1:%2").arg(m_loadedName).arg(m_loadedVersion)
                    : tr("Unchanged: %1:%2 has this spec").arg(m_loadedName).arg(m_loadedVersion));
            Q_EMIT saved(m_loadedName, m_loadedVersion);
            refresh();
        },
        [this](const QString& error) { m_status->setText(tr("Not saved: %1").arg(error)); });
}

void EnvironmentsPage::build() {
    if (m_loadedName.isEmpty()) {
        m_status->setText(tr("Save the environment first."));
        return;
    }
    const auto path = "/api/v1/environments/" + Api::percentEncode(m_loadedName.toStdString()) +
                      "/versions/" + std::to_string(m_loadedVersion) + "/build";
    m_build->setEnabled(false);
    m_log->clear();
    m_status->setText(tr("Building %1:%2…").arg(m_loadedName).arg(m_loadedVersion));
    QPointer<EnvironmentsPage> self(this);
    auto shown = std::make_shared<std::size_t>(0);
    auto showLog = [self, shown](const Json& log) {
        if (!self)
            return;
        for (; *shown < log.size(); ++*shown)
            self->m_log->appendPlainText(QString::fromStdString(log[*shown].get<std::string>()));
    };
    m_connection.call(
        this,
        [path, self, showLog](Api::Client& c) {
            const auto job = c.post(path, Json::object())["job"].get<qint64>();
            return c.waitJob(job, [showLog](const Json& j) {
                if (!j["progress"].contains("log"))
                    return;
                auto log = std::make_shared<Json>(j["progress"]["log"]);
                QMetaObject::invokeMethod(
                    qApp, [showLog, log] { showLog(*log); }, Qt::QueuedConnection);
            });
        },
        [this, showLog](const Json& r) {
            showLog(r["log"]);
            m_build->setEnabled(true);
            m_status->setText(r["reused"].get<bool>() ? tr("Already built") : tr("Built"));
            refresh();
        },
        [this](const QString& error) {
            m_build->setEnabled(true);
            m_log->appendPlainText(error);
            m_status->setText(tr("Build failed"));
        });
}

} // namespace Kiln::Ui
