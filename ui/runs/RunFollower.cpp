#include "RunFollower.h"

#include "api/Client.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "metrics/Columns.h"
#include "workspace/WorkspaceConnection.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <QCoreApplication>
#include <QPointer>
#include <utility>

namespace Kiln::Ui {

namespace {
// Overviews asked for and not yet answered, across every follower: a run's points wait for them (a while at
// most), so that opening ten runs draws ten pictures first instead of one run's points before another's
// picture.
struct OverviewGate {
    std::mutex mutex;
    std::condition_variable done;
    int pending = 0;
    void open() {
        std::lock_guard lock(mutex);
        --pending;
        done.notify_all();
    }
    void wait(const std::atomic<bool>& stop) { // (in short steps: closing the page never waits for it)
        std::unique_lock lock(mutex);
        for (int i = 0; i < 60 && pending > 0 && !stop; ++i)
            done.wait_for(lock, std::chrono::milliseconds(50));
    }
};
OverviewGate& overviews() {
    static OverviewGate gate;
    return gate;
}
} // namespace

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
    {
        std::lock_guard lock(overviews().mutex);
        ++overviews().pending;
    }
    m_thread = std::thread([self, client = m_client, stop = m_stop, runId = m_runId]() {
        Api::FeedCursor cursor;
        const auto post = [&](auto emitter) {
            QMetaObject::invokeMethod(
                qApp,
                [self, emitter]() {
                    if (self)
                        emitter(self.data());
                },
                Qt::QueuedConnection);
        };
        const auto deliver = [&](nlohmann::json answer) {
            post([shared = std::make_shared<const nlohmann::json>(std::move(answer))](RunFollower* f) {
                Q_EMIT f->feed(shared);
            });
        };
        // A run opens picture first: the level of detail of every metric (a few thousand points each) is
        // drawn while every point comes in one binary read (the feed pages JSON, 50,000 points at a time),
        // and then the feed follows from that read's cursor.
        bool gateOpen = false;
        const auto openGate = [&] {
            if (!std::exchange(gateOpen, true))
                overviews().open();
        };
        try {
            std::int64_t after = 0;
            deliver(nlohmann::json{{"run", client->run(runId)},
                                   {"metrics", nlohmann::json::object()},
                                   {"logs", nlohmann::json::array()},
                                   {"cursor", {{"metrics_after", 0}, {"logs_after", 0}, {"status_seq", 0}}}});
            try {
                auto overview =
                    std::make_shared<const Metrics::Columns>(client->overview(runId, kOverviewBuckets));
                if (overview->size() > 0 && !*stop)
                    post([overview](RunFollower* f) { Q_EMIT f->overview(overview); });
            } catch (const Api::ClientError&) { // (a kilnd without levels of detail: the points come next)
            }
            openGate();
            overviews().wait(*stop);
            const auto all = client->allMetrics(runId, after);
            constexpr std::size_t kSlice = 500'000;
            for (std::size_t i = 0; i < all.size() && !*stop; i += kSlice) {
                const auto j = std::min(all.size(), i + kSlice);
                auto slice = std::make_shared<Metrics::Columns>();
                slice->keys = all.keys;
                const auto copy = [&](const auto& from, auto& to) {
                    if (!from.empty())
                        to.assign(from.begin() + static_cast<long>(i), from.begin() + static_cast<long>(j));
                };
                copy(all.key, slice->key);
                copy(all.steps, slice->steps);
                copy(all.timestamps, slice->timestamps);
                copy(all.values, slice->values);
                post([slice = std::shared_ptr<const Metrics::Columns>(std::move(slice))](RunFollower* f) {
                    Q_EMIT f->points(slice);
                });
            }
            cursor.metricsAfter = after;
        } catch (const std::exception&) { // (an older kilnd, or none yet: the feed brings everything)
        }
        openGate();
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

void refineWhenZoomed(MetricChart* chart, WorkspaceConnection& connection,
                      std::function<QString(int)> keyOf) {
    QObject::connect(chart, &MetricChart::detailWanted, chart,
                     [chart, &connection, keyOf](double from, double to, int columns) {
                         for (int i = 0; i < chart->curveCount(); ++i) {
                             const auto& curve = chart->curve(i);
                             if (!curve.data->preview)
                                 continue;
                             auto detail = std::make_shared<Metrics::Columns>();
                             connection.call(
                                 chart,
                                 [detail, run = curve.run, key = keyOf(i).toStdString(), from, to,
                                  columns](Api::Client& c) {
                                     *detail = c.history(run, key, from, to, columns);
                                     return nlohmann::json();
                                 },
                                 [chart, detail, buffer = curve.data, from, to](const nlohmann::json&) {
                                     if (chart->xRange() != std::pair(from, to))
                                         return; // zoomed again meanwhile: that range's answer is coming
                                     refine(*buffer, from, to, *detail);
                                     chart->dataAppended();
                                 });
                         }
                     });
}

} // namespace Kiln::Ui
