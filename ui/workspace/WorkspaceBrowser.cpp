#include "WorkspaceBrowser.h"

#include "runs/RunTreeModel.h"
#include "sweeps/SweepListModel.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

WorkspaceBrowser::WorkspaceBrowser(RunTreeModel& model, SweepListModel& sweeps, QWidget* parent)
    : QWidget(parent)
    , m_model(model)
    , m_filter(new QLineEdit(this))
    , m_view(new QTreeView(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_sweepSection(new QWidget(this))
    , m_sweeps(new QTreeView(m_sweepSection)) {
    setObjectName(QStringLiteral("workspaceBrowser"));
    m_filter->setObjectName(QStringLiteral("runFilter"));
    m_view->setObjectName(QStringLiteral("runTree"));
    m_filter->setPlaceholderText(tr("Filter runs (name, experiment, status)…"));
    m_filter->setClearButtonEnabled(true);
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
    setMinimumWidth(300);
    m_view->setColumnHidden(RunTreeModel::CreatedColumn, true);

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

    auto* split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("browserSplit"));
    split->addWidget(m_view);
    split->addWidget(m_sweepSection);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_filter);
    layout->addWidget(split);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { Q_EMIT selectionChanged(selectedRuns()); });
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_view, &QTreeView::activated, this, [this](const QModelIndex& index) {
        const auto id = index.data(RunTreeModel::RunIdRole);
        if (id.isValid())
            Q_EMIT runActivated(id.toLongLong());
    });
    // New experiments open expanded.
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex& parent, int first, int last) {
                if (!parent.isValid())
                    for (int r = first; r <= last; ++r)
                        m_view->expand(m_proxy->index(r, 0));
            });
}

QList<qint64> WorkspaceBrowser::selectedRuns() const {
    QList<qint64> out;
    for (const auto& index : m_view->selectionModel()->selectedRows()) {
        const auto id = index.data(RunTreeModel::RunIdRole);
        if (id.isValid() && !out.contains(id.toLongLong()))
            out << id.toLongLong();
    }
    std::sort(out.begin(), out.end());
    return out;
}

void WorkspaceBrowser::selectRuns(const QList<qint64>& ids) {
    QItemSelection selection;
    for (auto id : ids) {
        const auto index = m_proxy->mapFromSource(m_model.indexOfRun(id));
        if (index.isValid())
            selection.select(index, index);
    }
    m_view->selectionModel()->select(selection,
                                     QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

qint64 WorkspaceBrowser::neighbourRun(qint64 runId, int step) const {
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
    const auto index = m_proxy->mapFromSource(m_model.indexOfRun(id));
    if (index.isValid())
        m_view->setCurrentIndex(index);
}

} // namespace Kiln::Ui
