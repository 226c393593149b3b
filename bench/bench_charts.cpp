// bench_charts: the chart widget's costs on this machine. Prints one line per figure:
//   redraw (reduce every curve for a new zoom + paint 900x500) for 1, 10 and 100 runs of 1,000,000 points;
//   repaint alone (reduction cached); memory per million points;
//   a real run logging 10,000 points/s through kilnd into a live chart: logged-to-painted latency and how
//   late a 10 ms UI timer fires meanwhile (the UI staying responsive); then the same while 50 other runs
//   (second argument) are fed 10,000 points/s each. First argument: points per run for the redraw cases.
//   Third argument: only one case (redraw, compare or live). KILN_BENCH_TRACE=1: when each run's overview and
//   points reach the compare case.
#include "api/Client.h"
#include "charts/MetricChart.h"
#include "charts/SeriesBuffer.h"
#include "metrics/Columns.h"
#include "runs/Run.h"
#include "runs/RunFollower.h"
#include "workspace/Workspace.h"

#include <nlohmann/json.hpp>
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QImage>
#include <QPainter>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

using namespace Kiln;
namespace fs = std::filesystem;

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}
static double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

static std::shared_ptr<Ui::SeriesBuffer> randomWalk(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, 1);
    auto b = std::make_shared<Ui::SeriesBuffer>();
    b->steps.resize(n);
    b->times.resize(n);
    b->values.resize(n);
    double y = 0;
    for (std::size_t i = 0; i < n; ++i) {
        y += noise(rng);
        b->steps[i] = static_cast<double>(i);
        b->times[i] = 1.7e9 + 0.001 * static_cast<double>(i);
        b->values[i] = y;
    }
    b->valueIndex.extend(b->values);
    return b;
}

static long rssKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

static void redrawCase(int runs, std::size_t points) {
    Ui::MetricChart chart(QStringLiteral("loss"));
    chart.resize(900, 500);
    for (int r = 0; r < runs; ++r)
        chart.addCurve({r + 1, QStringLiteral("run %1").arg(r + 1), QColor::fromHsv(r * 37 % 360, 200, 200),
                        randomWalk(points, static_cast<unsigned>(r + 1)), 0});
    QImage image(chart.size(), QImage::Format_ARGB32_Premultiplied);
    std::vector<double> redraw, repaint;
    for (int i = 0; i < 21; ++i) {
        // A new zoom each time, so nothing is reused but the block ranges.
        const double span = static_cast<double>(points) * (0.3 + 0.7 * ((i * 7) % 10) / 10.0);
        chart.setXRange(0, span);
        QElapsedTimer t;
        t.start();
        chart.redrawNow(); // reduce
        QPainter p(&image);
        chart.render(&p);
        p.end();
        redraw.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        t.restart();
        QPainter again(&image);
        chart.render(&again);
        again.end();
        repaint.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
    }
    std::printf("%3d runs x %zu points: redraw median %.1f ms (p95 %.1f), repaint alone median %.1f ms\n",
                runs, points, median(redraw), percentile(redraw, 0.95), median(repaint));
}

// Opening the compare view on `runs` ended runs of `points` points each, from kilnd: the runs' followers
// (RunFollower, as ComparePage uses them) bring every point into the series buffers, then one chart draws all
// curves. Timed from the followers' start to the painted image.
static void compareCase(int runs, std::int64_t points) {
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-compare-" + std::to_string(::getpid()));
    fs::create_directories(root / "src");
    std::ofstream(root / "src" / "noop.py") << "pass\n";
    auto info = Workspace::ensureServer(root / "ws");
    Api::Client client(info.url, info.token);
    Api::SubmitRequest req;
    req.experiment = "bench";
    req.sourceDir = root / "src";
    req.script = "noop.py";
    std::vector<qint64> ids;
    for (int r = 0; r < runs; ++r) {
        const auto id = client.submit(req)["id"].get<std::int64_t>();
        std::mt19937_64 rng(static_cast<unsigned>(r));
        std::normal_distribution<double> noise(0, 1);
        double y = 0;
        for (std::int64_t done = 0; done < points; done += 200'000) {
            Metrics::Columns batch;
            for (std::int64_t i = done; i < std::min(points, done + 200'000); ++i)
                batch.add("loss", i, 1.7e9 + 0.001 * static_cast<double>(i), y += noise(rng));
            client.logMetrics(id, batch);
        }
        ids.push_back(id);
    }
    for (auto id :
         ids) // ended, as a compared run usually is (the follower then stops once it has everything)
        for (int i = 0;
             i < 200 && !Runs::isTerminal(Runs::statusFromString(client.run(id)["status"].get<std::string>())
                                              .value_or(Runs::RunStatus::Queued));
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // As the compare page opens them: each run's overview (kilnd's level of detail) is drawn first, then its
    // points replace it.
    Ui::MetricChart chart(QStringLiteral("loss"));
    chart.resize(900, 500);
    std::map<qint64, Ui::SeriesBuffers> buffers;
    std::vector<std::unique_ptr<Ui::RunFollower>> followers;
    QElapsedTimer t;
    t.start();
    std::set<qint64> pictured, complete;
    double drawnMs = 0;
    QEventLoop loop;
    const auto draw = [&chart]() {
        chart.redrawNow();
        QImage image(chart.size(), QImage::Format_ARGB32_Premultiplied);
        QPainter p(&image);
        chart.render(&p);
    };
    const bool trace = std::getenv("KILN_BENCH_TRACE") != nullptr;
    for (auto id : ids) {
        auto follower = std::make_unique<Ui::RunFollower>(QString::fromStdString(info.url),
                                                          QString::fromStdString(info.token), id);
        const auto arrived = [&, id](const Metrics::Columns& batch, bool overview) {
            if (trace)
                std::printf("  %.0f ms: run %lld %s (%zu points)\n",
                            static_cast<double>(t.nsecsElapsed()) / 1e6, static_cast<long long>(id),
                            overview ? "overview" : "points", batch.size());
            auto& mine = buffers[id];
            if (Ui::receive(mine, batch, overview).contains(QStringLiteral("loss")))
                chart.addCurve({id, QStringLiteral("run %1").arg(id),
                                QColor::fromHsv(int(id) * 37 % 360, 200, 200), mine[QStringLiteral("loss")],
                                0});
            if (pictured.insert(id).second && pictured.size() == ids.size()) {
                draw(); // every curve is on the screen
                drawnMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
            }
            const auto& loss = mine[QStringLiteral("loss")];
            if (!loss->preview && loss->size() == static_cast<std::size_t>(points) &&
                complete.insert(id).second && complete.size() == ids.size())
                loop.quit();
        };
        QObject::connect(follower.get(), &Ui::RunFollower::overview, &loop,
                         [arrived](const auto& batch) { arrived(*batch, true); });
        QObject::connect(follower.get(), &Ui::RunFollower::points, &loop,
                         [arrived](const auto& batch) { arrived(*batch, false); });
        follower->start();
        followers.push_back(std::move(follower));
    }
    QTimer::singleShot(600'000, &loop, &QEventLoop::quit);
    loop.exec();
    const double fetched = static_cast<double>(t.nsecsElapsed()) / 1e6;
    chart.dataAppended();
    draw();
    std::printf(
        "open compare on %d runs x %lld points from kilnd: all curves drawn in %.0f ms (overviews); every "
        "point in and drawn in %.0f ms (%.0f ms to bring them in%s)\n",
        runs, static_cast<long long>(points), drawnMs, static_cast<double>(t.nsecsElapsed()) / 1e6, fetched,
        complete.size() == ids.size() ? "" : "; TIMED OUT");
    followers.clear();
    client.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::error_code ec;
    fs::remove_all(root, ec);
}

// `loadRuns` other runs are fed 10,000 points/s each by client threads meanwhile (issue: "the studio stays
// responsive while following one of them").
static void liveCase(int loadRuns) {
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-charts-" + std::to_string(::getpid()));
    fs::create_directories(root / "src");
    std::ofstream(root / "src" / "fast.py")
        << "import time\nfrom kiln import Run\nrun = Run.get_context()\nstart = time.time()\n"
           "for i in range(150000):\n"
           "    run.log('loss', 1.0 / (i + 1), step=i)\n"
           "    ahead = start + i / 10000.0 - time.time()\n"
           "    if ahead > 0.002:\n        time.sleep(ahead)\n";
    auto info = Workspace::ensureServer(root / "ws");
    Api::Client client(info.url, info.token);
    Api::SubmitRequest req;
    req.experiment = "bench";
    req.sourceDir = root / "src";
    req.script = "fast.py";
    std::vector<std::int64_t> loaded;
    if (loadRuns > 0) {
        client.post("/api/v1/compute", {{"name", "wide"}, {"type", "local"}, {"max_nodes", loadRuns + 1}});
        std::ofstream(root / "src" / "idle.py") << "import time\ntime.sleep(120)\n";
        Api::SubmitRequest idle = req;
        idle.script = "idle.py";
        idle.compute = "wide";
        for (int r = 0; r < loadRuns; ++r)
            loaded.push_back(client.submit(idle)["id"].get<std::int64_t>());
        req.compute = "wide";
    }
    std::atomic<bool> loadDone{false};
    std::vector<std::thread> feeders;
    for (auto run : loaded)
        feeders.emplace_back([&, run] {
            // As Kiln's clients (the Python SDK, Client::logMetrics) send them: binary batches.
            Api::Client c(info.url, info.token);
            long step = 0;
            while (!loadDone) {
                const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
                Metrics::Columns batch;
                for (int i = 0; i < 1000; ++i, ++step)
                    batch.add("loss", step, 0, 1);
                c.logMetrics(run, batch);
                std::this_thread::sleep_until(next);
            }
        });
    const auto id = client.submit(req)["id"].get<std::int64_t>();

    Ui::MetricChart chart(QStringLiteral("loss"));
    chart.resize(900, 500);
    chart.show();
    auto buffer = std::make_shared<Ui::SeriesBuffer>();
    chart.addCurve({id, QStringLiteral("loss"), Qt::blue, buffer, 0});
    Ui::RunFollower follower(QString::fromStdString(info.url), QString::fromStdString(info.token), id);
    std::vector<double> latencies, lag;
    bool ended = false;
    QObject::connect(&follower, &Ui::RunFollower::feed, &chart,
                     [&](const std::shared_ptr<const nlohmann::json>& a) {
                         if (a->contains("metrics") && (*a)["metrics"].contains("loss")) {
                             const auto& s = (*a)["metrics"]["loss"];
                             const auto steps = s["steps"].get<std::vector<double>>();
                             const auto times = s["timestamps"].get<std::vector<double>>();
                             const auto values = s["values"].get<std::vector<double>>();
                             buffer->append(steps.data(), times.data(), values.data(), steps.size());
                             chart.dataAppended();
                         }
                         const auto status = (*a)["run"]["status"].get<std::string>();
                         ended = status == "Completed" || status == "Failed" || status == "Canceled";
                     });
    QObject::connect(&chart, &Ui::MetricChart::painted, &chart, [&] {
        if (!buffer->times.empty()) {
            const double now =
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            latencies.push_back((now - buffer->times.back()) * 1000);
        }
    });
    QElapsedTimer tick;
    tick.start();
    QTimer probe;
    probe.setInterval(10);
    QObject::connect(&probe, &QTimer::timeout, &chart, [&] {
        lag.push_back(std::max(0.0, static_cast<double>(tick.nsecsElapsed()) / 1e6 - 10));
        tick.restart();
    });
    probe.start();
    follower.start();
    QElapsedTimer wall;
    wall.start();
    while (!ended && wall.elapsed() < 60000)
        QApplication::processEvents(QEventLoop::AllEvents, 50);
    const double seconds = static_cast<double>(wall.elapsed()) / 1000;
    if (loadRuns)
        std::printf("while %d other runs are fed 10,000 points/s each:\n  ", loadRuns);
    std::printf(
        "live run logging 10k points/s: %zu points in %.1f s, logged->painted p50 %.0f ms, p95 %.0f ms, "
        "max %.0f ms over %zu paints\n",
        buffer->size(), seconds, percentile(latencies, 0.5), percentile(latencies, 0.95),
        percentile(latencies, 1.0), latencies.size());
    std::printf(
        "%sUI responsiveness meanwhile: a 10 ms timer fired late by p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        loadRuns ? "  " : "", percentile(lag, 0.5), percentile(lag, 0.99), percentile(lag, 1.0));
    loadDone = true;
    for (auto& t : feeders)
        t.join();
    for (auto run : loaded)
        client.post("/api/v1/runs/" + std::to_string(run) + "/cancel", nlohmann::json::object());
    client.post("/api/v1/server/shutdown", nlohmann::json::object());
    std::error_code ec;
    fs::remove_all(root, ec);
}

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen"); // raster painting, as on a desktop without GPU help
    QApplication app(argc, argv);
    const std::size_t points = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
    const std::string only = argc > 3 ? argv[3] : "";
    if (only.empty() || only == "redraw") {
        const long before = rssKb();
        auto b = randomWalk(points, 1);
        const long after = rssKb();
        std::printf(
            "memory per 1,000,000 points: %.1f MB in the buffer (steps, times, values + block ranges), "
            "RSS +%.1f MB\n",
            b->memoryBytes() * 1e6 / points / 1e6, (after - before) / 1024.0 * 1e6 / points);
        for (int runs : {1, 10, 100})
            redrawCase(runs, points);
    }
    if (only.empty() || only == "compare")
        compareCase(10, static_cast<std::int64_t>(points));
    if (only.empty() || only == "live") {
        liveCase(0);
        liveCase(argc > 2 ? std::stoi(argv[2]) : 50);
    }
    return 0;
}
