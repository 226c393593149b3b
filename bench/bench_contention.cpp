// bench_contention: does metric ingest wait for heavy readers? A workspace of 20,000 ended runs (written
// straight into its database, FillRuns.h) and one run holding a 1M-point metric; one client logs 10-point
// binary batches for 10 s, first alone, then while two clients read in a loop: a filtered, ordered query
// over the 20,000 runs, and the 1M-point history as JSON. Prints the batches' acknowledgement p50/p99/max
// and batches/s for both, the readers' own p50, and kilnd's resident memory after the readers stop and a
// minute later (the DESIGN.md targets: ingest p99 with readers within 2x of alone; back under 100 MB).
// Run it by hand: build/ci/bin/bench_contention [runs [seconds]]
#include "api/Client.h"
#include "api/Http.h"
#include "FillRuns.h"
#include "metrics/Columns.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

namespace {

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double pct(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

long rssMb(long pid) {
    const auto status = Kiln::Util::tryReadFile("/proc/" + std::to_string(pid) + "/status").value_or("");
    const auto at = status.find("VmRSS:");
    return at == std::string::npos ? -1 : std::stol(status.substr(at + 6)) / 1024;
}

struct Figures {
    std::vector<double> acks;
    double seconds = 0;
};

// 10-point binary batches into `run` for `seconds`, one at a time; each batch's time to its acknowledgement.
Figures ingest(const Kiln::Workspace::ServerInfo& info, std::int64_t run, int seconds) {
    Kiln::Api::Client c(info.url, info.token);
    const auto path = "/api/v1/runs/" + std::to_string(run) + "/metrics";
    const std::string type(Kiln::Metrics::kBinaryType);
    Figures f;
    const auto start = Clock::now();
    std::int64_t step = 0;
    while (Clock::now() - start < std::chrono::seconds(seconds)) {
        Kiln::Metrics::Columns batch;
        for (int i = 0; i < 10; ++i, ++step)
            batch.add("ingest", step, 0, static_cast<double>(step));
        const auto body = Kiln::Metrics::encode(batch);
        const auto t = Clock::now();
        if (c.raw("POST", path, body, type).first != 200)
            std::fprintf(stderr, "a batch was refused\n");
        f.acks.push_back(ms(Clock::now() - t));
    }
    f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return f;
}

void print(const char* label, const Figures& f) {
    std::printf("%-34s p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms  %6.0f batches/s\n", label, pct(f.acks, 0.5),
                pct(f.acks, 0.99), f.acks.empty() ? 0 : *std::max_element(f.acks.begin(), f.acks.end()),
                static_cast<double>(f.acks.size()) / f.seconds);
}

} // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::stoi(argv[1]) : 20000;
    const int seconds = argc > 2 ? std::stoi(argv[2]) : 10;
    const fs::path dir = fs::temp_directory_path() / ("kiln-bench-contention-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fillRuns(dir, runs);
    auto info = Kiln::Workspace::ensureServer(dir, std::chrono::seconds(60));
    Kiln::Api::Client admin(info.url, info.token);
    // A million points of one key in run 2 (binary batches of 100,000).
    const auto historyRun = std::string("/api/v1/runs/2");
    for (int b = 0; b < 10; ++b) {
        Kiln::Metrics::Columns batch;
        for (int i = 0; i < 100000; ++i)
            batch.add("loss", b * 100000 + i, 1.7e9 + b * 100000 + i, 1.0 / (1 + b * 100000 + i));
        admin.raw("POST", historyRun + "/metrics", Kiln::Metrics::encode(batch),
                  std::string(Kiln::Metrics::kBinaryType));
    }
    std::printf("%d runs, a 1M-point history; kilnd %ld MB\n", runs, rssMb(info.pid));

    print("ingest alone", ingest(info, 1, seconds));

    std::atomic<bool> stop{false};
    std::vector<double> queryMs, historyMs;
    std::thread query([&] {
        Kiln::Api::Client c(info.url, info.token);
        const auto q = "limit=200&filter=" +
                       Kiln::Api::percentEncode("metrics.accuracy > 0.85 and params.learning_rate < 0.01") +
                       "&order_by=" + Kiln::Api::percentEncode("metrics.accuracy desc");
        while (!stop) {
            const auto t = Clock::now();
            c.queryRuns(q);
            queryMs.push_back(ms(Clock::now() - t));
        }
    });
    std::thread history([&] {
        Kiln::Api::Client c(info.url, info.token);
        while (!stop) {
            const auto t = Clock::now();
            c.raw("GET", historyRun + "/metrics/history?key=loss");
            historyMs.push_back(ms(Clock::now() - t));
        }
    });
    const auto busy = ingest(info, 1, seconds);
    stop = true;
    query.join();
    history.join();
    print("ingest while two clients read", busy);
    std::printf("readers: filtered query p50 %.0f ms (%zu), 1M-point JSON history p50 %.0f ms (%zu)\n",
                pct(queryMs, 0.5), queryMs.size(), pct(historyMs, 0.5), historyMs.size());
    std::printf("kilnd resident: %ld MB when the readers stop", rssMb(info.pid));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    std::printf(", %ld MB a minute later\n", rssMb(info.pid));
    admin.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    fs::remove_all(dir);
}
