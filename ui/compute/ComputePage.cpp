#include "ComputePage.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/Remember.h"
#include "compute/ComputeTargetsModel.h"
#include "compute/NewComputeDialog.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

static QString str(const Json& j) {
    return QString::fromStdString(j.get<std::string>());
}

static QTableWidget* table(QWidget* parent, const QStringList& headers, const char* name) {
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    t->setTabKeyNavigation(false); // Tab moves on (arrows move between cells)
    t->setObjectName(QLatin1String(name));
    t->setHorizontalHeaderLabels(headers);
    t->horizontalHeader()->setStretchLastSection(true);
    // Columns as wide as what they hold (the last takes the rest), not a scroll bar's worth of even widths.
    for (int c = 0; c + 1 < headers.size(); ++c)
        t->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 8);
    return t;
}

ComputePage::ComputePage(WorkspaceConnection& connection, QWidget* parent)
    : QWidget(parent)
    , m_connection(connection)
    , m_model(new ComputeTargetsModel(this))
    , m_targets(new QTreeView(this))
    , m_header(new QLabel(this))
    , m_nodes(table(this, {tr("Node"), tr("State"), tr("CPUs"), tr("Memory"), tr("Run"), tr("Load now")},
                    "computeNodes"))
    , m_queue(table(this, {tr("Run"), tr("Where"), tr("Status")}, "computeQueue")) {
    setObjectName(QStringLiteral("computePage"));
    m_targets->setObjectName(QStringLiteral("computeTargets"));
    m_targets->setModel(m_model);
    m_targets->setAccessibleName(tr("Compute targets"));
    m_targets->setRootIsDecorated(false);
    m_targets->setUniformRowHeights(true);
    m_targets->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    QFont big = m_header->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_header->setFont(big);
    m_header->setWordWrap(true); // (a long error must not widen the window)
    m_header->setText(tr("Compute"));

    auto* newButton = new QPushButton(tr("&New compute…"), this);
    newButton->setObjectName(QStringLiteral("newCompute"));
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(newButton, 0, Qt::AlignLeft);
    leftLayout->addWidget(m_targets);
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(8, 0, 0, 0);
    rightLayout->addWidget(m_header);
    rightLayout->addWidget(new QLabel(tr("Nodes"), this));
    rightLayout->addWidget(m_nodes, 2);
    rightLayout->addWidget(new QLabel(tr("Runs here: running and queued (double-click to open)"), this));
    rightLayout->addWidget(m_queue, 1);
    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({380, 700});
    Remember::splitter(splitter, QStringLiteral("compute"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    // Live while shown, following the workspace's change feed: runs move through the queue and take and free
    // nodes, and kilnd reports a Slurm node's change of state there too. Only the load that runs put on
    // their nodes changes without an event: while the shown target has runs, it is read again every 2 s
    // (from kilnd's memory and database; no request reaches the cluster).
    m_loadTimer.setInterval(2000);
    connect(&m_loadTimer, &QTimer::timeout, this, &ComputePage::refresh);
    connect(&m_connection, &WorkspaceConnection::runsChanged, this, [this] {
        if (isVisible())
            refresh();
    });
    connect(newButton, &QPushButton::clicked, this, &ComputePage::newTarget);
    connect(m_targets->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                const auto name = index.data(ComputeTargetsModel::NameRole).toString();
                if (!name.isEmpty() && name != m_selected) {
                    m_selected = name;
                    refresh();
                }
            });
    connect(m_queue, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (auto* item = m_queue->item(row, 0))
            Q_EMIT openRun(item->data(Qt::UserRole).toLongLong());
    });
}

void ComputePage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refresh();
}

void ComputePage::hideEvent(QHideEvent* event) {
    QWidget::hideEvent(event);
    m_loadTimer.stop();
}

void ComputePage::refresh() {
    m_reading.ask();
}

void ComputePage::read() {
    const auto selected = m_selected.toStdString();
    m_connection.call(
        this,
        [selected](Api::Client& c) {
            auto list = c.get("/api/v1/compute");
            std::string name = selected;
            if (name.empty() && !list.empty())
                name = list[0]["name"].get<std::string>();
            Json detail = name.empty() ? Json() : c.get("/api/v1/compute/" + Api::percentEncode(name));
            return Json{{"list", list}, {"detail", detail}};
        },
        [this](const Json& answer) {
            m_reading.finished();
            if (!answer["detail"].is_null())
                m_selected = QString::fromStdString(answer["detail"]["name"].get<std::string>());
            m_model->setTargets(answer["list"]);
            if (const int row = m_model->rowOf(m_selected);
                row >= 0 && m_targets->currentIndex().row() != row)
                m_targets->setCurrentIndex(m_model->index(row, 0));
            if (!answer["detail"].is_null())
                showTarget(answer["detail"]);
        },
        [this](const QString&) { m_reading.finished(); });
}

void ComputePage::showTarget(const Json& t) {
    m_selected = str(t["name"]);
    if (isVisible() && t.contains("running") && !t["running"].empty())
        m_loadTimer.start();
    else
        m_loadTimer.stop();
    const auto& cfg = t["config"];
    QString header =
        tr("%1 · %2 · %3 nodes").arg(m_selected, str(t["type"])).arg(cfg["max_nodes"].get<int>());
    // A Slurm target's nodes are what kilnd last read from the cluster: say when that is not yet, or failed.
    const bool unread = t.contains("nodes_error") && t["nodes_error"].is_string();
    if (unread)
        header += tr(" · cannot read the cluster's nodes: %1").arg(str(t["nodes_error"]));
    else if (t.contains("nodes_checked") && t["nodes_checked"].is_null())
        header += tr(" · reading the cluster's nodes…");
    m_header->setText(header);
    m_header->setToolTip(unread ? str(t["nodes_error"]) : QString());
    const auto& nodes = t["nodes"];
    m_nodes->setRowCount(static_cast<int>(nodes.size()));
    int row = 0;
    for (const auto& n : nodes) {
        const auto memory = n["memory_mb"].get<qint64>();
        // Load: what the runs on the node use now (their system metrics), else the cluster's load average.
        QStringList load;
        if (n.contains("load")) {
            load << tr("%1 cores").arg(n["load"]["cpu"].get<double>(), 0, 'f', 2)
                 << QLocale().formattedDataSize(
                        static_cast<qint64>(n["load"]["rss_mb"].get<double>() * 1024 * 1024));
        }
        if (n.contains("cpu_load"))
            load << tr("load average %1").arg(n["cpu_load"].get<double>(), 0, 'f', 2);
        const QStringList cells = {str(n["name"]),
                                   str(n["state"]),
                                   QString::number(n["cpus"].get<int>()),
                                   memory > 0 ? QLocale().formattedDataSize(memory * 1024 * 1024)
                                              : tr("no limit"),
                                   n["run"].is_null() ? QString() : tr("run %1").arg(n["run"].get<qint64>()),
                                   load.join(QStringLiteral(" · "))};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c == 1)
                item->setForeground(cells[c] == QLatin1String("alloc")  ? QColor(0x1e, 0x88, 0xe5)
                                    : cells[c] == QLatin1String("idle") ? QColor(0x2e, 0x7d, 0x32)
                                                                        : QColor(0x75, 0x75, 0x75));
            m_nodes->setItem(row, c, item);
        }
        ++row;
    }
    m_queue->setRowCount(0);
    auto addRow = [this](const Json& run, const QString& where, const QString& status) {
        const int r = m_queue->rowCount();
        m_queue->insertRow(r);
        auto* name = new QTableWidgetItem(str(run["name"]));
        name->setData(Qt::UserRole, static_cast<qint64>(run["id"].get<qint64>()));
        m_queue->setItem(r, 0, name);
        m_queue->setItem(r, 1, new QTableWidgetItem(where));
        m_queue->setItem(r, 2, new QTableWidgetItem(status));
    };
    for (const auto& run : t["running"])
        addRow(run, str(run["node"]), str(run["status"]));
    for (const auto& q : t["queue"])
        addRow(q, tr("queue position %1").arg(q["position"].get<int>()), tr("Queued"));
}

void ComputePage::newTarget() {
    auto* dialog = new NewComputeDialog(m_connection, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &NewComputeDialog::created, this, [this](const QString& name) {
        m_selected = name;
        refresh();
    });
    dialog->open();
}

} // namespace Kiln::Ui
