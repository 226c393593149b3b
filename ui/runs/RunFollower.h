#pragma once
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <thread>

namespace Kiln::Api {
class Client;
}
namespace Kiln::Metrics {
struct Columns;
}

namespace Kiln::Ui {

class MetricChart;
class WorkspaceConnection;

// Follows one run on its own thread and delivers on the UI thread, in this order: a feed answer with the run
// (and no metrics); overview(), kilnd's level of detail of every metric (what a chart shows, from a few
// thousand points however long the run); points(), every point logged so far (in slices, so that no one of
// them holds the UI thread long); then each live feed answer (long-poll) through feed(). Reconnects with
// backoff while kilnd is unreachable; stops when the run has ended and everything was delivered, or when
// destroyed.
class RunFollower final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunFollower)
public:
    // Pixel columns of the overview: about twice a wide chart's.
    static constexpr int kOverviewBuckets = 2048;
    RunFollower(QString url, QString token, qint64 runId, QObject* parent = nullptr);
    ~RunFollower() override;
    void start();

Q_SIGNALS:
    void feed(const std::shared_ptr<const nlohmann::json>& answer);
    void overview(const std::shared_ptr<const Metrics::Columns>& points);
    void points(const std::shared_ptr<const Metrics::Columns>& points);
    void connectionProblem(const QString& message);

private:
    QString m_url;
    QString m_token;
    qint64 m_runId;
    std::shared_ptr<Api::Client> m_client;
    std::shared_ptr<std::atomic<bool>> m_stop = std::make_shared<std::atomic<bool>>(false);
    std::thread m_thread;
};

// Keeps `chart` exact while some of its curves are still previews (the points are on their way): when the
// user zooms in, kilnd's level of detail of the new range at the chart's width replaces theirs there.
// `keyOf(curve)`: the metric that curve draws.
void refineWhenZoomed(MetricChart* chart, WorkspaceConnection& connection, std::function<QString(int)> keyOf);

} // namespace Kiln::Ui
