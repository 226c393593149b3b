// bench_runs_table: the runs table's server side on a big workspace. Fills a workspace with N runs (default
// 100,000) in three experiments, each ended, with two params (one logged as a number, one as text) and the
// summaries of two metrics, written straight into its SQLite file in one transaction (as if they had run);
// then starts kilnd on it and times, over HTTP from one client, what the studio asks for: the first page
// (200 runs, newest first) of the workspace and of one experiment, the same sorted by a metric and by a
// param, a filtered page, a page deep in the list, the experiments with their counts, and the column names.
// Prints p50 and max of 15 tries each. Run it by hand: build/ci/bin/bench_runs_table [N [--keep]]
#include "api/Client.h"
#include "api/Http.h"
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

static void fill(const fs::path& dir, int runs) {
    Kiln::Store::Database db(dir / "kiln.db");
    auto lock = db.lock();
    Kiln::Store::Database::Transaction tx(db);
    const double now = 1.7e9;
    for (const char* e : {"mnist", "cifar", "imdb"})
        db.prepare("INSERT INTO experiments(name, created) VALUES(?, ?)").bind(1, e).bind(2, now).exec();
    auto run = db.prepare(
        "INSERT INTO runs(experiment_id, name, status, script, args, snapshot, created, started, ended, "
        "token_hash, params) VALUES(?, ?, 'Completed', 'train.py', '[]', ?, ?, ?, ?, '', ?)");
    auto key = db.prepare("INSERT INTO metric_keys(run_id, name, next_step, count, last_value, last_step, "
                          "min_value, max_value) VALUES(?, ?, 20, 20, ?, 19, ?, ?)");
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    const std::string snapshot(64, 'a');
    for (int i = 1; i <= runs; ++i) {
        const double lr = std::exp(-9 + 7 * u(rng));
        const int batch = 16 << static_cast<int>(u(rng) * 5);
        const Json params = {{"learning_rate", lr}, {"batch_size", std::to_string(batch)}};
        const double created = now + i;
        run.reset();
        run.bind(1, static_cast<std::int64_t>(i % 3 + 1))
            .bind(2, "run " + std::to_string(i))
            .bind(3, snapshot)
            .bind(4, created)
            .bind(5, created + 1)
            .bind(6, created + 1 + 60 * u(rng))
            .bind(7, params.dump())
            .exec();
        const auto id = db.lastInsertId();
        const double acc = 0.5 + 0.45 * u(rng);
        const double loss = 2 * (1 - acc);
        for (auto [name, last, lo, hi] :
             {std::tuple{"accuracy", acc, 0.1, acc + 0.01}, std::tuple{"loss", loss, loss - 0.01, 2.3}}) {
            key.reset();
            key.bind(1, id).bind(2, name).bind(3, last).bind(4, lo).bind(5, hi).exec();
        }
    }
    tx.commit();
}

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::stoi(argv[1]) : 100000;
    const fs::path dir = fs::temp_directory_path() / ("kiln-bench-runs-table-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto start = Clock::now();
    fill(dir, runs);
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
