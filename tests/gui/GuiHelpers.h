#pragma once
// Helpers for the offscreen GUI tests: drive widgets the way a user does.
#include <QAction>
#include <QApplication>
#include <QLineEdit>
#include <QMainWindow>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>

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

// Clicks the main toolbar's button for the action named `action`.
inline void clickToolbar(QMainWindow& window, const char* action) {
    auto* toolbar = window.findChild<QToolBar*>(QStringLiteral("mainToolbar"));
    QTest::mouseClick(toolbar->widgetForAction(window.findChild<QAction*>(QLatin1String(action))),
                      Qt::LeftButton);
}

// With KILN_SCREENSHOTS=DIR, saves a grab of `w` as DIR/NAME.png, to look at the panel.
inline void shot(QWidget* w, const char* name) {
    if (qEnvironmentVariableIsSet("KILN_SCREENSHOTS"))
        w->grab().save(qEnvironmentVariable("KILN_SCREENSHOTS") + QLatin1Char('/') + QLatin1String(name) +
                       QStringLiteral(".png"));
}

// main() of a GUI test: settings, runtime and cache folders of its own, then the test object.
template <typename TestObject> int runGuiTest(int argc, char** argv) {
    QTemporaryDir home;
    // HOME too: QStandardPaths' test mode keeps settings in ~/.qttest, which would otherwise carry one run's
    // choices (columns, splitters, grouping) into the next run of the tests.
    qputenv("HOME", home.path().toUtf8());
    qputenv("XDG_CONFIG_HOME", (home.path() + QStringLiteral("/config")).toUtf8());
    qputenv("XDG_RUNTIME_DIR", (home.path() + QStringLiteral("/runtime")).toUtf8());
    qputenv("XDG_CACHE_HOME", (home.path() + QStringLiteral("/cache")).toUtf8());
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("KilnTest"));
    TestObject test;
    return QTest::qExec(&test, argc, argv);
}

} // namespace Kiln::Test
