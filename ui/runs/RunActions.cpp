#include "RunActions.h"

#include "api/Client.h"
#include "api/Http.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>
#include <QAbstractButton>
#include <QAction>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSet>
#include <QWidget>

namespace Kiln::Ui {

using Json = nlohmann::json;

RunActions::RunActions(WorkspaceConnection& connection, QWidget* parent)
    : QObject(parent)
    , m_connection(connection)
    , m_parent(parent) {
    auto shortcut = [this](const QString& name, const QKeySequence& keys, auto&& act) {
        auto* a = new QAction(name, m_parent);
        a->setShortcut(keys);
        a->setShortcutContext(Qt::WidgetShortcut); // on the views the caller adds it to (not the filter box)
        connect(a, &QAction::triggered, this, [this, act] {
            if (const auto runs = m_selection ? m_selection() : QList<qint64>(); !runs.isEmpty())
                act(runs);
        });
        m_shortcuts << a;
    };
    shortcut(tr("Rename"), QKeySequence(Qt::Key_F2),
             [this](const QList<qint64>& runs) { rename(runs.front(), {}); });
    shortcut(tr("Delete"), QKeySequence::Delete, [this](const QList<qint64>& runs) { remove(runs); });
    shortcut(tr("Add tag"), QKeySequence(Qt::CTRL | Qt::Key_T),
             [this](const QList<qint64>& runs) { addTag(runs); });
}

void RunActions::fillMenu(QMenu* menu, const Json& rows) {
    QList<qint64> runs;
    bool allStarred = true, allArchived = true;
    QSet<QString> tags;
    for (const auto& r : rows) {
        runs << r["id"].get<qint64>();
        allStarred = allStarred && r.value("starred", false);
        allArchived = allArchived && r.value("archived", false);
        if (r.contains("tags") && r["tags"].is_object())
            for (const auto& [k, v] : r["tags"].items())
                tags.insert(QString::fromStdString(k));
    }
    if (runs.isEmpty())
        return;
    // The shortcut shown beside an entry (after a tab), not given to it: the browser's own actions own
    // the keys, and a second action with the same key would make both ambiguous.
    auto add = [menu](const QString& text, const char* name, const QKeySequence& keys = {}) {
        auto* a = menu->addAction(
            keys.isEmpty() ? text : text + QLatin1Char('\t') + keys.toString(QKeySequence::NativeText));
        a->setObjectName(QLatin1String(name));
        return a;
    };
    if (runs.size() >= 2)
        connect(add(tr("&Compare %n runs", nullptr, static_cast<int>(runs.size())), "runCompare"),
                &QAction::triggered, this, [this, runs] { Q_EMIT compareRequested(runs); });
    if (runs.size() == 1) {
        const auto name = QString::fromStdString(rows[0].value("name", std::string()));
        connect(add(tr("&Rename…"), "runRename", QKeySequence(Qt::Key_F2)), &QAction::triggered, this,
                [this, runs, name] { rename(runs.front(), name); });
    }
    connect(add(tr("Add &tag…"), "runAddTag", QKeySequence(Qt::CTRL | Qt::Key_T)), &QAction::triggered, this,
            [this, runs] { addTag(runs); });
    if (!tags.isEmpty()) {
        auto* remove = menu->addMenu(tr("Remove ta&g"));
        remove->setObjectName(QStringLiteral("runRemoveTag"));
        auto sorted = tags.values();
        std::sort(sorted.begin(), sorted.end());
        for (const auto& key : sorted)
            connect(remove->addAction(key), &QAction::triggered, this,
                    [this, runs, key] { removeTag(runs, key); });
    }
    connect(add(allStarred ? tr("Un&star") : tr("&Star"), "runStar"), &QAction::triggered, this,
            [this, runs, allStarred] { setStarred(runs, !allStarred); });
    connect(add(allArchived ? tr("Un&archive") : tr("&Archive"), "runArchive"), &QAction::triggered, this,
            [this, runs, allArchived] { setArchived(runs, !allArchived); });
    menu->addSeparator();
    connect(add(tr("Ca&ncel"), "runCancel"), &QAction::triggered, this, [this, runs] { cancel(runs); });
    connect(add(tr("&Delete…"), "runDelete", QKeySequence::Delete), &QAction::triggered, this,
            [this, runs] { remove(runs); });
}

void RunActions::each(const QList<qint64>& runs, const QString& method, const QString& suffix,
                      const QString& body, const QString& what) {
    const auto m = method.toStdString();
    const auto s = suffix.toStdString();
    const auto b = body.isEmpty() ? Json() : Json::parse(body.toStdString());
    std::vector<qint64> ids(runs.begin(), runs.end());
    m_connection.call(
        this,
        [m, s, b, ids](Api::Client& c) {
            Json refused = Json::array();
            for (auto id : ids) {
                try {
                    const auto path = "/api/v1/runs/" + std::to_string(id) + s;
                    m == "POST" ? c.post(path, b) : c.request(m, path, b);
                } catch (const Api::ClientError& e) {
                    if (e.status() == 0)
                        throw;
                    refused.push_back(e.what());
                }
            }
            return refused;
        },
        [this, what](const Json& refused) {
            Q_EMIT changed();
            if (refused.empty())
                return;
            QStringList lines;
            for (const auto& r : refused)
                lines << QString::fromStdString(r.get<std::string>());
            const auto message = lines.join(QLatin1Char('\n'));
            Q_EMIT failed(message);
            auto* box = new QMessageBox(QMessageBox::Warning, what, message, QMessageBox::Ok, m_parent);
            box->setObjectName(QStringLiteral("runActionRefused"));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        },
        [this, what](const QString& error) {
            Q_EMIT failed(error);
            QMessageBox::warning(m_parent, what, error);
        });
}

void RunActions::rename(qint64 run, const QString& current) {
    auto* dialog = new QInputDialog(m_parent);
    dialog->setObjectName(QStringLiteral("renameRunDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Rename run %1").arg(run));
    dialog->setLabelText(tr("Name:"));
    dialog->setTextValue(current);
    connect(dialog, &QInputDialog::textValueSelected, this, [this, run](const QString& name) {
        if (name.trimmed().isEmpty())
            return;
        each({run}, QStringLiteral("PATCH"), {},
             QString::fromStdString(Json{{"name", name.trimmed().toStdString()}}.dump()), tr("Rename run"));
    });
    dialog->open();
    if (current.isEmpty()) // (from the keyboard: the name comes from the server)
        m_connection.call(
            dialog, [run](Api::Client& c) { return c.run(run); },
            [dialog](const Json& r) {
                if (dialog->textValue().isEmpty())
                    dialog->setTextValue(QString::fromStdString(r["name"].get<std::string>()));
            });
}

void RunActions::addTag(const QList<qint64>& runs) {
    auto* dialog = new QInputDialog(m_parent);
    dialog->setObjectName(QStringLiteral("addTagDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Tag %n run(s)", nullptr, static_cast<int>(runs.size())));
    dialog->setLabelText(tr("Tag (key=value, or a bare key):"));
    connect(dialog, &QInputDialog::textValueSelected, this, [this, runs](const QString& text) {
        const auto t = text.trimmed();
        const auto eq = t.indexOf(QLatin1Char('='));
        const auto key = (eq < 0 ? t : t.left(eq)).trimmed();
        if (key.isEmpty()) {
            QMessageBox::warning(m_parent, tr("Add tag"), tr("A tag needs a key: key=value or key."));
            return;
        }
        const auto value = eq < 0 ? QString() : t.mid(eq + 1).trimmed();
        each(runs, QStringLiteral("POST"), QStringLiteral("/tags"),
             QString::fromStdString(Json{{"tags", {{key.toStdString(), value.toStdString()}}}}.dump()),
             tr("Add tag"));
    });
    dialog->open();
}

void RunActions::removeTag(const QList<qint64>& runs, const QString& key) {
    each(runs, QStringLiteral("DELETE"),
         QStringLiteral("/tags/") + QString::fromStdString(Api::percentEncode(key.toStdString())), {},
         tr("Remove tag"));
}

void RunActions::setStarred(const QList<qint64>& runs, bool starred) {
    each(runs, QStringLiteral("PATCH"), {},
         starred ? QStringLiteral("{\"starred\":true}") : QStringLiteral("{\"starred\":false}"), tr("Star"));
}

void RunActions::setArchived(const QList<qint64>& runs, bool archived) {
    each(runs, QStringLiteral("PATCH"), {},
         archived ? QStringLiteral("{\"archived\":true}") : QStringLiteral("{\"archived\":false}"),
         tr("Archive"));
}

void RunActions::cancel(const QList<qint64>& runs) {
    each(runs, QStringLiteral("POST"), QStringLiteral("/cancel"), QStringLiteral("{}"), tr("Cancel"));
}

void RunActions::remove(const QList<qint64>& runs) {
    auto* box = new QMessageBox(QMessageBox::Question, tr("Delete runs"),
                                tr("Delete %n run(s) with their metrics, logs and files? This cannot be "
                                   "undone; archiving hides a run "
                                   "and keeps it.",
                                   nullptr, static_cast<int>(runs.size())),
                                QMessageBox::Yes | QMessageBox::Cancel, m_parent);
    box->setObjectName(QStringLiteral("deleteRunsDialog"));
    box->setDefaultButton(QMessageBox::Cancel);
    box->button(QMessageBox::Yes)->setText(tr("&Delete"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, box, runs](QAbstractButton* button) {
        if (button == box->button(QMessageBox::Yes))
            each(runs, QStringLiteral("DELETE"), {}, {}, tr("Delete runs"));
    });
    box->open();
}

} // namespace Kiln::Ui
