#pragma once
#include <QObject>

#include <atomic>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <thread>

namespace Kiln::Api {
class Client;
}

namespace Kiln::Ui {

// Follows one run's live feed (long-poll) on its own thread and delivers each answer on the UI thread
// through feed(). Reconnects with backoff while kilnd is unreachable; stops when the run has ended and
// everything was delivered, or when destroyed.
class RunFollower final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunFollower)
public:
    RunFollower(QString url, QString token, qint64 runId, QObject* parent = nullptr);
    ~RunFollower() override;
    void start();

Q_SIGNALS:
    void feed(const std::shared_ptr<const nlohmann::json>& answer);
    void connectionProblem(const QString& message);

private:
    QString m_url;
    QString m_token;
    qint64 m_runId;
    std::shared_ptr<Api::Client> m_client;
    std::shared_ptr<std::atomic<bool>> m_stop = std::make_shared<std::atomic<bool>>(false);
    std::thread m_thread;
};

} // namespace Kiln::Ui
