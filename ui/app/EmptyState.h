#pragma once
#include <QWidget>

QT_BEGIN_NAMESPACE
class QHBoxLayout;
class QLabel;
class QPushButton;
QT_END_NAMESPACE

namespace Kiln::Ui {

// What an empty panel shows instead of empty lists: what the thing is, what to do next, and a button that
// does it.
class EmptyState final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EmptyState)
public:
    EmptyState(const QString& title, const QString& text, QWidget* parent = nullptr);

    // A button under the text; returns it to connect.
    QPushButton* addButton(const QString& text, const char* objectName);
    QLabel* text() const { return m_text; }

private:
    QLabel* m_title;
    QLabel* m_text;
    QHBoxLayout* m_buttons;
};

} // namespace Kiln::Ui
