// bench_history: reading a metric's history from a real kilnd over loopback HTTP: 100k and 1M points, whole
// (JSON and binary columns, decoded in the client) and at level of detail (1,000 pixel columns over the
// whole range and over a tenth of it). Prints one line per figure: the median of several reads.
#include "api/Client.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static void report(const char* what, int reads, const std::function<std::size_t()>& read) {
    std::vector<double> ms;
    std::size_t points = 0;
    for (int i = 0; i < reads; ++i) {
        const auto t0 = Clock::now();
        points = read();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-44s median %7.1f ms (min %.1f, max %.1f; %zu points answered)\n", what, ms[ms.size() / 2],
                ms.front(), ms.back(), points);
}

int main() {
    const fs::path ws = fs::temp_directory_path() / ("kiln-bench-history-" + std::to_string(::getpid()));
    auto info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client c(info.url, info.token);
    std::printf("kilnd %s on %s\n", c.health()["version"].get<std::string>().c_str(), info.url.c_str());
    const fs::path src = ws / "bench-src";
    fs::create_directories(src);
    {
        std::FILE* f = std::fopen((src / "noop.py").c_str(), "w");
        std::fputs("pass\n", f);
        std::fclose(f);
    }
    for (const std::int64_t size : {100'000, 1'000'000}) {
        Kiln::Api::SubmitRequest r;
        r.experiment = "bench";
        r.sourceDir = src;
        r.script = "noop.py";
        const auto id = c.submit(r)["id"].get<std::int64_t>();
        for (std::int64_t done = 0; done < size; done += 100'000) {
            Kiln::Metrics::Columns batch;
            for (std::int64_t i = done; i < done + 100'000; ++i)
                batch.add("loss", i, 1700000000.0 + double(i), 1.0 / double(i + 1) + double(i % 7) * 1e-3);
            c.logMetrics(id, batch);
        }
        const auto path = "/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=loss";
        const auto label = [&](const char* what) {
            static char text[96];
            std::snprintf(text, sizeof text, "%s %s", size == 100'000 ? "100k:" : "1M:  ", what);
            return text;
        };
        const int reads = size == 100'000 ? 15 : 5;
        report(label("whole, JSON (parsed)"), reads, [&] { return c.get(path)["series"]["values"].size(); });
        report(label("whole, binary columns (decoded)"), reads, [&] { return c.history(id, "loss").size(); });
        report(label("LOD, 1000 columns over everything"), reads * 2,
               [&] { return c.history(id, "loss", std::nullopt, std::nullopt, 1000).size(); });
        report(label("LOD, 1000 columns over a tenth"), reads * 2,
               [&] { return c.history(id, "loss", double(size) * 0.45, double(size) * 0.55, 1000).size(); });
    }
    c.post("/api/v1/server/shutdown", Kiln::Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::error_code ec;
    fs::remove_all(ws, ec);
    return 0;
}
