#pragma once
#include <QDialog>

QT_BEGIN_NAMESPACE
class QLineEdit;
class QMenuBar;
class QTreeWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

// Help > Keyboard shortcuts: every action of the menu bar with its keys (read from the actions, so the sheet
// cannot fall behind them), then the keys that work in one place (the runs views, a chart, a run's note…).
// A filter box narrows it.
class ShortcutsDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ShortcutsDialog)
public:
    ShortcutsDialog(QMenuBar* menus, QWidget* parent = nullptr);

    QTreeWidget* list() const { return m_list; }
    QLineEdit* filter() const { return m_filter; }

private:
    QLineEdit* m_filter;
    QTreeWidget* m_list;
};

} // namespace Kiln::Ui
