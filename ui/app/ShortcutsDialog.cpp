#include "ShortcutsDialog.h"

#include "app/TabOrder.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QSet>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Kiln::Ui {

static QString plain(QString text) {
    text = text.section(QLatin1Char('\t'), 0, 0);
    return text.remove(QLatin1Char('&')).remove(QStringLiteral("…")).trimmed();
}

ShortcutsDialog::ShortcutsDialog(QMenuBar* menus, QWidget* parent)
    : QDialog(parent)
    , m_filter(new QLineEdit(this))
    , m_list(new QTreeWidget(this)) {
    setObjectName(QStringLiteral("shortcutsDialog"));
    setWindowTitle(tr("Keyboard shortcuts"));
    m_filter->setObjectName(QStringLiteral("shortcutsFilter"));
    m_filter->setPlaceholderText(tr("Filter by action or key"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter shortcuts"));
    m_list->setObjectName(QStringLiteral("shortcutsList"));
    m_list->setAccessibleName(tr("Keyboard shortcuts"));
    m_list->setHeaderLabels({tr("Action"), tr("Keys")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);

    auto section = [this](const QString& title) {
        auto* item = new QTreeWidgetItem(m_list, {title});
        QFont bold = item->font(0);
        bold.setBold(true);
        item->setFont(0, bold);
        item->setFirstColumnSpanned(true);
        item->setFlags(Qt::ItemIsEnabled);
        return item;
    };
    auto row = [this](const QString& action, const QString& keys) {
        new QTreeWidgetItem(m_list, {action, keys});
    };
    // The menus, in their order (an action in two menus, once).
    QSet<QAction*> listed;
    for (auto* top : menus->actions()) {
        auto* menu = top->menu();
        if (!menu)
            continue;
        bool titled = false;
        for (auto* action : menu->actions()) {
            QStringList keys;
            for (const auto& key : action->shortcuts())
                keys << key.toString(QKeySequence::NativeText);
            if (keys.isEmpty() || action->isSeparator() || listed.contains(action))
                continue;
            listed.insert(action);
            if (!titled)
                section(plain(top->text()));
            titled = true;
            row(plain(action->text()), keys.join(QStringLiteral(", ")));
        }
    }
    section(tr("In the runs list or table"));
    row(tr("Open the run"), tr("Enter, double-click"));
    row(tr("Rename the run"), QKeySequence(Qt::Key_F2).toString(QKeySequence::NativeText));
    row(tr("Add a tag to the selected runs"),
        QKeySequence(Qt::CTRL | Qt::Key_T).toString(QKeySequence::NativeText));
    row(tr("Delete the selected runs"),
        QKeySequence(QKeySequence::Delete).toString(QKeySequence::NativeText));
    row(tr("The selected runs' menu"), tr("Menu key, right-click"));
    section(tr("On a chart"));
    row(tr("Zoom in / out"), tr("+ / -, mouse wheel"));
    row(tr("Pan"), tr("Left / Right, drag"));
    row(tr("Show everything"), tr("Home, double-click"));
    row(tr("Follow the newest points"), tr("F"));
    section(tr("In a run's note"));
    row(tr("Save the note"), QKeySequence(Qt::CTRL | Qt::Key_Return).toString(QKeySequence::NativeText));
    section(tr("Register model"));
    row(tr("Register under the proposed name"), tr("Enter"));
    row(tr("Close without registering"), tr("Esc"));

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& text) {
        // A section stays while one of its rows matches.
        QTreeWidgetItem* title = nullptr;
        bool any = false;
        auto closeSection = [&] {
            if (title)
                title->setHidden(!any);
        };
        for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
            auto* item = m_list->topLevelItem(i);
            if (item->isFirstColumnSpanned()) {
                closeSection();
                title = item;
                any = false;
                continue;
            }
            const bool match = text.isEmpty() || item->text(0).contains(text, Qt::CaseInsensitive) ||
                               item->text(1).contains(text, Qt::CaseInsensitive);
            item->setHidden(!match);
            any = any || match;
        }
        closeSection();
    });

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_filter);
    layout->addWidget(m_list);
    layout->addWidget(buttons);
    resize(560, 640);
    m_filter->setFocus();
    tabInLayoutOrder(this);
}

} // namespace Kiln::Ui
