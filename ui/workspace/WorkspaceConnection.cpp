#include "WorkspaceConnection.h"

#include "api/Client.h"
#include "workspace/Workspace.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <thread>

namespace Kiln::Ui {

WorkspaceConnection::WorkspaceConnection(QString workspace, QObject* parent)
    : QObject(parent)
    , m_workspace(std::move(workspace)) {
    m_pool.setMaxThreadCount(4);
}

WorkspaceConnection::~WorkspaceConnection() {
    *m_alive = false;
    if (m_watchClient)
        m_watchClient->cancelPending();
    m_pool.waitForDone();
}

void WorkspaceConnection::connectToServer() {
    m_state = State::Connecting;
    Q_EMIT stateChanged();
    QPointer<WorkspaceConnection> self(this);
    const auto requested = m_workspace.toStdString();
    m_pool.start([self, requested]() {
        QString url, token, description, error, localDir;
        try {
            auto loc =
                Workspace::locate(requested.empty() ? std::nullopt : std::optional<std::string>(requested));
            if (loc.remote()) {
                url = QString::fromStdString(loc.url);
                token = QString::fromStdString(loc.token);
                description = url;
                Api::Client::setDefaultCaFile(loc.caFile); // every client of this workspace verifies with it
                Api::Client(loc.url, loc.token, std::chrono::seconds(5)).health();
            } else {
                auto info = Workspace::ensureServer(loc.dir);
                url = QString::fromStdString(info.url);
                token = QString::fromStdString(info.token);
                description = QString::fromStdString(loc.dir.string());
                localDir = description;
                if (loc.source == "default local workspace") {
                    Api::Client::setDefaultCaFile(info.caFile);
                    Api::Client client(info.url, info.token);
                    Workspace::seedSampleDataset(client);
                }
            }
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            qApp,
            [self, url, token, description, error, localDir]() {
                if (!self)
                    return;
                self->m_localDir = localDir;
                self->m_url = url;
                self->m_token = token;
                self->m_description = error.isEmpty() ? description : error;
                self->m_state = error.isEmpty() ? State::Connected : State::Failed;
                Q_EMIT self->stateChanged();
                if (error.isEmpty()) {
                    self->watchChanges();
                    Q_EMIT self->runsChanged();
                }
            },
            Qt::QueuedConnection);
    });
}

void WorkspaceConnection::call(QObject* context, std::function<Json(Api::Client&)> work,
                               std::function<void(const Json&)> done,
                               std::function<void(const QString&)> failed) {
    QPointer<QObject> guard(context);
    const auto url = m_url.toStdString(), token = m_token.toStdString();
    m_pool.start(
        [guard, url, token, work = std::move(work), done = std::move(done), failed = std::move(failed)]() {
            Json result;
            QString error;
            try {
                Api::Client client(url, token);
                result = work(client);
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
            QMetaObject::invokeMethod(
                qApp,
                [guard, result = std::move(result), error, done, failed]() {
                    if (!guard)
                        return;
                    if (error.isEmpty()) {
                        if (done)
                            done(result);
                    } else if (failed) {
                        failed(error);
                    }
                },
                Qt::QueuedConnection);
        });
}

void WorkspaceConnection::setState(State state) {
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged();
}

void WorkspaceConnection::watchChanges() {
    auto client = std::make_shared<Api::Client>(m_url.toStdString(), m_token.toStdString());
    m_watchClient = client;
    QPointer<WorkspaceConnection> self(this);
    auto alive = m_alive;
    const auto localDir = m_localDir.toStdString();
    auto post = [self](State state) {
        QMetaObject::invokeMethod(
            qApp,
            [self, state] {
                if (self)
                    self->setState(state);
            },
            Qt::QueuedConnection);
    };
    m_pool.start([self, client, alive, localDir, post]() {
        std::int64_t version = -1;
        int failures = 0;
        while (*alive) {
            try {
                auto answer =
                    client->get("/api/v1/changes?version=" + std::to_string(version) + "&timeout_ms=20000");
                const auto next = answer["version"].get<std::int64_t>();
                if (failures > 0)
                    post(State::Connected);
                failures = 0;
                if (next != version && version != -1)
                    QMetaObject::invokeMethod(
                        qApp,
                        [self]() {
                            if (self)
                                Q_EMIT self->runsChanged();
                        },
                        Qt::QueuedConnection);
                version = next;
            } catch (const std::exception&) {
                if (!*alive)
                    return;
                // kilnd went away: say so, start it again if the workspace is ours, back off, ask again.
                if (failures == 0)
                    post(State::Reconnecting);
                if (!localDir.empty() && failures >= 1) {
                    try {
                        Workspace::ensureServer(localDir, std::chrono::seconds(5));
                    } catch (const std::exception&) {
                    }
                }
                const int pause = std::min(2000, 100 << std::min(failures++, 5));
                for (int slept = 0; slept < pause && *alive; slept += 50)
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                version = -1;
                QMetaObject::invokeMethod(
                    qApp,
                    [self]() {
                        if (self)
                            Q_EMIT self->runsChanged();
                    },
                    Qt::QueuedConnection);
            }
        }
    });
}

} // namespace Kiln::Ui
