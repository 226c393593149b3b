#include "RunPage.h"

#include "api/Client.h"
#include "app/Remember.h"
#include "app/StatusIcons.h"
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "models/QuickRegister.h"
#include "models/RegisterModelDialog.h"
#include "runs/RunFilesView.h"
#include "runs/RunFollower.h"
#include "runs/RunMediaView.h"
#include "runs/SystemSection.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QComboBox>
#include <QDateTime>
#include <QEvent>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString fromJson(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

RunPage::RunPage(WorkspaceConnection& connection, qint64 runId, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_runId(runId)
    , m_title(new QLabel(this))
    , m_statusLabel(new QLabel(this))
    , m_details(new QLabel(this))
    , m_error(new QLabel(this))
    , m_cancel(new QPushButton(tr("&Cancel run"), this))
    , m_registerModel(new QToolButton(this))
    , m_files(new RunFilesView(connection, runId, this))
    , m_media(new RunMediaView(connection, runId, this))
    , m_layoutChoice(new QComboBox(this))
    , m_log(new QPlainTextEdit(this))
    , m_chartArea(new QWidget(this))
    , m_chartGrid(new QGridLayout)
    , m_noMetrics(new QLabel(
          tr("No metrics yet. Scripts log them with kiln.Run.get_context().log(name, value)."), this))
    , m_system(new SystemSection(m_chartArea))
    , m_systemSummary(new QLabel(this))
    , m_follower(new RunFollower(connection.url(), connection.token(), runId, this)) {
    setObjectName(QStringLiteral("runPage"));
    m_title->setObjectName(QStringLiteral("runTitle"));
    m_statusLabel->setObjectName(QStringLiteral("runStatus"));
    m_details->setObjectName(QStringLiteral("runDetails"));
    m_error->setObjectName(QStringLiteral("runError"));
    m_cancel->setObjectName(QStringLiteral("cancelRun"));
    m_registerModel->setObjectName(QStringLiteral("registerModel"));
    m_registerModel->setText(tr("Register &model"));
    m_registerModel->setEnabled(false);
    m_registerModel->setToolTip(
        tr("Register the run's outputs/model as a model: a name is proposed, Enter registers"));
    m_registerModel->setPopupMode(QToolButton::MenuButtonPopup);
    m_registerModel->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    auto* registerMenu = new QMenu(m_registerModel);
    auto* registerWithDialog =
        registerMenu->addAction(tr("Register model…"), this, [this] { registerModel(); });
    registerWithDialog->setObjectName(QStringLiteral("registerModelDialogAction"));
    registerWithDialog->setToolTip(tr("Choose the name, files, description and tags"));
    m_registerModel->setMenu(registerMenu);
    m_log->setObjectName(QStringLiteral("runLog"));
    m_layoutChoice->setObjectName(QStringLiteral("chartLayout"));

    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setText(tr("Run %1").arg(runId));
    QFont statusFont = m_statusLabel->font();
    statusFont.setBold(true);
    m_statusLabel->setFont(statusFont);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setWordWrap(true);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->hide();
    m_cancel->setEnabled(false);
    m_cancel->setToolTip(tr("Stop the run (SIGTERM, then SIGKILL after a grace period)"));

    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(200000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setPlaceholderText(tr("The run's output appears here as it is written."));

    m_layoutChoice->addItem(tr("One chart per metric"));
    m_layoutChoice->addItem(tr("All metrics in one chart"));
    connect(m_layoutChoice, &QComboBox::currentIndexChanged, this, &RunPage::rebuildCharts);

    auto* header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addSpacing(12);
    header->addWidget(m_statusLabel);
    header->addSpacing(12);
    m_systemSummary->setObjectName(QStringLiteral("runSystemSummary"));
    m_systemSummary->setToolTip(tr("The most memory the run's processes held, and the CPU cores they used on "
                                   "average (see System below the metrics)"));
    header->addWidget(m_systemSummary);
    connect(m_system, &SystemSection::summaryChanged, m_systemSummary, &QLabel::setText);
    header->addStretch();
    auto* again = new QPushButton(tr("Run a&gain"), this);
    again->setObjectName(QStringLiteral("runAgain"));
    again->setToolTip(
        tr("Submit this run again: same source snapshot, script, arguments, environment and compute"));
    auto* clone = new QPushButton(tr("C&lone and edit…"), this);
    clone->setObjectName(QStringLiteral("cloneRun"));
    clone->setToolTip(tr("Open the submission dialog filled in from this run"));
    connect(again, &QPushButton::clicked, this, [this] { Q_EMIT runAgainRequested(m_runId); });
    connect(clone, &QPushButton::clicked, this, [this] { Q_EMIT cloneRequested(m_runId); });
    auto* sweep = new QPushButton(tr("S&weep this run…"), this);
    sweep->setObjectName(QStringLiteral("sweepRun"));
    sweep->setToolTip(tr("Start a hyperparameter sweep from this run: its numeric arguments become the "
                         "parameters, around the values it used"));
    connect(sweep, &QPushButton::clicked, this, [this] { Q_EMIT sweepRequested(m_runId); });
    header->addWidget(again);
    header->addWidget(clone);
    header->addWidget(sweep);
    header->addWidget(m_registerModel);
    header->addWidget(m_cancel);

    auto* chartsBox = new QWidget(this);
    auto* chartsLayout = new QVBoxLayout(chartsBox);
    chartsLayout->setContentsMargins(0, 0, 0, 0);
    auto* chartBar = new QHBoxLayout;
    chartBar->addWidget(new QLabel(tr("Metrics"), this));
    chartBar->addStretch();
    chartBar->addWidget(m_layoutChoice);
    chartsLayout->addLayout(chartBar);
    chartsLayout->addWidget(m_noMetrics);
    // The chart area: the run's metrics, then its system metrics.
    auto* areaLayout = new QVBoxLayout(m_chartArea);
    areaLayout->setContentsMargins(0, 0, 0, 0);
    areaLayout->addLayout(m_chartGrid);
    areaLayout->addWidget(m_system);
    areaLayout->addStretch();
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setWidget(m_chartArea);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // charts take the width there is
    scroll->viewport()->installEventFilter(this);
    chartsLayout->addWidget(scroll, 1);

    auto* logBox = new QTabWidget(this);
    logBox->setObjectName(QStringLiteral("runLowerTabs"));
    logBox->setDocumentMode(true);
    logBox->addTab(m_log, tr("&Output"));
    logBox->addTab(m_files, tr("F&iles"));
    // The note: Markdown, rendered; Edit turns it into text, Save (Ctrl+Return) keeps it.
    auto* noteBox = new QWidget(this);
    m_note = new QTextBrowser(noteBox);
    m_note->setObjectName(QStringLiteral("runNote"));
    m_note->setOpenExternalLinks(true);
    m_note->setPlaceholderText(tr("No note yet. Edit to write what this run tried and what it showed "
                                  "(Markdown)."));
    m_noteEdit = new QPlainTextEdit(noteBox);
    m_noteEdit->setObjectName(QStringLiteral("runNoteEdit"));
    m_noteEdit->hide();
    m_editNote = new QPushButton(tr("&Edit note"), noteBox);
    m_editNote->setObjectName(QStringLiteral("editNote"));
    auto* cancelNote = new QPushButton(tr("Cancel"), noteBox);
    cancelNote->hide();
    auto* noteButtons = new QHBoxLayout;
    noteButtons->addStretch();
    noteButtons->addWidget(cancelNote);
    noteButtons->addWidget(m_editNote);
    auto* noteLayout = new QVBoxLayout(noteBox);
    noteLayout->setContentsMargins(0, 4, 0, 0);
    noteLayout->addWidget(m_note, 1);
    noteLayout->addWidget(m_noteEdit, 1);
    noteLayout->addLayout(noteButtons);
    logBox->addTab(noteBox, tr("&Note"));
    logBox->addTab(m_media, tr("I&mages && tables"));
    auto endEditing = [this, cancelNote] {
        m_noteEdit->hide();
        cancelNote->hide();
        m_note->show();
        m_editNote->setText(tr("&Edit note"));
    };
    connect(cancelNote, &QPushButton::clicked, this, endEditing);
    connect(m_editNote, &QPushButton::clicked, this, [this, cancelNote, endEditing] {
        if (!m_noteEdit->isVisible()) {
            m_noteEdit->setPlainText(m_noteText);
            m_note->hide();
            m_noteEdit->show();
            cancelNote->show();
            m_editNote->setText(tr("&Save note"));
            m_noteEdit->setFocus();
            return;
        }
        const auto text = m_noteEdit->toPlainText().toStdString();
        const auto path = "/api/v1/runs/" + std::to_string(m_runId);
        m_editNote->setEnabled(false);
        m_connection.call(
            this,
            [path, text](Api::Client& c) {
                return c.request("PATCH", path, {{"note", text}});
            },
            [this, endEditing](const Json& run) {
                m_editNote->setEnabled(true);
                endEditing();
                updateHeader(run);
            },
            [this](const QString& error) {
                m_editNote->setEnabled(true); // the text stays in the editor: nothing typed is lost
                QMessageBox::warning(this, tr("Save note"), tr("Could not save the note: %1").arg(error));
            });
    });
    m_noteEdit->installEventFilter(this); // Ctrl+Return saves
    m_editNote->setToolTip(tr("Edit the note; Ctrl+Return saves it"));

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(QStringLiteral("runSplitter"));
    splitter->setChildrenCollapsible(false); // a drag cannot lose the charts or the output
    splitter->addWidget(chartsBox);
    splitter->addWidget(logBox);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({560, 180});
    Remember::splitter(splitter, QStringLiteral("run"));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_details);
    layout->addWidget(m_error);
    layout->addWidget(splitter, 1);

    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_cancel->setEnabled(false);
        const auto base = "/api/v1/runs/" + std::to_string(m_runId);
        m_connection.call(
            this, [base](Api::Client& c) { return c.post(base + "/cancel", Json::object()); }, {},
            [this](const QString& error) {
                m_cancel->setEnabled(true);
                QMessageBox::warning(this, tr("Cancel run"), tr("Could not cancel the run: %1").arg(error));
            });
    });
    connect(m_registerModel, &QToolButton::clicked, this, &RunPage::quickRegister);
    connect(m_follower, &RunFollower::feed, this,
            [this](const std::shared_ptr<const Json>& answer) { apply(*answer); });
    connect(m_follower, &RunFollower::overview, this,
            [this](const auto& points) { metricsArrived(receive(m_series, *points, true)); });
    connect(m_follower, &RunFollower::points, this,
            [this](const auto& points) { metricsArrived(receive(m_series, *points)); });
    m_follower->start();
}

RunPage::~RunPage() = default;

void RunPage::apply(const Json& answer) {
    updateHeader(answer["run"]);
    const auto& logs = answer["logs"];
    if (!logs.empty()) {
        auto* bar = m_log->verticalScrollBar();
        const bool atEnd = bar->value() >= bar->maximum() - 2;
        QString text;
        for (const auto& l : logs) {
            const auto stream = l["stream"].get<std::string>();
            if (stream != "output")
                text += QLatin1Char('[') + QString::fromStdString(stream) + QLatin1String("] ");
            text += fromJson(l["line"]) + QLatin1Char('\n');
        }
        text.chop(1);
        m_log->appendPlainText(text);
        if (atEnd)
            bar->setValue(bar->maximum());
    }
    if (answer["metrics"].empty())
        return;
    metricsArrived(receive(m_series, answer["metrics"]));
}

void RunPage::metricsArrived(const QStringList& created) {
    bool newKey = false;
    for (const auto& name : created) {
        if (SystemSection::isSystemKey(name)) { // the supervisor's: charted in the System section
            m_system->addSeries(name, m_series[name], m_runId);
        } else if (!m_keys.contains(name)) {
            m_keys.append(name);
            m_keys.sort();
            newKey = true;
            panelFor(name);
        }
    }
    for (auto* panel : std::as_const(m_charts)) {
        if (newKey)
            panel->setMetricKeys(m_keys);
        panel->chart()->dataAppended();
    }
    if (newKey)
        layoutCharts();
    m_system->dataAppended();
}

QString RunPage::systemSummary() const {
    return m_systemSummary->text();
}

void RunPage::updateHeader(const Json& run) {
    // Answers cross: a feed answer taken before a change this page made (a note saved) must not undo it.
    const auto seq = run.value("status_seq", qint64(0));
    if (seq < m_statusSeq)
        return;
    m_statusSeq = seq;
    m_status = fromJson(run["status"]);
    m_experiment = fromJson(run["experiment"]);
    if (const auto note = QString::fromStdString(run.value("note", std::string())); note != m_noteText) {
        m_noteText = note;
        m_note->setMarkdown(note);
    }
    if (!run["started"].is_null()) {
        m_started = run["started"].get<double>();
        m_system->setStarted(m_started);
    }
    const QString name = fromJson(run["name"]);
    m_title->setText(name);
    Q_EMIT titleChanged(name);
    m_statusLabel->setText(m_status);
    m_statusLabel->setStyleSheet(QStringLiteral("color: %1;").arg(StatusIcons::color(m_status).name()));
    const bool live = m_status == QLatin1String("Queued") || m_status == QLatin1String("Preparing") ||
                      m_status == QLatin1String("Running") || m_status == QLatin1String("Finalizing");
    m_cancel->setEnabled(live && !run["cancel_requested"].get<bool>());
    m_registerModel->setEnabled(!live);
    if (!live && !m_filesLoaded) {
        m_filesLoaded = true;
        m_files->load();
        m_media->load();
    }

    auto time = [](const Json& t) {
        return t.is_null() ? QString()
                           : QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(t.get<double>() * 1000))
                                 .toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
    };
    QStringList args;
    for (const auto& a : run["args"])
        args << fromJson(a);
    QString details = tr("Experiment <b>%1</b> · run %2 · script <code>%3</code>")
                          .arg(fromJson(run["experiment"]).toHtmlEscaped())
                          .arg(run["id"].get<qint64>())
                          .arg(fromJson(run["script"]).toHtmlEscaped());
    if (!run["node"].get<std::string>().empty())
        details += QStringLiteral(" · ") +
                   tr("compute %1 (node %2)")
                       .arg(fromJson(run["compute"]).toHtmlEscaped(), fromJson(run["node"]).toHtmlEscaped());
    if (run.contains("external_id") && !run["external_id"].get<std::string>().empty())
        details +=
            QStringLiteral(" · ") + tr("Slurm job %1").arg(fromJson(run["external_id"]).toHtmlEscaped());
    details += QStringLiteral("<br>") +
               tr("Arguments: <code>%1</code>").arg(args.join(QLatin1Char(' ')).toHtmlEscaped());
    if (run.contains("datasets") && !run["datasets"].empty()) {
        QStringList used;
        for (const auto& d : run["datasets"])
            used << QStringLiteral("%1:%2 (%3)")
                        .arg(fromJson(d["name"]))
                        .arg(d["version"].get<int>())
                        .arg(fromJson(d["mode"]));
        details +=
            QStringLiteral("<br>") + tr("Datasets: %1").arg(used.join(QStringLiteral(", ")).toHtmlEscaped());
    }
    if (run.contains("environment") && run["environment"].is_object())
        details += QStringLiteral("<br>") + tr("Environment: %1:%2")
                                                .arg(fromJson(run["environment"]["name"]).toHtmlEscaped())
                                                .arg(run["environment"]["version"].get<int>());
    if (run.contains("models") && !run["models"].empty()) {
        QStringList models;
        for (const auto& m : run["models"])
            models << QStringLiteral("%1:%2").arg(fromJson(m["name"])).arg(m["version"].get<int>());
        details += QStringLiteral("<br>") +
                   tr("Registered as model %1").arg(models.join(QStringLiteral(", ")).toHtmlEscaped());
    }
    details += QStringLiteral("<br>") + tr("Created %1").arg(time(run["created"]));
    if (!run["started"].is_null())
        details += QStringLiteral(" · ") + tr("started %1").arg(time(run["started"]));
    if (!run["ended"].is_null()) {
        details += QStringLiteral(" · ") + tr("ended %1").arg(time(run["ended"]));
        if (!run["started"].is_null())
            details += QStringLiteral(" (%1 s)").arg(
                run["ended"].get<double>() - run["started"].get<double>(), 0, 'f', 1);
    }
    if (!run["exit_code"].is_null())
        details += QStringLiteral(" · ") + tr("exit code %1").arg(run["exit_code"].get<qint64>());
    m_details->setText(details);
    const QString error = fromJson(run["error"]);
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
}

static const QColor kPalette[] = {
    QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
    QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f)};

ChartPanel* RunPage::panelFor(const QString& key) {
    const bool overlay = m_layoutChoice->currentIndex() == 1;
    const QString slot = overlay ? QString() : key;
    auto* panel = m_charts.value(slot);
    if (!panel) {
        panel = new ChartPanel(overlay ? tr("All metrics") : key, m_chartArea);
        panel->chart()->setObjectName(QStringLiteral("chart:") + slot);
        panel->chart()->setLookup([this](qint64, const QString& k) { return m_series.value(k); });
        refineWhenZoomed(panel->chart(), m_connection,
                         [chart = panel->chart()](int curve) { return chart->curve(curve).label; });
        panel->setMetricKeys(m_keys);
        // Chart settings are remembered per workspace and metric.
        panel->setSettingsKey(QString::number(qHash(m_connection.description()), 16) + QLatin1Char('/') +
                              (overlay ? QStringLiteral("*overlay*") : key));
        m_charts.insert(slot, panel);
    }
    const auto buffer = m_series.value(key);
    if (buffer && !panel->chart()->seriesNames().contains(key)) {
        const auto color = kPalette[panel->chart()->curveCount() % std::size(kPalette)];
        panel->chart()->addCurve({m_runId, key, color, buffer, m_started});
    }
    return panel;
}

bool RunPage::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_noteEdit && event->type() == QEvent::KeyPress) {
        // Ctrl+Return saves the note (before the editor would take it as a new line).
        const auto* key = static_cast<QKeyEvent*>(event);
        if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
            key->modifiers().testFlag(Qt::ControlModifier)) {
            m_editNote->click();
            return true;
        }
        return false;
    }
    if (event->type() == QEvent::Resize && watched != m_noteEdit) {
        // Two charts side by side when each gets room for its controls, else one per row.
        const int need = m_charts.isEmpty() ? 480 : m_charts.begin().value()->minimumSizeHint().width();
        const int columns = static_cast<QWidget*>(watched)->width() >= 2 * need + 24 ? 2 : 1;
        if (columns != m_columns) {
            m_columns = columns;
            layoutCharts();
        }
        m_system->setColumns(static_cast<QWidget*>(watched)->width() >= 900 ? 3 : 2);
    }
    return QWidget::eventFilter(watched, event);
}

void RunPage::layoutCharts() {
    m_noMetrics->setVisible(m_keys.isEmpty());
    for (auto* chart : std::as_const(m_charts))
        m_chartGrid->removeWidget(chart);
    for (int c = 0; c < 2; ++c)
        m_chartGrid->setColumnStretch(c, c < m_columns ? 1 : 0);
    int i = 0;
    for (const auto& key : std::as_const(m_keys)) {
        if (auto* chart = m_charts.value(key)) {
            m_chartGrid->addWidget(chart, i / m_columns, i % m_columns);
            ++i;
        }
    }
    if (auto* overlay = m_charts.value(QString()))
        m_chartGrid->addWidget(overlay, 0, 0, 1, m_columns);
}

void RunPage::rebuildCharts() {
    qDeleteAll(m_charts);
    m_charts.clear();
    for (const auto& key : std::as_const(m_keys))
        panelFor(key);
    layoutCharts();
}

QuickRegister* RunPage::quickRegister() {
    if (m_status != QLatin1String("Completed")) {
        registerModel();
        return nullptr;
    }
    auto* popup = new QuickRegister(m_connection, m_runId, m_registerModel);
    popup->setAttribute(Qt::WA_DeleteOnClose);
    connect(popup, &QuickRegister::registered, this, &RunPage::modelWasRegistered);
    connect(popup, &QuickRegister::moreRequested, this, [this](const QString& name) { registerModel(name); });
    popup->show();
    return popup;
}

RegisterModelDialog* RunPage::registerModel(const QString& name) {
    auto* dialog = new RegisterModelDialog(m_connection, m_runId, m_status, this, name);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RegisterModelDialog::registered, this, &RunPage::modelWasRegistered);
    dialog->open();
    return dialog;
}

void RunPage::modelWasRegistered(const QString& name, int version) {
    Q_EMIT modelRegistered(name, version);
    // The header names the models registered from the run: fetch it again (an ended run's feed is over).
    const auto path = "/api/v1/runs/" + std::to_string(m_runId);
    m_connection.call(
        this, [path](Api::Client& c) { return c.get(path); }, [this](const Json& run) { updateHeader(run); });
}

MetricChart* RunPage::chart(const QString& key) const {
    auto* panel = m_charts.value(key);
    return panel ? panel->chart() : nullptr;
}

QList<MetricChart*> RunPage::charts() const {
    QList<MetricChart*> out;
    for (auto* panel : m_charts)
        out << panel->chart();
    return out;
}

} // namespace Kiln::Ui
