#pragma once
#include <QObject>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

class WorkspaceConnection;

// Long-polls one of kilnd's change feeds (a path answering `?version=V&timeout_ms=T` with {version} once
// the version is past V, e.g. /api/v1/sweeps/7/changes) on a thread of its own, and emits changed() on
// the UI thread each time the version moves (and once at its first answer: a change made before it began
// is not missed), so that a page reads again only when something changed. While kilnd is unreachable it
// asks again with backoff; destroying it stops it at once.
class ChangeWatch final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChangeWatch)
public:
    ChangeWatch(const WorkspaceConnection& connection, std::string path, QObject* parent = nullptr);
    ~ChangeWatch() override;

Q_SIGNALS:
    void changed();

private:
    std::shared_ptr<Api::Client> m_client;
    std::shared_ptr<std::atomic<bool>> m_stop = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> m_done = std::make_shared<std::atomic<bool>>(false);
    std::thread m_thread;
};

} // namespace Kiln::Ui
