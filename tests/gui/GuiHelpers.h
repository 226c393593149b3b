#pragma once
// Helpers for the offscreen GUI tests: drive widgets the way a user does.
#include <QApplication>
#include <QLineEdit>
#include <QTableWidget>
#include <QTest>

namespace Kiln::Test {

// Double-clicks a table cell, replaces its text by typing, and commits with Enter.
inline void editCell(QTableWidget* table, int row, int column, const QString& text) {
    if (!table->item(row, column))
        table->setItem(row, column, new QTableWidgetItem);
    table->scrollToItem(table->item(row, column));
    const QRect rect = table->visualItemRect(table->item(row, column));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, rect.center());
    QTRY_VERIFY(qobject_cast<QLineEdit*>(QApplication::focusWidget()) &&
                table->isAncestorOf(QApplication::focusWidget()));
    auto* editor = QApplication::focusWidget();
    QTest::keyClick(editor, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(editor, text);
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(table->item(row, column)->text(), text);
}

inline int rowOf(QTableWidget* table, const QString& firstColumn) {
    for (int r = 0; r < table->rowCount(); ++r)
        if (table->item(r, 0) && table->item(r, 0)->text() == firstColumn)
            return r;
    return -1;
}

} // namespace Kiln::Test
