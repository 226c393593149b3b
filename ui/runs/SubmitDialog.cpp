#include "SubmitDialog.h"

#include "api/Client.h"
#include "app/TabOrder.h"
#include "runs/Arguments.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

SubmitDialog::SubmitDialog(WorkspaceConnection& connection, QWidget* parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_experiment(new QComboBox(this))
    , m_name(new QLineEdit(this))
    , m_source(new QLineEdit(this))
    , m_script(new QComboBox(this))
    , m_environment(new QComboBox(this))
    , m_compute(new QComboBox(this))
    , m_args(new QTableWidget(0, 2, this))
    , m_datasets(new QComboBox(this))
    , m_message(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)) {
    setObjectName(QStringLiteral("submitDialog"));
    setWindowTitle(tr("Submit a run"));
    m_experiment->setObjectName(QStringLiteral("experiment"));
    m_name->setObjectName(QStringLiteral("runName"));
    m_source->setObjectName(QStringLiteral("sourceFolder"));
    m_script->setObjectName(QStringLiteral("script"));
    m_environment->setObjectName(QStringLiteral("environment"));
    m_compute->setObjectName(QStringLiteral("compute"));
    m_compute->addItem(QStringLiteral("local"));
    setEnvironments({});
    m_args->setObjectName(QStringLiteral("arguments"));
    m_args->setAccessibleName(tr("Script arguments"));
    m_args->setTabKeyNavigation(false); // Tab leaves the table (arrows move between cells)
    m_message->setObjectName(QStringLiteral("submitMessage"));
    m_experiment->setEditable(true);
    m_script->setEditable(true);
    m_name->setPlaceholderText(tr("optional; default: experiment #id"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Submit"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("submitButton"));

    auto* browse = new QPushButton(tr("&Browse…"), this);
    auto* sourceRow = new QHBoxLayout;
    sourceRow->addWidget(m_source, 1);
    sourceRow->addWidget(browse);

    m_args->setHorizontalHeaderLabels({tr("Argument"), tr("Value")});
    m_args->horizontalHeader()->setStretchLastSection(true);
    m_args->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_args->verticalHeader()->hide();
    auto* add = new QPushButton(tr("&Add argument"), this);
    auto* remove = new QPushButton(tr("&Remove"), this);
    add->setObjectName(QStringLiteral("addArgument"));
    remove->setObjectName(QStringLiteral("removeArgument"));
    m_datasets->setObjectName(QStringLiteral("datasetChoice"));
    m_datasets->setEnabled(false);
    m_datasets->setPlaceholderText(tr("no datasets registered"));
    auto* insert = new QPushButton(tr("&Insert dataset"), this);
    insert->setObjectName(QStringLiteral("insertDataset"));
    insert->setToolTip(
        tr("Put {dataset:NAME} into the selected argument's value: the run gets a read-only folder "
           "with the dataset's files there"));
    auto* argButtons = new QHBoxLayout;
    argButtons->addWidget(add);
    argButtons->addWidget(remove);
    argButtons->addStretch();
    argButtons->addWidget(m_datasets);
    argButtons->addWidget(insert);
    connect(insert, &QPushButton::clicked, this, [this] {
        if (m_datasets->currentText().isEmpty())
            return;
        int row = m_args->currentRow();
        if (row < 0) {
            addArgument(QStringLiteral("--data-folder"));
            row = m_args->rowCount() - 1;
        }
        m_args->item(row, 1)->setText(QStringLiteral("{dataset:%1}").arg(m_datasets->currentText()));
    });

    auto* form = new QFormLayout;
    form->addRow(tr("&Experiment:"), m_experiment);
    form->addRow(tr("Run &name:"), m_name);
    auto* sourceLabel = new QLabel(tr("Source &folder:"), this);
    sourceLabel->setBuddy(m_source); // a row holding a layout gets no buddy by itself
    form->addRow(sourceLabel, sourceRow);
    form->addRow(tr("S&cript:"), m_script);
    form->addRow(tr("En&vironment:"), m_environment);
    form->addRow(tr("Com&pute:"), m_compute);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Arguments (passed in this order; a value may be empty):"), this));
    layout->addWidget(m_args, 1);
    layout->addLayout(argButtons);
    layout->addWidget(m_message);
    layout->addWidget(m_buttons);
    resize(620, 480);

    connect(browse, &QPushButton::clicked, this, [this] {
        auto dir = QFileDialog::getExistingDirectory(this, tr("Source folder"), m_source->text());
        if (!dir.isEmpty()) {
            m_snapshot.reset();
            m_message->setText(QString());
            m_source->setText(dir);
            fillScripts();
        }
    });
    connect(m_source, &QLineEdit::editingFinished, this, &SubmitDialog::fillScripts);
    connect(m_source, &QLineEdit::textEdited, this, [this] {
        if (m_snapshot) { // the user chose a folder: its current files, not the cloned snapshot
            m_snapshot.reset();
            m_message->setText(QString());
        }
    });
    connect(add, &QPushButton::clicked, this, [this] {
        addArgument();
        m_args->setCurrentCell(m_args->rowCount() - 1, 0);
        m_args->editItem(m_args->item(m_args->rowCount() - 1, 0));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_args->currentRow() >= 0)
            m_args->removeRow(m_args->currentRow());
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &SubmitDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    // The sample, ready to run.
    const auto sample =
        QString::fromStdString((Workspace::resourcesDir() / "samples" / "fashion-mnist").string());
    m_experiment->setEditText(QStringLiteral("fashion-mnist"));
    setSource(sample, QStringLiteral("train.py"));
    setArguments({{QStringLiteral("--data-folder"), QStringLiteral("/usr/share/datasets/fashion-mnist")},
                  {QStringLiteral("--batch-size"), QStringLiteral("50")},
                  {QStringLiteral("--first-layer-neurons"), QStringLiteral("300")},
                  {QStringLiteral("--second-layer-neurons"), QStringLiteral("100")},
                  {QStringLiteral("--learning-rate"), QStringLiteral("0.001")},
                  {QStringLiteral("--epochs"), QStringLiteral("3")}});
    tabInLayoutOrder(this);
}

void SubmitDialog::setExperiments(const QStringList& names) {
    const auto current = m_experiment->currentText();
    m_experiment->clear();
    m_experiment->addItems(names);
    m_experiment->setEditText(current);
}

void SubmitDialog::setDatasets(const QStringList& names) {
    m_datasets->clear();
    m_datasets->addItems(names);
    m_datasets->setEnabled(!names.isEmpty());
    if (!names.isEmpty())
        m_datasets->setCurrentIndex(0);
    if (!names.contains(QStringLiteral("fashion-mnist")))
        return;
    m_datasets->setCurrentText(QStringLiteral("fashion-mnist"));
    for (int r = 0; r < m_args->rowCount(); ++r)
        if (m_args->item(r, 1) &&
            m_args->item(r, 1)->text() == QLatin1String("/usr/share/datasets/fashion-mnist"))
            m_args->item(r, 1)->setText(QStringLiteral("{dataset:fashion-mnist}"));
}

void SubmitDialog::setComputeTargets(const QStringList& names) {
    const auto current = m_compute->currentText();
    m_compute->clear();
    m_compute->addItems(names);
    const int index = m_compute->findText(current);
    m_compute->setCurrentIndex(index >= 0 ? index : 0);
}

void SubmitDialog::setEnvironments(const QStringList& names) {
    const auto current = m_environment->currentData().toString();
    m_environment->clear();
    m_environment->addItem(tr("System python (no environment)"), QString());
    for (const auto& n : names)
        m_environment->addItem(n, n);
    const int index = m_environment->findData(current);
    m_environment->setCurrentIndex(index >= 0 ? index : 0);
}

void SubmitDialog::setSource(const QString& folder, const QString& script) {
    m_source->setText(folder);
    fillScripts();
    m_script->setEditText(script);
}

void SubmitDialog::setArguments(const QList<QPair<QString, QString>>& args) {
    m_args->setRowCount(0);
    for (const auto& [name, value] : args)
        addArgument(name, value);
}

void SubmitDialog::addArgument(const QString& name, const QString& value) {
    const int row = m_args->rowCount();
    m_args->insertRow(row);
    m_args->setItem(row, 0, new QTableWidgetItem(name));
    m_args->setItem(row, 1, new QTableWidgetItem(value));
}

QStringList SubmitDialog::arguments() const {
    QStringList out;
    for (int r = 0; r < m_args->rowCount(); ++r) {
        const auto name = m_args->item(r, 0) ? m_args->item(r, 0)->text().trimmed() : QString();
        const auto value = m_args->item(r, 1) ? m_args->item(r, 1)->text() : QString();
        if (!name.isEmpty())
            out << name;
        if (!value.isEmpty())
            out << value;
    }
    return out;
}

void SubmitDialog::fillScripts() {
    if (m_snapshot)
        return; // the scripts are the snapshot's
    const auto current = m_script->currentText();
    m_script->clear();
    QDir dir(m_source->text());
    m_script->addItems(
        dir.entryList({QStringLiteral("*.py"), QStringLiteral("*.sh")}, QDir::Files, QDir::Name));
    m_script->setEditText(current.isEmpty() && m_script->count() ? m_script->itemText(0) : current);
}

void SubmitDialog::submit() {
    Api::SubmitRequest req;
    req.experiment = m_experiment->currentText().trimmed().toStdString();
    req.name = m_name->text().trimmed().toStdString();
    req.sourceDir = m_source->text().trimmed().toStdString();
    req.script = m_script->currentText().trimmed().toStdString();
    req.environment = m_environment->currentData().toString().toStdString();
    if (m_snapshot)
        req.snapshot = *m_snapshot;
    req.compute = m_compute->currentText().toStdString();
    req.systemInterval = m_systemInterval;
    for (const auto& a : arguments())
        req.args.push_back(a.toStdString());
    if (req.experiment.empty() || req.script.empty() || (req.sourceDir.empty() && !m_snapshot)) {
        m_message->setText(tr("Experiment, source folder and script are required."));
        return;
    }
    if (!m_snapshot && !QDir(m_source->text().trimmed()).exists()) {
        m_message->setText(tr("The source folder does not exist."));
        return;
    }
    m_message->setStyleSheet(QString());
    m_message->setText(tr("Submitting…"));
    m_buttons->setEnabled(false);
    m_connection.call(
        this, [req](Api::Client& c) { return c.submit(req); },
        [this](const nlohmann::json& run) {
            m_buttons->setEnabled(true);
            QStringList warnings;
            for (const auto& w : run.value("warnings", nlohmann::json::array()))
                warnings << QString::fromStdString(w.get<std::string>());
            Q_EMIT submitted(run["id"].get<qint64>());
            if (!warnings.isEmpty())
                Q_EMIT warned(warnings);
            accept();
        },
        [this](const QString& error) {
            m_buttons->setEnabled(true);
            m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
            m_message->setText(tr("Could not submit: %1").arg(error));
        });
}

void SubmitDialog::cloneFrom(const nlohmann::json& run, const nlohmann::json& manifest) {
    auto text = [](const nlohmann::json& j) { return QString::fromStdString(j.get<std::string>()); };
    m_snapshot = std::make_shared<const nlohmann::json>(manifest);
    m_snapshotRun = run["id"].get<qint64>();
    if (run.contains("system_interval") && run["system_interval"].is_number())
        m_systemInterval = run["system_interval"].get<double>();
    setWindowTitle(tr("Clone run %1").arg(m_snapshotRun));
    m_experiment->setCurrentText(text(run["experiment"]));
    m_name->clear();
    m_source->setText(text(run["source_path"]));
    m_script->clear();
    for (const auto& f : manifest["files"]) {
        const auto path = text(f["path"]);
        if (path.endsWith(QLatin1String(".py")) || path.endsWith(QLatin1String(".sh")))
            m_script->addItem(path);
    }
    m_script->setEditText(text(run["script"]));
    QList<QPair<QString, QString>> args;
    for (const auto& [name, value] : Runs::parseArguments(run["args"].get<std::vector<std::string>>())) {
        if (name.starts_with('#'))
            args.append({QString::fromStdString(value), QString()}); // a positional word stays a word
        else
            args.append({QString::fromStdString(name), QString::fromStdString(value)});
    }
    setArguments(args);
    QString environment;
    if (run.contains("environment") && run["environment"].is_object())
        environment = QStringLiteral("%1:%2")
                          .arg(text(run["environment"]["name"]))
                          .arg(run["environment"]["version"].get<int>());
    int index = m_environment->findData(environment);
    if (index < 0) {
        m_environment->addItem(environment, environment);
        index = m_environment->count() - 1;
    }
    m_environment->setCurrentIndex(environment.isEmpty() ? 0 : index);
    m_compute->setCurrentText(text(run["compute"]));
    m_message->setStyleSheet(QString());
    m_message->setText(
        tr("Uses the source snapshot of run %1; choose a folder to use its current files instead.")
            .arg(m_snapshotRun));
}

void SubmitDialog::applyDefaults(const QString& experiment, const QString& compute,
                                 const QString& environment) {
    if (!experiment.isEmpty())
        m_experiment->setCurrentText(experiment);
    if (!compute.isEmpty() && m_compute->findText(compute) >= 0)
        m_compute->setCurrentText(compute);
    if (!environment.isEmpty()) {
        int index = m_environment->findData(environment);
        if (index < 0) {
            m_environment->addItem(environment, environment);
            index = m_environment->count() - 1;
        }
        m_environment->setCurrentIndex(index);
    }
}

QString SubmitDialog::environment() const {
    return m_environment->currentData().toString();
}

QString SubmitDialog::compute() const {
    return m_compute->currentText();
}

QString SubmitDialog::experiment() const {
    return m_experiment->currentText();
}

QString SubmitDialog::script() const {
    return m_script->currentText();
}

} // namespace Kiln::Ui
