// bench_faults: a soak under faults. N runs (their scripts idle) each get a client thread logging points
// through the exactly-once path (Client::logMetrics: every batch carries the client's id and sequence, and is
// sent again after a lost connection or reply) while kilnd is killed -9 every few seconds and started again.
// Prints, per run and in all: points acknowledged, stored, duplicated (must be 0) and lost (must be 0), and
// the longest time a run's client waited for an acknowledgement across the kills. Arguments: runs (3),
// seconds (30), kill every S seconds (3), points per second per run (2000).
#include "api/Client.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::stoi(argv[1]) : 3;
    const int seconds = argc > 2 ? std::stoi(argv[2]) : 30;
    const double killEvery = argc > 3 ? std::stod(argv[3]) : 3.0;
    const int rate = argc > 4 ? std::stoi(argv[4]) : 2000;
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-faults-" + std::to_string(::getpid()));
    fs::create_directories(root / "src");
    std::ofstream(root / "src" / "idle.py") << "import sys, time\ntime.sleep(float(sys.argv[1]))\n";
    const auto ws = root / "ws";
    auto info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client admin(info.url, info.token);
    admin.post("/api/v1/compute", {{"name", "wide"}, {"type", "local"}, {"max_nodes", runs}});
    std::vector<std::int64_t> ids;
    for (int r = 0; r < runs; ++r) {
        Kiln::Api::SubmitRequest req;
        req.experiment = "faults";
        req.sourceDir = root / "src";
        req.script = "idle.py";
        req.compute = "wide";
        req.args = {std::to_string(seconds + 60)};
        ids.push_back(admin.submit(req)["id"].get<std::int64_t>());
    }
    for (auto id : ids)
        while (admin.run(id)["status"] != "Running")
            std::this_thread::sleep_for(std::chrono::milliseconds(50));

    std::atomic<bool> stop{false};
    std::vector<std::int64_t> acknowledged(static_cast<std::size_t>(runs), 0);
    std::vector<double> longestWait(static_cast<std::size_t>(runs), 0);
    std::vector<int> failures(static_cast<std::size_t>(runs), 0);
    std::vector<std::thread> clients;
    const int perBatch = std::max(1, rate / 20); // a batch every 50 ms
    for (int r = 0; r < runs; ++r) {
        clients.emplace_back([&, r] {
            Kiln::Api::Client c(info.url, info.token, std::chrono::seconds(5));
            std::int64_t step = 0;
            while (!stop) {
                Kiln::Metrics::Columns points;
                for (int i = 0; i < perBatch; ++i)
                    points.add("f", step + i, 0, double(step + i));
                const auto t0 = Clock::now();
                try {
                    c.logMetrics(ids[static_cast<std::size_t>(r)], points, 60);
                    step += perBatch;
                    acknowledged[static_cast<std::size_t>(r)] = step;
                } catch (const std::exception& e) {
                    ++failures[static_cast<std::size_t>(r)]; // given up on: counted as lost below
                    std::fprintf(stderr, "run %lld: %s\n",
                                 static_cast<long long>(ids[static_cast<std::size_t>(r)]), e.what());
                }
                const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
                longestWait[static_cast<std::size_t>(r)] =
                    std::max(longestWait[static_cast<std::size_t>(r)], waited);
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }

    int kills = 0;
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::duration<double>(killEvery));
        if (auto running = Kiln::Workspace::readServerInfo(ws); running && running->pid > 0) {
            ::kill(static_cast<pid_t>(running->pid), SIGKILL);
            while (::kill(static_cast<pid_t>(running->pid), 0) == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            ++kills;
        }
        Kiln::Workspace::ensureServer(ws);
    }
    stop = true;
    for (auto& t : clients)
        t.join();

    info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client reader(info.url, info.token);
    std::int64_t totalAcked = 0, totalStored = 0, totalDuplicated = 0, totalLost = 0;
    double longest = 0;
    std::printf("bench_faults: %d runs, %d s, kilnd killed -9 %d times, %d points/s per run offered\n", runs,
                seconds, kills, rate);
    for (int r = 0; r < runs; ++r) {
        const auto id = ids[static_cast<std::size_t>(r)];
        auto h = reader.get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=f");
        const auto steps = h["series"]["steps"].get<std::vector<std::int64_t>>();
        const std::set<std::int64_t> distinct(steps.begin(), steps.end());
        const auto acked = acknowledged[static_cast<std::size_t>(r)];
        std::int64_t lost = 0;
        for (std::int64_t s = 0; s < acked; ++s)
            lost += distinct.count(s) ? 0 : 1;
        const auto duplicated = static_cast<std::int64_t>(steps.size() - distinct.size());
        std::printf("  run %-5lld acknowledged %8lld  stored %8zu  duplicated %4lld  lost %4lld  longest "
                    "wait %.2f s%s\n",
                    static_cast<long long>(id), static_cast<long long>(acked), steps.size(),
                    static_cast<long long>(duplicated), static_cast<long long>(lost),
                    longestWait[static_cast<std::size_t>(r)],
                    failures[static_cast<std::size_t>(r)] ? "  (some batches given up on)" : "");
        totalAcked += acked;
        totalStored += static_cast<std::int64_t>(steps.size());
        totalDuplicated += duplicated;
        totalLost += lost;
        longest = std::max(longest, longestWait[static_cast<std::size_t>(r)]);
        reader.post("/api/v1/runs/" + std::to_string(id) + "/cancel", Json::object());
    }
    std::printf("faults: logged %lld, stored %lld, duplicated %lld, lost %lld, longest gap %.2f s\n",
                static_cast<long long>(totalAcked), static_cast<long long>(totalStored),
                static_cast<long long>(totalDuplicated), static_cast<long long>(totalLost), longest);
    reader.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Kiln::Util::removeTree(root);
    return totalDuplicated == 0 && totalLost == 0 ? 0 : 1;
}
