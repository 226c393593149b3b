#pragma once
#include <QDialog>

#include <functional>
#include <vector>

QT_BEGIN_NAMESPACE
class QLineEdit;
class QListWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

// Ctrl+K: type part of the name of any run, experiment, dataset, environment, compute target, model or
// action, pick it with the arrows and Enter, and the studio goes there. Matching is fuzzy
// (Util::fuzzyScore); entries can be added while it is open (the workspace's lists arrive from kilnd).
class CommandPalette final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CommandPalette)
public:
    struct Entry {
        QString kind; // "Run", "Dataset", "Action"...
        QString label;
        QString detail;
        std::function<void()> go;
    };
    explicit CommandPalette(QWidget* parent = nullptr);
    ~CommandPalette() override;

    void addEntries(std::vector<Entry> entries);
    QLineEdit* input() const { return m_input; }
    QListWidget* list() const { return m_list; }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refilter();
    void activate();

    QLineEdit* m_input;
    QListWidget* m_list;
    std::vector<Entry> m_entries;
};

} // namespace Kiln::Ui
