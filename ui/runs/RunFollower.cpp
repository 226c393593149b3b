#include "RunFollower.h"

#include "api/Client.h"

#include <chrono>
#include <QCoreApplication>
#include <QPointer>

namespace Kiln::Ui {

RunFollower::RunFollower(QString url, QString token, qint64 runId, QObject* parent)
    : QObject(parent)
    , m_url(std::move(url))
    , m_token(std::move(token))
    , m_runId(runId) {}

RunFollower::~RunFollower() {
    *m_stop = true;
    if (m_client)
        m_client->cancelPending();
    if (m_thread.joinable())
        m_thread.join();
}

void RunFollower::start() {
    m_client = std::make_shared<Api::Client>(m_url.toStdString(), m_token.toStdString());
    QPointer<RunFollower> self(this);
    m_thread = std::thread([self, client = m_client, stop = m_stop, runId = m_runId]() {
        Api::FeedCursor cursor;
        const auto deliver = [&](nlohmann::json answer) {
            auto shared = std::make_shared<const nlohmann::json>(std::move(answer));
            QMetaObject::invokeMethod(
                qApp,
                [self, shared]() {
                    if (self)
                        Q_EMIT self->feed(shared);
                },
                Qt::QueuedConnection);
        };
        // What the run has logged so far comes in one binary read (the feed pages JSON, 50,000 points at a
        // time: a long run opened in seconds instead of minutes), then the feed follows from its cursor. It
        // is handed over in answers of at most kSlice points, so that no one of them holds the UI thread
        // long.
        try {
            constexpr std::size_t kSlice = 200'000;
            std::int64_t after = 0;
            const auto all = client->allMetrics(runId, after);
            const auto run = client->run(runId);
            const auto answer = [&](nlohmann::json metrics) {
                return nlohmann::json{
                    {"run", run},
                    {"metrics", std::move(metrics)},
                    {"logs", nlohmann::json::array()},
                    {"cursor", {{"metrics_after", after}, {"logs_after", 0}, {"status_seq", 0}}}};
            };
            nlohmann::json metrics = nlohmann::json::object();
            std::size_t held = 0;
            for (std::size_t i = 0; i < all.size() && !*stop;) {
                const auto k = all.key[i];
                std::size_t j = i;
                while (j < all.size() && all.key[j] == k && j - i < kSlice - held)
                    ++j;
                const auto slice = [&](const auto& column) {
                    return std::vector<double>(column.begin() + static_cast<long>(i),
                                               column.begin() + static_cast<long>(j));
                };
                metrics[all.keys[k]] = {{"steps", slice(all.steps)},
                                        {"timestamps", slice(all.timestamps)},
                                        {"values", slice(all.values)}};
                held += j - i;
                i = j;
                if (held >= kSlice || i == all.size()) {
                    deliver(answer(std::move(metrics)));
                    metrics = nlohmann::json::object();
                    held = 0;
                }
            }
            if (all.size() == 0)
                deliver(answer(std::move(metrics)));
            cursor.metricsAfter = after;
        } catch (const std::exception&) { // (an older kilnd, or none yet: the feed brings everything)
        }
        int failures = 0;
        while (!*stop) {
            try {
                client->follow(
                    runId,
                    [&](const nlohmann::json& answer) {
                        if (*stop)
                            return false;
                        deliver(answer);
                        cursor.metricsAfter = answer["cursor"]["metrics_after"];
                        cursor.logsAfter = answer["cursor"]["logs_after"];
                        cursor.statusSeq = answer["cursor"]["status_seq"];
                        failures = 0;
                        return true;
                    },
                    cursor);
                return; // the run ended and everything was delivered
            } catch (const std::exception& e) {
                if (*stop)
                    return;
                const QString message = QString::fromStdString(e.what());
                QMetaObject::invokeMethod(
                    qApp,
                    [self, message]() {
                        if (self)
                            Q_EMIT self->connectionProblem(message);
                    },
                    Qt::QueuedConnection);
                // Back off, in short steps so that closing the run's tab never waits for the sleep.
                const int pause = std::min(3000, 100 << std::min(failures++, 5));
                for (int slept = 0; slept < pause && !*stop; slept += 50)
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
    });
}

} // namespace Kiln::Ui
