#include "TabOrder.h"

#include <QDialogButtonBox>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QLayout>
#include <QWidget>

#include <algorithm>
#include <tuple>
#include <vector>

namespace Kiln::Ui {

static void collect(QLayout* layout, QList<QWidget*>& out);

static void collect(QWidget* w, QList<QWidget*>& out) {
    if (!w)
        return;
    // Plain containers are walked into; any other widget is one stop (a combo box, a table, a button).
    const auto* meta = w->metaObject();
    const bool container = meta == &QWidget::staticMetaObject || meta == &QFrame::staticMetaObject ||
                           qobject_cast<QGroupBox*>(w) || qobject_cast<QDialogButtonBox*>(w);
    if (container && w->layout()) {
        collect(w->layout(), out);
        return;
    }
    if (w->focusPolicy() & Qt::TabFocus)
        out << w;
}

static void collect(QLayout* layout, QList<QWidget*>& out) {
    std::vector<std::tuple<int, int, QLayoutItem*>> items;
    auto* grid = qobject_cast<QGridLayout*>(layout);
    for (int i = 0; i < layout->count(); ++i) {
        int row = 0, column = i;
        if (grid) { // a grid's items in reading order, whatever order they were added in
            int rowSpan = 0, columnSpan = 0;
            grid->getItemPosition(i, &row, &column, &rowSpan, &columnSpan);
        }
        items.emplace_back(row, column, layout->itemAt(i));
    }
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    for (const auto& [row, column, item] : items) {
        if (item->widget())
            collect(item->widget(), out);
        else if (item->layout())
            collect(item->layout(), out);
    }
}

void tabInLayoutOrder(QWidget* root) {
    if (!root->layout())
        return;
    QList<QWidget*> order;
    collect(root->layout(), order);
    for (int i = 1; i < order.size(); ++i)
        QWidget::setTabOrder(order[i - 1], order[i]);
}

} // namespace Kiln::Ui
