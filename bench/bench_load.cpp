// bench_load: many runs logging at once into one kilnd. 50 real runs (their scripts idle) each get a client
// thread offering 10,000 points/s in batches every 100 ms for 60 s (arguments: runs, points/s, seconds, and
// the format: binary, as Kiln's clients send, or json).
// Prints the points offered and stored, the acknowledgement latency (p50/p99/max), the throughput kept up,
// and how late a long-poll follower of one run sees new points (what the studio's live view waits).
#include "api/Client.h"
#include "metrics/Columns.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

static double pct(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

static double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::stoi(argv[1]) : 50;
    const int rate = argc > 2 ? std::stoi(argv[2]) : 10000;
    const int seconds = argc > 3 ? std::stoi(argv[3]) : 60;
    const bool json = argc > 4 && std::string(argv[4]) == "json";
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-load-" + std::to_string(::getpid()));
    fs::create_directories(root / "src");
    std::ofstream(root / "src" / "idle.py") << "import sys, time\ntime.sleep(float(sys.argv[1]))\n";
    auto info = Kiln::Workspace::ensureServer(root / "ws");
    Kiln::Api::Client admin(info.url, info.token);
    // Room for every run at once on the local target.
    admin.post("/api/v1/compute", {{"name", "wide"}, {"type", "local"}, {"max_nodes", runs}});
    std::vector<std::int64_t> ids;
    for (int r = 0; r < runs; ++r) {
        Kiln::Api::SubmitRequest req;
        req.experiment = "load";
        req.sourceDir = root / "src";
        req.script = "idle.py";
        req.compute = "wide";
        req.args = {std::to_string(seconds + 30)};
        ids.push_back(admin.submit(req)["id"].get<std::int64_t>());
    }
    for (auto id : ids)
        while (admin.run(id)["status"] != "Running")
            std::this_thread::sleep_for(std::chrono::milliseconds(50));

    std::mutex mutex;
    std::vector<double> acks;
    std::atomic<long long> offered{0}, refused{0};
    std::atomic<bool> done{false};
    const int perBatch = rate / 10;
    const auto start = Clock::now();
    std::vector<std::thread> senders;
    for (int r = 0; r < runs; ++r) {
        senders.emplace_back([&, r] {
            Kiln::Api::Client c(info.url, info.token);
            const auto path = "/api/v1/runs/" + std::to_string(ids[static_cast<std::size_t>(r)]) + "/metrics";
            std::vector<double> mine;
            long long step = 0;
            for (int tick = 0; tick < seconds * 10; ++tick) {
                std::this_thread::sleep_until(start + std::chrono::milliseconds(100 * tick));
                const double ts = now();
                std::string body;
                if (json) {
                    body = R"({"points":[)";
                    for (int i = 0; i < perBatch; ++i, ++step)
                        body += (i ? "," : "") + std::string(R"({"key":"loss","value":)") +
                                std::to_string(step % 977) + R"(,"step":)" + std::to_string(step) +
                                R"(,"timestamp":)" + std::to_string(ts) + "}";
                    body += "]}";
                } else {
                    Kiln::Metrics::Columns batch;
                    for (int i = 0; i < perBatch; ++i, ++step)
                        batch.add("loss", step, ts, static_cast<double>(step % 977));
                    body = Kiln::Metrics::encode(batch);
                }
                const std::string type = json ? "application/json" : std::string(Kiln::Metrics::kBinaryType);
                for (;;) { // a refused batch (429) is sent again, as the Python client does
                    const auto t = Clock::now();
                    auto [status, answer] = c.raw("POST", path, body, type);
                    mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
                    if (status == 200)
                        break;
                    ++refused;
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                }
                offered += perBatch;
            }
            std::lock_guard g(mutex);
            acks.insert(acks.end(), mine.begin(), mine.end());
        });
    }
    // One follower, like the studio's run page on the first run.
    std::vector<double> lag;
    std::thread follower([&] {
        Kiln::Api::Client c(info.url, info.token);
        Kiln::Api::FeedCursor cursor;
        while (!done) {
            auto f = c.feed(ids[0], cursor, 2000);
            const double t = now();
            cursor.metricsAfter = f["cursor"]["metrics_after"];
            cursor.logsAfter = f["cursor"]["logs_after"];
            cursor.statusSeq = f["cursor"]["status_seq"];
            if (f["metrics"].contains("loss") && !f["metrics"]["loss"]["timestamps"].empty())
                lag.push_back((t - f["metrics"]["loss"]["timestamps"].back().get<double>()) * 1000);
        }
    });
    for (auto& t : senders)
        t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    done = true;
    follower.join();
    long long stored = 0;
    for (auto id : ids)
        for (const auto& k : admin.get("/api/v1/runs/" + std::to_string(id) + "/metrics"))
            if (k["key"] == "loss") // (not the runs' own system metrics, sys/...)
                stored += k["count"].get<long long>();
    std::printf("%s: %d runs x %d points/s for %d s: offered %lld points, stored %lld (%s), in %.1f s = %.0f "
                "points/s\n",
                json ? "JSON" : "binary", runs, rate, seconds, offered.load(), stored,
                stored == offered.load() ? "every one" : "MISSING", elapsed,
                static_cast<double>(stored) / elapsed);
    std::printf(
        "acknowledgement latency per batch of %d: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu requests, "
        "%lld refused with 429)\n",
        perBatch, pct(acks, 0.5), pct(acks, 0.99), pct(acks, 1.0), acks.size(), refused.load());
    std::printf(
        "a follower of one run (the studio's live view) saw new points after p50 %.0f ms, p99 %.0f ms\n",
        pct(lag, 0.5), pct(lag, 0.99));
    for (auto id : ids)
        admin.post("/api/v1/runs/" + std::to_string(id) + "/cancel", Json::object());
    admin.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Kiln::Util::removeTree(root);
    return stored == offered.load() ? 0 : 1;
}
