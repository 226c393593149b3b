// bench_runs_table: the runs table's server side on a big workspace. Fills a workspace with N runs (default
// 100,000) in three experiments, each ended, with two params (one logged as a number, one as text) and the
// summaries of two metrics, written straight into its SQLite file in one transaction (as if they had run);
// then starts kilnd on it and times, over HTTP from one client, what the studio asks for: the first page
// (200 runs, newest first) of the workspace and of one experiment, the same sorted by a metric and by a
// param, a filtered page, a page deep in the list, the experiments with their counts, and the column names.
// Prints p50 and max of 15 tries each. Run it by hand: build/ci/bin/bench_runs_table [N [--keep]]
#include "api/Client.h"
#include "api/Http.h"
#include "FillRuns.h"
#include "store/Database.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

static double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::stoi(argv[1]) : 100000;
    const fs::path dir = fs::temp_directory_path() / ("kiln-bench-runs-table-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto start = Clock::now();
    fillRuns(dir, runs);
    std::printf("filled %d runs (3 experiments, 2 params, 2 metric summaries each) in %.1f s\n", runs,
                ms(Clock::now() - start) / 1000);
    auto info = Kiln::Workspace::ensureServer(dir, std::chrono::seconds(60));
    Kiln::Api::Client c(info.url, info.token);
    auto enc = [](const std::string& s) { return Kiln::Api::percentEncode(s); };
    const std::vector<std::pair<std::string, std::string>> queries = {
        {"first page, all runs", "limit=200"},
        {"first page, one experiment", "limit=200&experiment=mnist"},
        {"sorted by metrics.accuracy desc", "limit=200&order_by=" + enc("metrics.accuracy desc")},
        {"one experiment by max(metrics.accuracy)",
         "limit=200&experiment=cifar&order_by=" + enc("max(metrics.accuracy) desc")},
        {"sorted by params.batch_size (text)", "limit=200&order_by=" + enc("params.batch_size")},
        {"filter metrics & params, by accuracy",
         "limit=200&filter=" + enc("metrics.accuracy > 0.85 and params.learning_rate < 0.01") +
             "&order_by=" + enc("metrics.accuracy desc")},
        {"words (q=run 4242)", "limit=200&q=" + enc("run 4242")},
        {"a page at offset " + std::to_string(runs / 2), "limit=200&offset=" + std::to_string(runs / 2)},
        {"the tree's listing (5000 runs)", "limit=5000&metrics=0"},
        {"5000 runs with metric summaries", "limit=5000"},
    };
    std::printf("%-44s %9s %9s %9s\n", "query (HTTP, one client)", "p50 ms", "max ms", "total");
    auto time = [&](const std::string& label, const std::function<std::int64_t()>& call) {
        std::vector<double> times;
        std::int64_t total = 0;
        for (int i = 0; i < 15; ++i) {
            const auto t = Clock::now();
            total = call();
            times.push_back(ms(Clock::now() - t));
        }
        std::sort(times.begin(), times.end());
        std::printf("%-44s %9.1f %9.1f %9lld\n", label.c_str(), times[times.size() / 2], times.back(),
                    static_cast<long long>(total));
    };
    for (const auto& [label, q] : queries)
        time(label, [&, q = q] { return c.queryRuns(q).second; });
    time("experiments with their counts",
         [&] { return static_cast<std::int64_t>(c.get("/api/v1/experiments").size()); });
    time("column names (newest 5000 runs)",
         [&] { return static_cast<std::int64_t>(c.get("/api/v1/runs/columns")["params"].size()); });
    c.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (argc > 2 && std::string(argv[2]) == "--keep")
        std::printf("kept %s\n", dir.c_str());
    else
        fs::remove_all(dir);
}
