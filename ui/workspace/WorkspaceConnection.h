#pragma once
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

// The studio's link to one workspace's kilnd. Finds or starts the server off the UI thread, then runs
// client calls on a worker pool and hands results back on the UI thread. Also long-polls the workspace
// for "a run was created or changed" and emits runsChanged(). When kilnd stops answering the state turns
// Reconnecting; for a local workspace the server is started again (runs outlive it, so nothing is lost).
class WorkspaceConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkspaceConnection)
public:
    using Json = nlohmann::json;
    enum class State { Connecting, Connected, Reconnecting, Failed };

    // `workspace`: a folder, or empty for the located one (--workspace, $KILN_WORKSPACE, config, default).
    explicit WorkspaceConnection(QString workspace, QObject* parent = nullptr);
    ~WorkspaceConnection() override;

    void connectToServer();
    State state() const { return m_state; }
    QString description() const { return m_description; }
    QString url() const { return m_url; }
    QString token() const { return m_token; }

    // Runs `work` with a client on a worker thread; `done` (or `failed` with the message) runs on the UI
    // thread, only if `context` still exists.
    void call(QObject* context, std::function<Json(Api::Client&)> work, std::function<void(const Json&)> done,
              std::function<void(const QString&)> failed = {});

Q_SIGNALS:
    void stateChanged();
    void runsChanged();

private:
    void watchChanges();
    void setState(State state);
    QString m_workspace;
    QString m_description;
    QString m_url;
    QString m_token;
    QString m_localDir; // the workspace folder when local: its kilnd is restarted if it goes away
    State m_state = State::Connecting;
    QThreadPool m_pool;
    std::shared_ptr<Api::Client> m_watchClient;
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

} // namespace Kiln::Ui
