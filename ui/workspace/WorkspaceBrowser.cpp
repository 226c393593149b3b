#include "WorkspaceBrowser.h"

#include "api/Client.h"
#include "api/Http.h"
#include "app/Remember.h"
#include "runs/RunActions.h"
#include "runs/RunQuery.h"
#include "runs/RunsTableModel.h"
#include "runs/RunTreeModel.h"
#include "sweeps/SweepListModel.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QActionGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QScrollBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

using Json = nlohmann::json;

WorkspaceBrowser::WorkspaceBrowser(RunTreeModel& model, RunsTableModel& table, SweepListModel& sweeps,
                                   QWidget* parent)
    : QWidget(parent)
    , m_model(model)
    , m_tableModel(table)
    , m_filter(new QLineEdit(this))
    , m_filterError(new QLabel(this))
    , m_treeButton(new QToolButton(this))
    , m_tableButton(new QToolButton(this))
    , m_experiment(new QComboBox(this))
    , m_columnsButton(new QToolButton(this))
    , m_columnsMenu(new QMenu(this))
    , m_tableBar(new QWidget(this))
    , m_stack(new QStackedWidget(this))
    , m_view(new QTreeView(this))
    , m_table(new QTableView(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_sweepSection(new QWidget(this))
    , m_sweeps(new QTreeView(m_sweepSection))
    , m_columnChoices(new Json(Json::object()))
    , m_actions(new RunActions(table.connection(), this))
    , m_runMenu(new QMenu(this))
    , m_showArchived(new QCheckBox(tr("Show arc&hived"), this)) {
    setObjectName(QStringLiteral("workspaceBrowser"));
    m_filter->setObjectName(QStringLiteral("runFilter"));
    m_view->setObjectName(QStringLiteral("runTree"));
    m_table->setObjectName(QStringLiteral("runTable"));
    m_filter->setPlaceholderText(tr("Filter: words, or metrics.acc > 0.9 and params.lr < 0.01"));
    m_filter->setToolTip(
        tr("Words match run names, experiments, statuses and tags.\nAn expression filters the runs table: "
           "metrics.K (min(metrics.K), max(metrics.K)), params.K, tags.K, name, status, experiment, created, "
           "duration...\nwith = != < <= > >= ~ (contains), and, or, not, parentheses."));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter runs"));
    m_filterError->setObjectName(QStringLiteral("runFilterError"));
    m_filterError->setWordWrap(true);
    m_filterError->setTextFormat(Qt::RichText);
    m_filterError->setVisible(false);

    // Tree | Table.
    m_treeButton->setObjectName(QStringLiteral("showRunTree"));
    m_treeButton->setText(tr("Tree"));
    m_treeButton->setToolTip(tr("Experiments and their runs"));
    m_tableButton->setObjectName(QStringLiteral("showRunTable"));
    m_tableButton->setText(tr("Table"));
    m_tableButton->setToolTip(tr("Every run in one table: choose columns, sort by any of them"));
    for (auto* b : {m_treeButton, m_tableButton}) {
        b->setCheckable(true);
        b->setAutoRaise(true);
    }
    m_treeButton->setChecked(true);
    auto* top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addWidget(m_filter, 1);
    top->addWidget(m_treeButton);
    top->addWidget(m_tableButton);

    // The table's bar: which experiment, which columns.
    m_experiment->setObjectName(QStringLiteral("tableExperiment"));
    m_experiment->setAccessibleName(tr("Experiment"));
    m_experiment->addItem(tr("All experiments"), QString());
    m_columnsButton->setObjectName(QStringLiteral("columnsButton"));
    m_columnsButton->setText(tr("Columns"));
    m_columnsButton->setToolTip(tr("Choose the table's columns: attributes, parameters and metrics"));
    m_columnsButton->setPopupMode(QToolButton::InstantPopup);
    m_columnsButton->setMenu(m_columnsMenu);
    m_columnsMenu->setObjectName(QStringLiteral("columnsMenu"));
    auto* bar = new QHBoxLayout(m_tableBar);
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(m_experiment, 1);
    bar->addWidget(m_showArchived);
    bar->addWidget(m_columnsButton);
    m_showArchived->setObjectName(QStringLiteral("showArchived"));
    m_showArchived->setToolTip(tr("List archived runs too"));
    connect(m_showArchived, &QCheckBox::toggled, &m_tableModel, &RunsTableModel::setShowArchived);
    m_tableBar->setVisible(false);

    // The tree.
    m_proxy->setSourceModel(&m_model);
    m_proxy->setRecursiveFilteringEnabled(true);
    m_proxy->setAutoAcceptChildRows(true);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_view->setModel(m_proxy);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection); // several runs: compare them
    m_view->header()->setSectionResizeMode(RunTreeModel::NameColumn, QHeaderView::Stretch);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(RunTreeModel::StatusColumn, QHeaderView::ResizeToContents);
    m_view->header()->setSectionResizeMode(RunTreeModel::DurationColumn, QHeaderView::ResizeToContents);
    m_view->setColumnHidden(RunTreeModel::CreatedColumn, true);

    // The table.
    m_table->setModel(&m_tableModel);
    m_table->setTabKeyNavigation(false); // Tab moves on (arrows move between runs)
    m_table->setAccessibleName(tr("Runs"));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    m_table->horizontalHeader()->setSortIndicatorShown(true);
    m_table->horizontalHeader()->setSectionsMovable(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setDefaultSectionSize(
        m_table->fontMetrics().horizontalAdvance(QStringLiteral("-0.12345")) + 28);
    m_table->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setSortingEnabled(true); // the model asks the server
    connect(m_table->horizontalHeader(), &QWidget::customContextMenuRequested, this,
            [this](const QPoint& at) { m_columnsMenu->popup(m_table->horizontalHeader()->mapToGlobal(at)); });
    m_stack->addWidget(m_view);
    m_stack->addWidget(m_table);

    // Sweeps: a compact list (sweep, status, trials, best); the experiment is in the tooltip of the row.
    m_sweeps->setObjectName(QStringLiteral("sweepList"));
    m_sweeps->setModel(&sweeps);
    m_sweeps->setRootIsDecorated(false);
    m_sweeps->setUniformRowHeights(true);
    m_sweeps->setAlternatingRowColors(true);
    m_sweeps->setColumnHidden(SweepListModel::ExperimentColumn, true);
    m_sweeps->header()->setStretchLastSection(false);
    m_sweeps->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_sweeps->header()->setSectionResizeMode(SweepListModel::IdColumn, QHeaderView::Stretch);
    auto* sweepTitle = new QLabel(tr("<b>Sweeps</b>"), m_sweepSection);
    sweepTitle->setBuddy(m_sweeps);
    auto* sweepLayout = new QVBoxLayout(m_sweepSection);
    sweepLayout->setContentsMargins(0, 4, 0, 0);
    sweepLayout->addWidget(sweepTitle);
    sweepLayout->addWidget(m_sweeps);
    m_sweepSection->setVisible(sweeps.rowCount() > 0);
    auto showWhenAny = [this, &sweeps] { m_sweepSection->setVisible(sweeps.rowCount() > 0); };
    connect(&sweeps, &QAbstractItemModel::modelReset, this, showWhenAny);
    connect(&sweeps, &QAbstractItemModel::rowsInserted, this, showWhenAny);
    connect(&sweeps, &QAbstractItemModel::rowsRemoved, this, showWhenAny);
    connect(m_sweeps, &QTreeView::activated, this, [this](const QModelIndex& index) {
        Q_EMIT sweepActivated(index.data(SweepListModel::SweepIdRole).toLongLong());
    });

    auto* runs = new QWidget(this);
    auto* runsLayout = new QVBoxLayout(runs);
    runsLayout->setContentsMargins(0, 0, 0, 0);
    runsLayout->addWidget(m_tableBar);
    runsLayout->addWidget(m_stack);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("browserSplit"));
    split->addWidget(runs);
    split->addWidget(m_sweepSection);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    Remember::splitter(split, QStringLiteral("browser"));
    setMinimumWidth(300);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_filterError);
    layout->addWidget(split);

    auto emitSelection = [this] { Q_EMIT selectionChanged(selectedRuns()); };
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, emitSelection);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, emitSelection);
    auto activate = [this](const QModelIndex& index) {
        const auto id = index.data(RunTreeModel::RunIdRole);
        if (id.isValid())
            Q_EMIT runActivated(id.toLongLong());
    };
    static_assert(int(RunTreeModel::RunIdRole) == int(RunsTableModel::RunIdRole));
    connect(m_view, &QTreeView::activated, this, activate);
    connect(m_table, &QTableView::activated, this, activate);
    connect(m_treeButton, &QToolButton::clicked, this, [this] { showTable(false); });
    connect(m_tableButton, &QToolButton::clicked, this, [this] { showTable(true); });
    connect(m_experiment, &QComboBox::activated, this, &WorkspaceBrowser::experimentChosen);
    connect(m_columnsMenu, &QMenu::aboutToShow, this, &WorkspaceBrowser::buildColumnsMenu);

    // Acting on runs: a context menu in both views, and shortcuts (F2, Del, Ctrl+T) on the selection.
    m_runMenu->setObjectName(QStringLiteral("runMenu"));
    m_actions->setSelectionSource([this] { return selectedRuns(); });
    connect(m_actions, &RunActions::compareRequested, this, &WorkspaceBrowser::compareRequested);
    connect(m_actions, &RunActions::changed, &m_tableModel, &RunsTableModel::refresh);
    for (auto* view : {static_cast<QAbstractItemView*>(m_view), static_cast<QAbstractItemView*>(m_table)}) {
        view->addActions(m_actions->shortcutActions());
        view->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(view, &QWidget::customContextMenuRequested, this, [this, view](const QPoint& at) {
            if (auto* menu = runMenu(); !menu->isEmpty())
                menu->popup(view->viewport()->mapToGlobal(at));
        });
    }

    // The filter applies as typing pauses.
    m_filterDelay.setSingleShot(true);
    m_filterDelay.setInterval(250);
    connect(&m_filterDelay, &QTimer::timeout, this, &WorkspaceBrowser::applyFilter);
    connect(m_filter, &QLineEdit::textChanged, this, [this] { m_filterDelay.start(); });
    connect(m_filter, &QLineEdit::returnPressed, this, &WorkspaceBrowser::applyFilter);
    connect(&m_tableModel, &RunsTableModel::queryFailed, this, [this](const QString& message) {
        m_filterError->setText(
            QStringLiteral("<span style='color:#c62828'>%1</span>").arg(message.toHtmlEscaped()));
        m_filterError->setVisible(true);
    });
    // Older runs of an expanded experiment load when its last loaded run scrolls into view.
    auto fetchVisible = [this] {
        if (tableShown())
            return;
        const auto viewport = m_view->viewport()->rect();
        for (int e = 0; e < m_proxy->rowCount(); ++e) {
            const auto experiment = m_proxy->index(e, 0);
            if (!m_view->isExpanded(experiment) || !m_proxy->canFetchMore(experiment))
                continue;
            const int n = m_proxy->rowCount(experiment);
            const auto last = n > 0 ? m_proxy->index(n - 1, 0, experiment) : experiment;
            if (m_view->visualRect(last).intersects(viewport))
                m_proxy->fetchMore(experiment);
        }
    };
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, fetchVisible);
    connect(m_view, &QTreeView::expanded, this, fetchVisible);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, fetchVisible, Qt::QueuedConnection);
    // New experiments open expanded.
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex& parent, int first, int last) {
                if (!parent.isValid())
                    for (int r = first; r <= last; ++r)
                        m_view->expand(m_proxy->index(r, 0));
            });

    setColumns(QSettings().value(columnsKey()).toStringList(), false);
    showTable(QSettings().value(QStringLiteral("browser/table")).toBool());
}

WorkspaceBrowser::~WorkspaceBrowser() {
    delete m_columnChoices;
}

bool WorkspaceBrowser::tableShown() const {
    return m_stack->currentWidget() == m_table;
}

void WorkspaceBrowser::showTable(bool table) {
    const auto selected = selectedRuns();
    m_treeButton->setChecked(!table);
    m_tableButton->setChecked(table);
    m_tableBar->setVisible(table);
    const bool changed = table != tableShown();
    m_stack->setCurrentWidget(table ? static_cast<QWidget*>(m_table) : m_view);
    QSettings().setValue(QStringLiteral("browser/table"), table);
    if (!changed)
        return;
    if (table && m_tableModel.rowCount() == 0)
        m_tableModel.refresh();
    if (table)
        experimentChosen(); // the column choices of its experiment
    selectRuns(selected);
    Q_EMIT tableShownChanged(table);
}

void WorkspaceBrowser::applyFilter() {
    m_filterDelay.stop();
    const auto text = m_filter->text().trimmed();
    m_filterError->setVisible(false);
    if (!Runs::looksLikeFilterExpression(text.toStdString())) {
        m_proxy->setFilterFixedString(text);
        m_tableModel.setFilter({});
        m_tableModel.setText(text);
        m_filter->setStyleSheet({});
        return;
    }
    // An expression: checked here as it is typed (the server parses it the same way), then the table
    // shows what it matches.
    Runs::RunQuery q;
    q.filter = text.toStdString();
    try {
        Runs::compileQuery(q, 0);
    } catch (const Runs::QueryError& e) {
        const int at = std::clamp(e.column - 1, 0, static_cast<int>(text.size()));
        const int length = std::min(e.length, static_cast<int>(text.size()) - at);
        const QString shown =
            text.left(at).toHtmlEscaped() +
            QStringLiteral("<u style='color:#c62828'><b>%1</b></u>")
                .arg(length > 0 ? text.mid(at, length).toHtmlEscaped() : QStringLiteral("␣")) +
            text.mid(at + std::max(length, 0)).toHtmlEscaped();
        m_filterError->setText(QStringLiteral("<span style='color:#c62828'>%1</span><br><code>%2</code>")
                                   .arg(QString::fromStdString(e.what()).toHtmlEscaped(), shown));
        m_filterError->setVisible(true);
        m_filter->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #c62828; }"));
        return;
    }
    m_filter->setStyleSheet({});
    m_proxy->setFilterFixedString({});
    m_tableModel.setText({});
    m_tableModel.setFilter(text);
    if (!tableShown())
        showTable(true);
}

void WorkspaceBrowser::setExperiments(const Json& experiments) {
    const auto current = m_experiment->currentData().toString();
    // Keep the combo's items in step without disturbing a choice being made.
    QStringList names;
    for (const auto& e : experiments)
        names << QString::fromStdString(e["name"].get<std::string>());
    for (int i = m_experiment->count() - 1; i >= 1; --i)
        if (!names.contains(m_experiment->itemData(i).toString()))
            m_experiment->removeItem(i);
    qint64 all = 0;
    for (const auto& e : experiments) {
        const auto name = QString::fromStdString(e["name"].get<std::string>());
        const auto count = e["run_count"].get<qint64>();
        all += count;
        const auto label = tr("%1 (%2)").arg(name).arg(count);
        const int at = m_experiment->findData(name);
        if (at < 0)
            m_experiment->addItem(label, name);
        else if (m_experiment->itemText(at) != label)
            m_experiment->setItemText(at, label);
    }
    m_experiment->setItemText(0, tr("All experiments (%1)").arg(all));
    const int keep = m_experiment->findData(current);
    m_experiment->setCurrentIndex(keep >= 0 ? keep : 0);
    if (tableShown() && m_columnChoices->empty())
        experimentChosen(); // (not fetched before the server answered)
}

QString WorkspaceBrowser::columnsKey() const {
    const auto experiment = m_tableModel.experiment();
    return QStringLiteral("runsTable/columns/") + (experiment.isEmpty() ? QStringLiteral("*") : experiment);
}

void WorkspaceBrowser::groupBy(const QString& field, bool remember) {
    m_tableModel.setGroupBy(field);
    const auto key = QStringLiteral("runsTable/groupBy/") +
                     (m_tableModel.experiment().isEmpty() ? QStringLiteral("*") : m_tableModel.experiment());
    if (remember)
        QSettings().setValue(key, field);
    if (field.isEmpty())
        return;
    // The group's column comes first: it names each group on the group's first row.
    auto columns = m_tableModel.columns();
    columns.removeAll(field);
    columns.prepend(field);
    setColumns(columns, remember);
}

void WorkspaceBrowser::experimentChosen() {
    const auto experiment = m_experiment->currentData().toString();
    m_tableModel.setExperiment(experiment);
    const auto grouped = QSettings()
                             .value(QStringLiteral("runsTable/groupBy/") +
                                    (experiment.isEmpty() ? QStringLiteral("*") : experiment))
                             .toString();
    const auto remembered = QSettings().value(columnsKey()).toStringList();
    setColumns(remembered, false); // (none remembered: the default ones, until its runs' names come)
    groupBy(grouped, false);
    // What its runs have, for the Columns menu; and, until columns are chosen, a few of each to begin with.
    const auto path = "/api/v1/runs/columns?experiment=" + Api::percentEncode(experiment.toStdString());
    m_tableModel.connection().call(
        this, [path](Api::Client& c) { return c.get(path); },
        [this, experiment, remembered](const Json& choices) {
            if (experiment != m_tableModel.experiment())
                return;
            *m_columnChoices = choices;
            if (!remembered.isEmpty())
                return;
            auto fields = RunsTableModel::defaultColumns();
            int n = 0;
            for (const auto& m : choices["metrics"])
                if (!m.get<std::string>().starts_with("sys/") && n++ < 3)
                    fields << QStringLiteral("metrics.") + QString::fromStdString(m.get<std::string>());
            n = 0;
            for (const auto& p : choices["params"])
                if (n++ < 3)
                    fields << QStringLiteral("params.") + QString::fromStdString(p.get<std::string>());
            setColumns(fields, false);
            groupBy(m_tableModel.groupBy(), false);
        });
}

void WorkspaceBrowser::setColumns(const QStringList& fields, bool remember) {
    const auto chosen = fields.isEmpty() ? RunsTableModel::defaultColumns() : fields;
    m_tableModel.setColumns(chosen);
    auto* header = m_table->horizontalHeader();
    header->setSortIndicator(-1, Qt::AscendingOrder);
    const auto order = m_tableModel.order();
    for (int c = 0; c < chosen.size(); ++c) {
        if (!order.isEmpty() && (order == chosen[c] || order == chosen[c] + QStringLiteral(" desc")))
            header->setSortIndicator(c, order.endsWith(QLatin1String(" desc")) ? Qt::DescendingOrder
                                                                               : Qt::AscendingOrder);
        const auto& f = chosen[c];
        header->setSectionResizeMode(c, QHeaderView::Interactive);
        if (f == QLatin1String("name"))
            header->resizeSection(
                c, m_table->fontMetrics().horizontalAdvance(QStringLiteral("fashion-mnist #123")));
        else if (f == QLatin1String("experiment"))
            header->resizeSection(
                c, m_table->fontMetrics().horizontalAdvance(QStringLiteral("fashion-mnist")) + 8);
        if (f == QLatin1String("created") || f == QLatin1String("started") || f == QLatin1String("ended"))
            header->resizeSection(
                c, m_table->fontMetrics().horizontalAdvance(QStringLiteral("2026-12-02 14:30  ")) + 8);
        else if (f == QLatin1String("status"))
            header->resizeSection(c, m_table->fontMetrics().horizontalAdvance(QStringLiteral("Finalizing")) +
                                         40);
    }
    if (remember)
        QSettings().setValue(columnsKey(), chosen);
}

void WorkspaceBrowser::buildColumnsMenu() {
    m_columnsMenu->clear();
    const auto current = m_tableModel.columns();
    auto add = [this, current](QMenu* menu, const QString& field, const QString& text) {
        auto* action = menu->addAction(text);
        action->setObjectName(QStringLiteral("column:") + field);
        action->setCheckable(true);
        action->setChecked(current.contains(field));
        connect(action, &QAction::toggled, this, [this, field](bool on) {
            auto columns = m_tableModel.columns();
            if (on && !columns.contains(field))
                columns << field;
            else if (!on)
                columns.removeAll(field);
            setColumns(columns, true);
        });
    };
    for (const char* f : {"status", "name", "experiment", "tags", "created", "started", "ended", "duration",
                          "compute", "node", "script", "id", "sweep", "starred"})
        add(m_columnsMenu, QLatin1String(f), RunsTableModel::titleOf(QLatin1String(f)));
    auto quoted = [](const std::string& key) {
        const bool plain = std::all_of(key.begin(), key.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-';
        });
        return QString::fromStdString(plain ? key : "`" + key + "`");
    };
    auto* params = m_columnsMenu->addMenu(tr("&Parameters"));
    params->setObjectName(QStringLiteral("paramsMenu"));
    for (const auto& p : m_columnChoices->value("params", Json::array()))
        add(params, QStringLiteral("params.") + quoted(p.get<std::string>()),
            QString::fromStdString(p.get<std::string>()));
    params->setEnabled(!params->isEmpty());
    auto* metrics = m_columnsMenu->addMenu(tr("&Metrics"));
    metrics->setObjectName(QStringLiteral("metricsMenu"));
    // The supervisor's system metrics (sys/...) get a menu of their own, the run-long figures first.
    auto* system = m_columnsMenu->addMenu(tr("S&ystem"));
    system->setObjectName(QStringLiteral("systemMenu"));
    for (const auto* f : {"metrics.sys/peak_rss_mb", "metrics.sys/mean_cpu"})
        add(system, QLatin1String(f), RunsTableModel::titleOf(QLatin1String(f)));
    system->addSeparator();
    for (const auto& m : m_columnChoices->value("metrics", Json::array())) {
        const auto name = QString::fromStdString(m.get<std::string>());
        const auto key = quoted(m.get<std::string>());
        auto* menu = name.startsWith(QLatin1String("sys/")) ? system : metrics;
        add(menu, QStringLiteral("metrics.") + key, tr("%1 (last)").arg(name));
        add(menu, QStringLiteral("min(metrics.%1)").arg(key), tr("%1 (min)").arg(name));
        add(menu, QStringLiteral("max(metrics.%1)").arg(key), tr("%1 (max)").arg(name));
    }
    metrics->setEnabled(!metrics->isEmpty());
    // Group by: nothing, an attribute, or a parameter.
    auto* group = m_columnsMenu->addMenu(tr("&Group by"));
    group->setObjectName(QStringLiteral("groupByMenu"));
    auto* groups = new QActionGroup(group);
    auto addGroup = [this, groups](QMenu* menu, const QString& field, const QString& text) {
        auto* action = menu->addAction(text);
        action->setObjectName(QStringLiteral("groupBy:") + field);
        action->setCheckable(true);
        action->setChecked(m_tableModel.groupBy() == field);
        groups->addAction(action);
        connect(action, &QAction::triggered, this, [this, field] { groupBy(field, true); });
    };
    addGroup(group, QString(), tr("&Nothing"));
    for (const char* f : {"experiment", "status", "compute", "sweep"})
        addGroup(group, QLatin1String(f), RunsTableModel::titleOf(QLatin1String(f)));
    auto* groupParams = group->addMenu(tr("&Parameter"));
    for (const auto& p : m_columnChoices->value("params", Json::array()))
        addGroup(groupParams, QStringLiteral("params.") + quoted(p.get<std::string>()),
                 QString::fromStdString(p.get<std::string>()));
    groupParams->setEnabled(!groupParams->isEmpty());
    m_columnsMenu->addSeparator();
    auto* reset = m_columnsMenu->addAction(tr("&Default columns"));
    reset->setObjectName(QStringLiteral("columnsDefault"));
    connect(reset, &QAction::triggered, this, [this] {
        QSettings().remove(columnsKey());
        experimentChosen();
    });
}

QMenu* WorkspaceBrowser::runMenu() {
    m_runMenu->clear();
    fillRunMenu(m_runMenu);
    return m_runMenu;
}

void WorkspaceBrowser::fillRunMenu(QMenu* menu) {
    Json rows = Json::array();
    const auto selected = selectedRuns();
    if (tableShown()) {
        for (const auto& index : m_table->selectionModel()->selectedRows())
            if (auto row = m_tableModel.rowJson(index.row()); !row.is_null())
                rows.push_back(std::move(row));
    } else {
        for (auto id : selected) {
            const auto index = m_model.indexOfRun(id);
            rows.push_back({{"id", id}, {"name", index.data().toString().toStdString()}});
        }
    }
    if (!rows.empty())
        m_actions->fillMenu(menu, rows);
}

QList<qint64> WorkspaceBrowser::selectedRuns() const {
    QList<qint64> out;
    auto* view = tableShown() ? static_cast<QAbstractItemView*>(m_table) : m_view;
    for (const auto& index : view->selectionModel()->selectedRows()) {
        const auto id = index.data(RunTreeModel::RunIdRole);
        if (id.isValid() && !out.contains(id.toLongLong()))
            out << id.toLongLong();
    }
    std::sort(out.begin(), out.end());
    return out;
}

void WorkspaceBrowser::selectRuns(const QList<qint64>& ids) {
    QItemSelection selection;
    if (tableShown()) {
        for (auto id : ids)
            if (const int row = m_tableModel.rowOfRun(id); row >= 0)
                selection.select(m_tableModel.index(row, 0), m_tableModel.index(row, 0));
        m_table->selectionModel()->select(selection,
                                          QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        return;
    }
    for (auto id : ids) {
        const auto index = m_proxy->mapFromSource(m_model.indexOfRun(id));
        if (index.isValid())
            selection.select(index, index);
    }
    m_view->selectionModel()->select(selection,
                                     QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

qint64 WorkspaceBrowser::neighbourRun(qint64 runId, int step) const {
    if (tableShown()) {
        const int row = m_tableModel.rowOfRun(runId);
        if (row < 0)
            return m_tableModel.runAt(0);
        const int next = row + step;
        return next >= 0 && next < m_tableModel.rowCount() ? m_tableModel.runAt(next) : 0;
    }
    QList<qint64> order;
    for (int e = 0; e < m_proxy->rowCount(); ++e) {
        const auto experiment = m_proxy->index(e, 0);
        for (int r = 0; r < m_proxy->rowCount(experiment); ++r)
            order << m_proxy->index(r, 0, experiment).data(RunTreeModel::RunIdRole).toLongLong();
    }
    const auto at = order.indexOf(runId);
    if (at < 0)
        return order.isEmpty() ? 0 : order.front();
    const auto next = at + step;
    return next >= 0 && next < order.size() ? order[next] : 0;
}

void WorkspaceBrowser::selectRun(qint64 id) {
    if (tableShown()) {
        if (const int row = m_tableModel.rowOfRun(id); row >= 0)
            m_table->setCurrentIndex(m_tableModel.index(row, 0));
        return;
    }
    const auto index = m_proxy->mapFromSource(m_model.indexOfRun(id));
    if (index.isValid())
        m_view->setCurrentIndex(index);
}

} // namespace Kiln::Ui
