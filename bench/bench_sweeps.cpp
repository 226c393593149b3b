// bench_sweeps: what a sweep costs. (1) Scheduling overhead per trial: a sweep of a trivial script one trial
// at a time; for each trial after the first, the time from the previous trial's end (its node freed) to
// this one leaving the queue, and to its process starting. (2) The Fashion-MNIST sample (--limit) swept
// twice with the same seed (so the same trials), without and with a bandit policy: the CPU-seconds the
// machine spent (from /proc/stat, so run it on an idle machine), the trials' summed run time, how many were
// stopped early, and the best accuracy. Arguments: trials (24), concurrent (2), epochs (8), limit (10000).
#include "api/Client.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Kiln::Json;

static double cpuSeconds() { // user + nice + system of the whole machine
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long user = 0, nice = 0, system = 0;
    stat >> cpu >> user >> nice >> system;
    return static_cast<double>(user + nice + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

static Json waitSweep(Kiln::Api::Client& c, std::int64_t id) {
    for (;;) {
        auto s = c.get("/api/v1/sweeps/" + std::to_string(id));
        if (s["status"] != "Running")
            return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

static double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

int main(int argc, char** argv) {
    const int trials = argc > 1 ? std::stoi(argv[1]) : 24;
    const int concurrent = argc > 2 ? std::stoi(argv[2]) : 2;
    const std::string epochs = argc > 3 ? argv[3] : "8";
    const std::string limit = argc > 4 ? argv[4] : "10000";
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-sweeps-" + std::to_string(::getpid()));
    fs::create_directories(root / "quick");
    std::ofstream(root / "quick" / "quick.py") << "import sys\nimport kiln\nkiln.Run.get_context().log('m', "
                                                  "float(sys.argv[2]))\n";
    auto info = Kiln::Workspace::ensureServer(root / "ws");
    Kiln::Api::Client c(info.url, info.token);
    c.post("/api/v1/compute", {{"name", "wide"}, {"type", "local"}, {"max_nodes", std::max(concurrent, 2)}});

    // (1) Overhead per trial.
    std::vector<std::string> warnings;
    Json quick = {{"experiment", "overhead"},
                  {"script", "quick.py"},
                  {"compute", "wide"},
                  {"snapshot", c.uploadSnapshot(root / "quick", warnings)},
                  {"parameters", {{"--x", "uniform(0, 1)"}}},
                  {"primary_metric", {{"name", "m"}}},
                  {"max_total_trials", 12},
                  {"max_concurrent_trials", 1}};
    auto s = waitSweep(c, c.post("/api/v1/sweeps", quick)["id"].get<std::int64_t>());
    std::vector<double> toDispatch, toStart;
    Json previous;
    for (const auto& t : s["trials"]) {
        auto run = c.run(t["run"].get<std::int64_t>());
        if (!previous.is_null() && !run["started"].is_null()) {
            toDispatch.push_back((run["dispatched"].get<double>() - previous["ended"].get<double>()) * 1000);
            toStart.push_back((run["started"].get<double>() - previous["ended"].get<double>()) * 1000);
        }
        previous = run;
    }
    std::printf("scheduling overhead per trial (%zu trials, one at a time): previous trial ended -> next "
                "dispatched p50 %.1f ms, max %.1f ms; -> next process started p50 %.1f ms, max %.1f ms\n",
                toDispatch.size(), percentile(toDispatch, 0.5), percentile(toDispatch, 1.0),
                percentile(toStart, 0.5), percentile(toStart, 1.0));

    // (2) The sample, with and without early termination.
    const fs::path sample = fs::path(KILN_SAMPLE_DIR);
    const auto snapshot = c.uploadSnapshot(sample, warnings);
    for (const bool bandit : {false, true}) {
        Json body = {{"experiment", bandit ? "fm-sweep-bandit" : "fm-sweep"},
                     {"script", "train.py"},
                     {"args", {"--epochs", epochs, "--limit", limit, "--log-every", "10"}},
                     {"compute", "wide"},
                     {"snapshot", snapshot},
                     {"parameters",
                      {{"--learning-rate", "loguniform(-9.2, -2.3)"},
                       {"--batch-size", "choice(32, 64, 128)"},
                       {"--first-layer-neurons", "choice(64, 128, 300)"}}},
                     {"seed", 7},
                     {"primary_metric", {{"name", "accuracy"}, {"goal", "maximize"}}},
                     {"max_total_trials", trials},
                     {"max_concurrent_trials", concurrent}};
        if (bandit)
            body["early_termination"] = {
                {"policy", "bandit"}, {"slack_factor", 0.15}, {"delay_evaluation", 3}};
        const double cpu0 = cpuSeconds();
        const auto wall0 = std::chrono::steady_clock::now();
        auto done = waitSweep(c, c.post("/api/v1/sweeps", body)["id"].get<std::int64_t>());
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
        const double cpu = cpuSeconds() - cpu0;
        double runSeconds = 0;
        for (const auto& t : done["trials"]) {
            auto run = c.run(t["run"].get<std::int64_t>());
            if (!run["started"].is_null() && !run["ended"].is_null())
                runSeconds += run["ended"].get<double>() - run["started"].get<double>();
        }
        std::printf(
            "fashion-mnist, %d trials, %d at once, %s epochs on %s images, %s: %s in %.0f s; %.0f CPU-s, "
            "%.0f trial-s; %d stopped early; best accuracy %.4f (run %lld)\n",
            trials, concurrent, epochs.c_str(), limit.c_str(),
            bandit ? "bandit (slack 15%, delay 3)" : "no policy", done["status"].get<std::string>().c_str(),
            wall, cpu, runSeconds, done["counts"]["stopped_early"].get<int>(),
            done["best"].is_null() ? 0.0 : done["best"]["metric"].get<double>(),
            done["best"].is_null() ? 0LL : static_cast<long long>(done["best"]["run"].get<std::int64_t>()));
        std::fflush(stdout);
    }
    c.post("/api/v1/server/shutdown", Json::object());
    return 0;
}
