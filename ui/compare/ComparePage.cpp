#include "ComparePage.h"

#include "api/Client.h"
#include "app/Remember.h"
#include "charts/ChartPanel.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "compare/RunComparisonModel.h"
#include "runs/RunFollower.h"
#include "runs/RunMediaView.h"
#include "runs/SystemSection.h"
#include "workspace/WorkspaceConnection.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

// Distinct colours for up to ten runs (Tableau 10), then they repeat.
static const QColor kRunColors[] = {
    QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
    QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f),
    QColor(0xbc, 0xbd, 0x22), QColor(0x17, 0xbe, 0xcf)};

ComparePage::ComparePage(WorkspaceConnection& connection, const QList<qint64>& runs, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_runs(runs)
    , m_model(new RunComparisonModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_table(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_chartArea(new QWidget(this))
    , m_chartGrid(new QGridLayout(m_chartArea))
    , m_images(new QWidget(this)) {
    setObjectName(QStringLiteral("comparePage"));
    m_table->setObjectName(QStringLiteral("compareTable"));
    m_filter->setObjectName(QStringLiteral("compareFilter"));
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(RunComparisonModel::UnderlyingDataRole);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RunComparisonModel::RunColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_filter->setPlaceholderText(tr("Filter runs (any column)…"));
    m_filter->setClearButtonEnabled(true);
    m_chartGrid->setColumnStretch(0, 1);
    m_chartGrid->setColumnStretch(1, 1);

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto* title = new QLabel(tr("Comparing %n run(s). Highlighted arguments differ; click a header to sort, "
                                "double-click a run to open it.",
                                nullptr, static_cast<int>(runs.size())),
                             this);
    topLayout->addWidget(title);
    topLayout->addWidget(m_filter);
    topLayout->addWidget(m_table);
    m_images->setObjectName(QStringLiteral("compareImages"));
    m_images->hide();
    auto* below = new QWidget(this); // the images the runs logged (a few rows), then the charts
    auto* belowLayout = new QVBoxLayout(below);
    belowLayout->setContentsMargins(0, 0, 0, 0);
    belowLayout->addWidget(m_images);
    belowLayout->addWidget(m_chartArea);
    belowLayout->addStretch();
    new QGridLayout(m_images);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(below);
    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({200, 600});
    Remember::splitter(splitter, QStringLiteral("compare"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_table, &QTableView::activated, this, [this](const QModelIndex& index) {
        Q_EMIT openRun(m_model->runAt(m_proxy->mapToSource(index).row()));
    });

    for (qint64 id : runs) {
        m_names[id] = tr("Run %1").arg(id);
        auto* follower = new RunFollower(connection.url(), connection.token(), id, this);
        connect(follower, &RunFollower::feed, this,
                [this, id](const std::shared_ptr<const Json>& answer) { apply(id, *answer); });
        connect(follower, &RunFollower::overview, this,
                [this, id](const auto& points) { metricsArrived(id, receive(m_series[id], *points, true)); });
        connect(follower, &RunFollower::points, this,
                [this, id](const auto& points) { metricsArrived(id, receive(m_series[id], *points)); });
        follower->start();
    }
}

ComparePage::~ComparePage() = default;

MetricChart* ComparePage::chart(const QString& key) const {
    auto* panel = m_charts.value(key);
    return panel ? panel->chart() : nullptr;
}

void ComparePage::apply(qint64 run, const Json& answer) {
    const auto& r = answer["run"];
    const auto status = QString::fromStdString(r["status"].get<std::string>());
    m_names[run] = QString::fromStdString(r["name"].get<std::string>());
    if (!r["started"].is_null())
        m_started[run] = r["started"].get<double>();
    const bool statusChanged = m_status.value(run) != status;
    m_status[run] = status;
    if (!answer["metrics"].empty())
        metricsArrived(run, receive(m_series[run], answer["metrics"]));
    // The table's metric columns: fetched when the run first appears and whenever its status changes.
    if (statusChanged || m_model->rowOf(run) < 0)
        refreshRow(run);
}

void ComparePage::refreshRow(qint64 run) {
    const auto base = "/api/v1/runs/" + std::to_string(run);
    m_connection.call(
        this,
        [base](Api::Client& c) {
            return Json{{"run", c.get(base)}, {"metrics", c.get(base + "/metrics")}};
        },
        [this, run](const Json& j) {
            m_model->setRun(j["run"], j["metrics"]);
            m_table->resizeColumnsToContents();
            const auto status = j["run"]["status"].get<std::string>();
            if (status == "Completed" || status == "Failed" || status == "Canceled")
                loadImages(run); // kept when a run ends
        });
}

void ComparePage::loadImages(qint64 run) {
    if (m_imagesAsked.contains(run))
        return;
    m_imagesAsked.insert(run);
    m_connection.call(
        this, [run](Api::Client& c) { return readRunMedia(c, run); },
        [this, run](const Json& media) {
            for (const auto& image : media["images"]) {
                const auto& bytes = image["data"].get_binary();
                QImage decoded;
                if (decoded.loadFromData(bytes.data(), static_cast<int>(bytes.size())))
                    m_latestImages[run][QString::fromStdString(image["name"].get<std::string>())] = decoded;
            }
            layoutImages();
        });
}

void ComparePage::layoutImages() {
    auto* grid = static_cast<QGridLayout*>(m_images->layout());
    while (auto* item = grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    QStringList names;
    for (const auto& byName : std::as_const(m_latestImages))
        for (auto it = byName.cbegin(); it != byName.cend(); ++it)
            if (!names.contains(it.key()))
                names << it.key();
    names.sort();
    m_images->setVisible(!names.isEmpty());
    if (names.isEmpty())
        return;
    auto* heading = new QLabel(tr("<b>Images</b> (each run's latest under each name)"), m_images);
    grid->addWidget(heading, 0, 0, 1, static_cast<int>(m_runs.size()) + 1);
    for (int c = 0; c < m_runs.size(); ++c) {
        const auto color = kRunColors[static_cast<std::size_t>(c) % std::size(kRunColors)];
        auto* runLabel = new QLabel(m_names.value(m_runs[c]), m_images);
        runLabel->setStyleSheet(QStringLiteral("color: %1; font-weight: bold;").arg(color.name()));
        grid->addWidget(runLabel, 1, c + 1, Qt::AlignHCenter);
    }
    for (int r = 0; r < names.size(); ++r) {
        auto* name = new QLabel(names[r], m_images);
        name->setWordWrap(true);
        name->setMaximumWidth(140);
        grid->addWidget(name, r + 2, 0, Qt::AlignTop);
        for (int c = 0; c < m_runs.size(); ++c) {
            auto* cell = new QLabel(m_images);
            cell->setObjectName(QStringLiteral("compareImage:%1:%2").arg(names[r]).arg(m_runs[c]));
            cell->setAlignment(Qt::AlignCenter);
            const auto image = m_latestImages.value(m_runs[c]).value(names[r]);
            if (image.isNull())
                cell->setText(tr("(none)"));
            else
                cell->setPixmap(QPixmap::fromImage(
                    image.scaled(QSize(260, 200), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
            grid->addWidget(cell, r + 2, c + 1);
        }
    }
}

void ComparePage::metricsArrived(qint64 run, const QStringList& created) {
    bool newKey = false;
    for (const auto& name : created) {
        auto* panel = panelFor(name);
        newKey = newKey || m_charts.size() > m_chartGrid->count();
        const auto color = kRunColors[static_cast<std::size_t>(m_runs.indexOf(run)) % std::size(kRunColors)];
        panel->chart()->addCurve({run, m_names[run], color, m_series[run][name], m_started.value(run)});
    }
    for (const auto& name : m_series.value(run).keys())
        m_charts[name]->chart()->dataAppended();
    if (newKey) {
        QStringList keys = m_charts.keys();
        keys.sort();
        // The runs' system metrics (sys/...) after what the scripts logged.
        std::stable_partition(keys.begin(), keys.end(),
                              [](const QString& k) { return !SystemSection::isSystemKey(k); });
        int i = 0;
        for (const auto& key : keys) {
            m_charts[key]->setMetricKeys(keys);
            m_chartGrid->addWidget(m_charts[key], i / 2, i % 2);
            ++i;
        }
    }
}

ChartPanel* ComparePage::panelFor(const QString& key) {
    if (auto* panel = m_charts.value(key))
        return panel;
    auto* panel = new ChartPanel(key, m_chartArea);
    panel->chart()->setObjectName(QStringLiteral("chart:") + key);
    panel->chart()->setLookup([this](qint64 run, const QString& k) { return m_series.value(run).value(k); });
    refineWhenZoomed(panel->chart(), m_connection, [key](int) { return key; });
    panel->setSettingsKey(QString::number(qHash(m_connection.description()), 16) +
                          QStringLiteral("/compare/") + key);
    m_charts.insert(key, panel);
    return panel;
}

} // namespace Kiln::Ui
