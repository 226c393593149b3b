// bench_system_metrics: what per-run system metrics cost. (1) The supervisor's work per sample: reading a
// run's process tree from /proc (ProcessSampler) and appending the line (SystemRecorder), for a tree of 1 and
// of 9 processes, in CPU time, and what that is at one sample a second and five. (2) What a run notices: a
// CPU-bound script (a fixed pure-Python loop, timing itself) run through kilnd with system metrics off, every
// 1 s and every 0.2 s, alternately, `rounds` times (default 5); prints each setting's median and the
// difference. Arguments: rounds (5). Needs python3.
#include "api/Client.h"
#include "runs/ProcessSampler.h"
#include "runs/SystemMetrics.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Kiln::Json;

static double cpuSeconds() {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// A process with `children` sleeping children (python: one interpreter per process, like a data loader).
static pid_t tree(int children) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0); // a group of its own, killed whole at the end
        const std::string code =
            "import subprocess, time\nps = [subprocess.Popen(['sleep', '60']) for _ in range(" +
            std::to_string(children) + ")]\ntime.sleep(60)\n";
        ::execlp("python3", "python3", "-c", code.c_str(), nullptr);
        ::_exit(127);
    }
    return pid;
}

static void samplingCost(const fs::path& dir, int children) {
    const pid_t root = tree(children);
    std::this_thread::sleep_for(std::chrono::milliseconds(800)); // the children are up
    Kiln::Runs::ProcessSampler sampler(root);
    Kiln::Runs::SystemRecorder recorder(dir / "system.jsonl", sampler.sample(), nullptr);
    constexpr int kSamples = 300;
    const double before = cpuSeconds();
    std::size_t seen = 0;
    for (int i = 0; i < kSamples; ++i) {
        const auto s = sampler.sample();
        seen = s.pids.size();
        recorder.record(s);
    }
    const double perSample = (cpuSeconds() - before) / kSamples;
    std::printf("sampling a tree of %zu processes: %.2f ms CPU per sample = %.3f%% of one core at 1 s, "
                "%.2f%% at 0.2 s\n",
                seen, perSample * 1000, perSample * 100, perSample * 5 * 100);
    ::kill(-root, SIGKILL);
    ::waitpid(root, nullptr, 0);
}

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::stoi(argv[1]) : 5;
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-system-" + std::to_string(::getpid()));
    fs::create_directories(root / "src");
    samplingCost(root, 0);
    samplingCost(root, 8);

    std::ofstream(root / "src" / "work.py")
        << "import time\nfrom kiln import Run\nstart = time.perf_counter()\nx = 0\n"
           "for i in range(30_000_000):\n    x += i\nRun.get_context().log('work_seconds', "
           "time.perf_counter() - "
           "start)\nRun.get_context().flush()\n";
    auto info = Kiln::Workspace::ensureServer(root / "ws");
    Kiln::Api::Client client(info.url, info.token);
    const std::vector<double> settings = {0, 1, 0.2};
    std::map<double, std::vector<double>> seconds;
    for (int r = 0; r < rounds; ++r) {
        for (double interval : settings) {
            Kiln::Api::SubmitRequest req;
            req.experiment = "overhead";
            req.sourceDir = root / "src";
            req.script = "work.py";
            req.systemInterval = interval;
            const auto id = client.submit(req)["id"].get<std::int64_t>();
            Json run;
            while (!((run = client.run(id))["ended"].is_number()))
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const auto h =
                client.get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=work_seconds");
            if (h["series"]["values"].empty()) {
                std::fprintf(stderr, "run %lld logged no work_seconds (%s)\n", static_cast<long long>(id),
                             run["status"].get<std::string>().c_str());
                continue;
            }
            seconds[interval].push_back(h["series"]["values"][0].get<double>());
        }
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    };
    const double off = median(seconds[0]);
    for (double interval : settings) {
        const double m = median(seconds[interval]);
        std::printf("CPU-bound run, system metrics %-10s median %.3f s over %zu runs (%+.1f%% against off)\n",
                    interval == 0 ? "off:" : (interval == 1 ? "every 1 s:" : "every 0.2s:"), m,
                    seconds[interval].size(), off > 0 ? (m - off) / off * 100 : 0.0);
    }
    client.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Kiln::Util::removeTree(root);
    return 0;
}
