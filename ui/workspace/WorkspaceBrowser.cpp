#include "WorkspaceBrowser.h"

#include "runs/RunTreeModel.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace Kiln::Ui {

WorkspaceBrowser::WorkspaceBrowser(RunTreeModel& model, QWidget* parent)
    : QWidget(parent)
    , m_model(model)
    , m_filter(new QLineEdit(this))
    , m_view(new QTreeView(this))
    , m_proxy(new QSortFilterProxyModel(this)) {
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
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_filter);
    layout->addWidget(m_view);

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
