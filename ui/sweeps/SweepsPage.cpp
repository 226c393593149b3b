#include "SweepsPage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/Remember.h"
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "models/RegisterModelDialog.h"
#include "sweeps/ParallelCoordinates.h"
#include "sweeps/ParameterScatter.h"
#include "sweeps/SweepListModel.h"
#include "sweeps/SweepTrialsModel.h"
#include "workspace/ChangeWatch.h"
#include "workspace/WorkspaceConnection.h"

#include <set>

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTabWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

namespace {

QString str(const Json& v) {
    return v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString::fromStdString(v.dump());
}

// The trial table's rows that pass every brush of the parallel-coordinates chart (its rows are the model's).
class BrushProxy final : public QSortFilterProxyModel {
public:
    BrushProxy(ParallelCoordinates* chart, QObject* parent)
        : QSortFilterProxyModel(parent)
        , m_chart(chart) {}
    void brushed() { invalidateRowsFilter(); }

protected:
    bool filterAcceptsRow(int row, const QModelIndex&) const override { return m_chart->accepts(row); }

private:
    ParallelCoordinates* m_chart;
};

// Distinct colours for trials (Tableau 10), then they repeat.
const QColor kTrialColors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                               QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                               QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
                               QColor(0x17, 0xbe, 0xcf)};

// The sweep, and the primary-metric points of its trials whose curves are not complete yet (`complete`).
Json fetchSweep(Api::Client& c, qint64 id, const std::set<qint64>& complete) {
    auto sweep = c.get("/api/v1/sweeps/" + std::to_string(id));
    Json histories = Json::object();
    const auto key = Api::percentEncode(sweep["spec"]["primary_metric"]["name"].get<std::string>());
    for (const auto& t : sweep["trials"]) {
        const auto run = t["run"].get<qint64>();
        if (!complete.count(run) && t["reports"].get<int>() > 0)
            histories[std::to_string(run)] =
                c.get("/api/v1/runs/" + std::to_string(run) + "/metrics/history?key=" + key)["series"];
    }
    return {{"sweep", sweep}, {"histories", histories}};
}

} // namespace

SweepsPage::SweepsPage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_listModel(new SweepListModel(this))
    , m_list(new QTableView(this))
    , m_header(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_counts(new QLabel(this))
    , m_best(new QLabel(this))
    , m_cancel(new QPushButton(tr("&Cancel sweep"), this))
    , m_registerBest(new QPushButton(tr("Register &best model…"), this))
    , m_compare(new QPushButton(tr("Com&pare trials"), this))
    , m_parallel(new ParallelCoordinates(this))
    , m_trialsModel(new SweepTrialsModel(this))
    , m_proxy(new BrushProxy(m_parallel, this))
    , m_trials(new QTableView(this))
    , m_curvesPanel(nullptr)
    , m_curvesBox(new QWidget(this))
    , m_scatter(new ParameterScatter(this)) {
    setObjectName(QStringLiteral("sweepsPage"));
    m_list->setObjectName(QStringLiteral("sweepList"));
    m_trials->setObjectName(QStringLiteral("sweepTrials"));
    m_header->setObjectName(QStringLiteral("sweepHeader"));
    m_cancel->setObjectName(QStringLiteral("cancelSweep"));
    m_registerBest->setObjectName(QStringLiteral("registerBest"));
    m_compare->setObjectName(QStringLiteral("compareTrials"));
    m_list->setModel(m_listModel);
    m_list->setMinimumHeight(3 * (fontMetrics().height() + 6));
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->verticalHeader()->hide();
    m_list->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_list->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->horizontalHeader()->setStretchLastSection(true);
    m_proxy->setSourceModel(m_trialsModel);
    m_proxy->setSortRole(SweepTrialsModel::UnderlyingDataRole);
    m_trials->setModel(m_proxy);
    m_trials->setSortingEnabled(true);
    m_trials->sortByColumn(SweepTrialsModel::RunColumn, Qt::AscendingOrder);
    m_trials->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_trials->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_trials->verticalHeader()->hide();
    m_trials->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_trials->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_trials->horizontalHeader()->setStretchLastSection(true);
    m_trials->setToolTip(tr("Double-click a trial to open its run"));
    QFont big = m_header->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_header->setFont(big);
    m_header->setText(tr("No sweep selected"));
    m_counts->setText(
        tr("Submit one with <b>kiln sweep submit --config sweep.yml</b> (see the README); its trials "
           "appear here as they run."));
    m_counts->setWordWrap(true);
    m_progress->setFormat(tr("%v of %m trials"));
    m_progress->hide();
    m_cancel->setEnabled(false);
    m_registerBest->setEnabled(false);
    m_compare->setEnabled(false);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_registerBest);
    buttons->addWidget(m_compare);
    buttons->addStretch(1);
    auto* detail = new QWidget(this);
    auto* top = new QVBoxLayout;
    top->addWidget(m_header);
    top->addWidget(m_progress);
    top->addWidget(m_counts);
    top->addWidget(m_best);
    top->addLayout(buttons);
    auto* charts = new QSplitter(Qt::Horizontal, detail);
    auto* views = new QTabWidget(detail);
    views->setObjectName(QStringLiteral("sweepViews"));
    views->addTab(m_curvesBox, tr("C&urves"));
    views->addTab(m_scatter, tr("Sc&atter"));
    charts->addWidget(m_parallel);
    charts->addWidget(views);
    charts->setStretchFactor(0, 3);
    charts->setStretchFactor(1, 2);
    charts->setSizes({560, 380});
    charts->setChildrenCollapsible(false);
    Remember::splitter(charts, QStringLiteral("sweeps/charts"));
    auto* curvesLayout = new QVBoxLayout(m_curvesBox);
    curvesLayout->setContentsMargins(0, 0, 0, 0);
    resetCurves();
    auto* detailSplit = new QSplitter(Qt::Vertical, detail);
    detailSplit->addWidget(charts);
    detailSplit->addWidget(m_trials);
    detailSplit->setStretchFactor(0, 2);
    detailSplit->setStretchFactor(1, 3);
    Remember::splitter(detailSplit, QStringLiteral("sweeps/detail"));
    auto* detailLayout = new QVBoxLayout(detail);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    detailLayout->addLayout(top);
    detailLayout->addWidget(detailSplit, 1);
    // The sweeps in a strip on top, so the charts below get the page's whole width.
    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_list);
    splitter->addWidget(detail);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({110, 690});
    Remember::splitter(splitter, QStringLiteral("sweeps"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid() && !m_loading)
                    select(current.data(SweepListModel::SweepIdRole).toLongLong());
            });
    connect(m_parallel, &ParallelCoordinates::brushChanged, this,
            [this] { static_cast<BrushProxy*>(m_proxy)->brushed(); });
    connect(m_trials, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex& index) {
        Q_EMIT openRun(index.data(SweepTrialsModel::RunIdRole).toLongLong());
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (!m_selected)
            return;
        const auto path = "/api/v1/sweeps/" + std::to_string(m_selected) + "/cancel";
        m_cancel->setEnabled(false);
        m_connection.call(
            this, [path](Api::Client& c) { return c.post(path, Json::object()); },
            [this](const Json& sweep) { showSweep(sweep); });
    });
    connect(m_registerBest, &QPushButton::clicked, this, &SweepsPage::registerBest);
    connect(m_compare, &QPushButton::clicked, this, [this] {
        QList<qint64> runs;
        for (int r = 0; r < m_proxy->rowCount(); ++r)
            runs << m_proxy->index(r, 0).data(SweepTrialsModel::RunIdRole).toLongLong();
        Q_EMIT compareRuns(runs);
    });
    // Live: sweeps starting and ending wake the workspace's change feed; while the selected sweep runs, its
    // own feed says when a trial logged points or changed status.
    connect(&m_connection, &WorkspaceConnection::runsChanged, this, &SweepsPage::refresh);
}

SweepsPage::~SweepsPage() = default;

void SweepsPage::refresh() {
    m_reading.ask();
}

void SweepsPage::read() {
    const auto selected = m_selected;
    std::set<qint64> complete;
    if (selected == m_curvesSweep)
        complete.insert(m_final.begin(), m_final.end());
    m_connection.call(
        this,
        [selected, complete](Api::Client& c) {
            Json detail = selected ? fetchSweep(c, selected, complete) : Json();
            return Json{{"list", c.get("/api/v1/sweeps")}, {"detail", detail}};
        },
        [this](const Json& answer) {
            m_reading.finished();
            m_loading = true;
            m_listModel->setSweeps(answer["list"]);
            if (m_selected) {
                const int row = m_listModel->rowOf(m_selected);
                if (row >= 0 && m_list->currentIndex().row() != row)
                    m_list->setCurrentIndex(m_listModel->index(row, 0));
            }
            m_loading = false;
            const auto& detail = answer["detail"];
            if (!detail.is_null() && detail["sweep"]["id"].get<qint64>() == m_selected) {
                showSweep(detail["sweep"]);
                updateCurves(detail["sweep"], detail["histories"]);
            } else if (!m_selected && !answer["list"].empty())
                select(answer["list"][0]["id"].get<qint64>()); // the newest, to begin with
        },
        [this](const QString&) { m_reading.finished(); });
}

void SweepsPage::select(qint64 sweep) {
    m_selected = sweep;
    std::set<qint64> complete;
    if (sweep == m_curvesSweep)
        complete.insert(m_final.begin(), m_final.end());
    m_connection.call(
        this, [sweep, complete](Api::Client& c) { return fetchSweep(c, sweep, complete); },
        [this, sweep](const Json& answer) {
            if (sweep != m_selected)
                return;
            showSweep(answer["sweep"]);
            updateCurves(answer["sweep"], answer["histories"]);
        });
    const int row = m_listModel->rowOf(sweep);
    if (row >= 0) {
        m_loading = true;
        m_list->setCurrentIndex(m_listModel->index(row, 0));
        m_loading = false;
    }
}

void SweepsPage::showSweep(const Json& s) {
    m_sweep = s;
    const auto& spec = s["spec"];
    const auto& c = s["counts"];
    const auto status = str(s["status"]);
    m_header->setText(tr("Sweep %1 · %2 · %3").arg(s["id"].get<qint64>()).arg(str(s["experiment"]), status));
    const int done = c["completed"].get<int>() + c["failed"].get<int>() + c["stopped_early"].get<int>() +
                     c["canceled"].get<int>();
    m_progress->setRange(0, spec["max_total_trials"].get<int>());
    m_progress->setValue(done);
    m_progress->show();
    QString counts = tr("%1 completed · %2 running · %3 queued · %4 stopped early · %5 failed · %6 canceled")
                         .arg(c["completed"].get<int>())
                         .arg(c["running"].get<int>())
                         .arg(c["queued"].get<int>())
                         .arg(c["stopped_early"].get<int>())
                         .arg(c["failed"].get<int>())
                         .arg(c["canceled"].get<int>());
    counts += QStringLiteral("<br>") + tr("%1 %2 · %3 sampling · up to %4 at once")
                                           .arg(str(spec["primary_metric"]["goal"]),
                                                str(spec["primary_metric"]["name"]), str(spec["sampling"]))
                                           .arg(spec["max_concurrent_trials"].get<int>());
    if (!spec["early_termination"].is_null())
        counts += tr(" · early termination: %1").arg(str(spec["early_termination"]["policy"]));
    if (!s["error"].get<std::string>().empty())
        counts +=
            QStringLiteral("<br><span style='color:#c62828'>%1</span>").arg(str(s["error"]).toHtmlEscaped());
    m_counts->setText(counts);
    if (s["best"].is_null()) {
        int silent = 0; // ended without ever logging the metric
        for (const auto& t : s.value("trials", Json::array()))
            silent += (t["status"] == "Completed" || t["status"] == "Failed" || t["status"] == "Canceled") &&
                      t["reports"].get<qint64>() == 0;
        m_best->setText(silent == 0
                            ? tr("No trial has reported %1 yet.").arg(str(spec["primary_metric"]["name"]))
                            : tr("No trial has reported %1 yet; %n ended without logging it: does the "
                                 "script log it under that name?",
                                 nullptr, silent)
                                  .arg(str(spec["primary_metric"]["name"])));
    } else {
        QStringList values;
        for (const auto& [k, v] : s["best"]["params"].items())
            values << QStringLiteral("%1=%2").arg(
                QString::fromStdString(k),
                v.is_number_float() ? QString::number(v.get<double>(), 'g', 4) : str(v));
        m_best->setText(tr("Best: run %1 with %2 = %3 (%4)")
                            .arg(s["best"]["run"].get<qint64>())
                            .arg(str(spec["primary_metric"]["name"]))
                            .arg(s["best"]["metric"].get<double>(), 0, 'g', 5)
                            .arg(values.join(QStringLiteral(", "))));
    }
    m_cancel->setEnabled(status == QLatin1String("Running"));
    m_registerBest->setEnabled(!s["best"].is_null());
    m_compare->setEnabled(s["trials"].size() >= 2);
    m_trialsModel->setSweep(s);

    // The chart: one axis per parameter (log-scaled for log distributions), then the metric.
    QList<ParallelCoordinates::Axis> axes;
    for (const auto& [name, expr] : spec["parameters"].items()) {
        const auto e = expr.get<std::string>();
        axes.push_back({m_trialsModel->parameters().value(static_cast<int>(axes.size())),
                        e.find("log") != std::string::npos});
    }
    axes.push_back({m_trialsModel->metricName(), false});
    QList<QList<QVariant>> rows;
    QList<bool> dimmed;
    for (int r = 0; r < m_trialsModel->rowCount(); ++r) {
        QList<QVariant> row;
        for (int col = SweepTrialsModel::FirstParameterColumn; col <= m_trialsModel->metricColumn(); ++col)
            row << m_trialsModel->index(r, col).data(SweepTrialsModel::UnderlyingDataRole);
        // No metric yet: a null on the metric axis (the line stops at the last parameter).
        if (m_trialsModel->trial(r)["metric"].is_null())
            row.back() = QVariant();
        rows << row;
        dimmed << m_trialsModel->index(r, 0).data(SweepTrialsModel::StoppedRole).toBool();
    }
    m_parallel->setData(axes, rows, dimmed, m_trialsModel->maximize());
    QStringList names;
    QList<bool> logs;
    QList<QList<QVariant>> values;
    QList<QVariant> metrics;
    for (const auto& axis : axes.mid(0, axes.size() - 1)) {
        names << axis.name;
        logs << axis.log;
    }
    for (const auto& row : rows) {
        values << row.mid(0, row.size() - 1);
        metrics << row.back();
    }
    m_scatter->setData(names, logs, values, metrics, dimmed, m_trialsModel->metricName());
    static_cast<BrushProxy*>(m_proxy)->brushed();
    const qint64 id = s["id"].get<qint64>();
    if (status != QLatin1String("Running")) {
        m_watch.reset();
        m_watched = 0;
    } else if (m_watched != id) {
        m_watch =
            std::make_unique<ChangeWatch>(m_connection, "/api/v1/sweeps/" + std::to_string(id) + "/changes");
        m_watched = id;
        connect(m_watch.get(), &ChangeWatch::changed, this, &SweepsPage::refresh);
    }
}

void SweepsPage::resetCurves() {
    delete m_curvesPanel;
    // Untitled: the metric is named above, and a title would sit on the legend.
    m_curvesPanel = new ChartPanel(QString(), m_curvesBox);
    m_curvesPanel->setMinimumWidth(280);
    m_curvesPanel->setObjectName(QStringLiteral("sweepCurves"));
    m_curvesBox->layout()->addWidget(m_curvesPanel);
    m_curveOf.clear();
    m_data.clear();
    m_final.clear();
}

void SweepsPage::updateCurves(const Json& sweep, const Json& histories) {
    const auto id = sweep["id"].get<qint64>();
    if (id != m_curvesSweep) {
        resetCurves();
        m_curvesSweep = id;
    }
    auto* chart = m_curvesPanel->chart();
    bool grew = false;
    for (const auto& t : sweep["trials"]) {
        const auto run = t["run"].get<qint64>();
        const auto key = std::to_string(run);
        const bool stopped = t["status"] == "Canceled";
        if (histories.contains(key)) {
            const auto& series = histories[key];
            if (!m_data.contains(run)) {
                m_data.insert(run, std::make_shared<SeriesBuffer>());
                const QColor color = kTrialColors[m_curveOf.size() % std::size(kTrialColors)];
                m_curveOf.insert(run, chart->addCurve({run, tr("run %1").arg(run), color, m_data[run], 0}));
            }
            auto& buffer = *m_data[run];
            const auto have = buffer.size();
            const auto& values = series["values"];
            if (values.size() > have) {
                std::vector<double> steps, times, vals;
                for (std::size_t i = have; i < values.size(); ++i) {
                    steps.push_back(series["steps"][i].get<double>());
                    times.push_back(series["timestamps"][i].get<double>());
                    vals.push_back(values[i].get<double>());
                }
                buffer.append(steps.data(), times.data(), vals.data(), vals.size());
                grew = true;
            }
        }
        // A stopped trial's curve is drawn faint; an ended trial's points are all there.
        if (m_curveOf.contains(run) && stopped)
            chart->setCurveColor(m_curveOf[run], palette().color(QPalette::Disabled, QPalette::Text));
        if (t["status"] == "Completed" || t["status"] == "Failed" || stopped)
            m_final.insert(run);
    }
    if (grew)
        chart->dataAppended();
}

void SweepsPage::registerBest() {
    if (m_sweep.is_null() || m_sweep["best"].is_null())
        return;
    const auto run = m_sweep["best"]["run"].get<qint64>();
    QString status;
    for (const auto& t : m_sweep["trials"])
        if (t["run"].get<qint64>() == run)
            status = str(t["status"]);
    auto* dialog = new RegisterModelDialog(m_connection, run, status, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

} // namespace Kiln::Ui
