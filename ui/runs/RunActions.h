#pragma once
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <nlohmann/json_fwd.hpp>

QT_BEGIN_NAMESPACE
class QAction;
class QMenu;
class QWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

class WorkspaceConnection;

// What a user does to runs chosen in the workspace browser, one run or a selection at once: rename, tag,
// untag, star, archive, cancel, delete (confirmed; refusals such as "a model version comes from it" are
// shown as kilnd words them). Dialogs open window-modal without blocking (open(), not exec()).
class RunActions final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunActions)
public:
    RunActions(WorkspaceConnection& connection, QWidget* parent);

    // The context menu for the runs `rows` (their JSON as listed: id, name, starred, archived, tags; what
    // is missing is taken as unset).
    void fillMenu(QMenu* menu, const nlohmann::json& rows);

    void rename(qint64 run, const QString& current);
    void addTag(const QList<qint64>& runs);
    void removeTag(const QList<qint64>& runs, const QString& key);
    void setStarred(const QList<qint64>& runs, bool starred);
    void setArchived(const QList<qint64>& runs, bool archived);
    void cancel(const QList<qint64>& runs);
    void remove(const QList<qint64>& runs); // asks first

    // Shortcut actions (F2 rename, Del delete, Ctrl+T tag), acting on what `selection` returns; live on the
    // widgets they are added to.
    QList<QAction*> shortcutActions() const { return m_shortcuts; }
    void setSelectionSource(std::function<QList<qint64>()> selection) { m_selection = std::move(selection); }

Q_SIGNALS:
    void changed();                      // something was done: lists should refresh
    void failed(const QString& message); // kilnd refused (shown to the user too)
    void compareRequested(const QList<qint64>& runs);

private:
    // PATCHes (or DELETEs) each run in turn off the UI thread; reports the first refusal.
    void each(const QList<qint64>& runs, const QString& method, const QString& suffix, const QString& body,
              const QString& what);
    WorkspaceConnection& m_connection;
    QWidget* m_parent;
    QList<QAction*> m_shortcuts;
    std::function<QList<qint64>()> m_selection;
};

} // namespace Kiln::Ui
