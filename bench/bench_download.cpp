// bench_download: a model of N MB (default 1024; second argument: in that many files, default 1) registered
// from a real run in a real kilnd, then fetched over loopback: the raw HTTP stream alone, and the verified
// download (SHA-256 of every byte, written to a folder) that `kiln model download` and the studio use. Prints
// one line per figure. KILN_BENCH_CONNECTIONS and KILN_BENCH_WINDOW_MB try other numbers of range requests in
// flight and range sizes.
#include "api/Client.h"
#include "transfer/Download.h"
#include "util/Crypto.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

// This process's CPU time (user + system), in seconds: steadier than wall time on a shared host.
static double cpuSeconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
    const std::uint64_t megabytes = argc > 1 ? std::stoull(argv[1]) : 1024;
    const int fileCount = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-dl-" + std::to_string(::getpid()));
    const fs::path ws = root / "ws", src = root / "src";
    fs::create_directories(src);
    {
        std::mt19937_64 rng(7);
        std::vector<std::uint64_t> chunk((1 << 20) / 8);
        for (int f = 0; f < fileCount; ++f) {
            std::ofstream out(root / ("weights-" + std::to_string(f) + ".bin"), std::ios::binary);
            for (std::uint64_t i = 0; i < megabytes / fileCount; ++i) {
                for (auto& w : chunk)
                    w = rng();
                out.write(reinterpret_cast<const char*>(chunk.data()), 1 << 20);
            }
        }
    }
    std::ofstream(src / "save.py") << "import os, shutil, sys\nos.makedirs('outputs/model', exist_ok=True)\n"
                                      "for f in sys.argv[1:]:\n"
                                      "    shutil.copyfile(f, 'outputs/model/' + os.path.basename(f))\n"
                                      "open('outputs/model/config.json', 'w').write('{}')\n";

    auto info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client c(info.url, info.token, std::chrono::seconds(600));
    Kiln::Api::SubmitRequest req;
    req.experiment = "bench";
    req.sourceDir = src;
    req.script = "save.py";
    for (int f = 0; f < fileCount; ++f)
        req.args.push_back((root / ("weights-" + std::to_string(f) + ".bin")).string());
    const auto id = c.submit(req)["id"].get<std::int64_t>();
    for (;;) {
        auto status = c.run(id)["status"].get<std::string>();
        if (status == "Completed")
            break;
        if (status == "Failed" || status == "Canceled") {
            std::fprintf(stderr, "the run that writes the model ended %s\n", status.c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto version = c.post("/api/v1/models", {{"run", id}, {"name", "big"}, {"path", "outputs/model"}});
    const double mb = static_cast<double>(version["total_size"].get<std::int64_t>()) / (1 << 20);
    const auto files = Kiln::Transfer::remoteFiles(version["files"], "/api/v1/models/big/versions/1/files");
    ::sync();

    // What the bytes cost without us: SHA-256 alone, and the raw HTTP stream into nothing.
    auto t = Clock::now();
    Kiln::Util::sha256File(root / "weights-0.bin");
    std::printf("sha256 alone (page cache, one core)          %7.0f MB/s\n",
                static_cast<double>(megabytes / fileCount) / since(t));
    for (int i = 0; i < 3; ++i) {
        t = Clock::now();
        std::uint64_t n = c.stream(files.back().url, 0, std::nullopt,
                                   [](const std::uint8_t*, std::size_t) { return true; });
        std::printf("raw HTTP stream, one request, no hashing     %7.0f MB/s (%llu MB)\n",
                    static_cast<double>(n) / (1 << 20) / since(t), (unsigned long long)(n >> 20));
    }
    // The real thing, three times: verified download into a folder, then removed.
    for (int i = 0; i < 3; ++i) {
        const auto dest = root / ("dl" + std::to_string(i));
        Kiln::Transfer::Options o;
        if (const char* n = std::getenv("KILN_BENCH_CONNECTIONS"))
            o.connections = std::atoi(n);
        if (const char* w = std::getenv("KILN_BENCH_WINDOW_MB"))
            o.window = std::stoull(w) << 20;
        const double cpu = cpuSeconds();
        auto r = Kiln::Transfer::download(c, files, dest, o);
        std::printf("verified model download to a folder          %7.0f MB/s (%.0f MB in %.2f s; client CPU "
                    "%.2f s per GB)\n",
                    mb / r.seconds, mb, r.seconds, (cpuSeconds() - cpu) / (mb / 1024));
        Kiln::Util::removeTree(dest);
    }
    {
        Kiln::Transfer::Options o;
        o.format = Kiln::Transfer::Format::Zip;
        auto r = Kiln::Transfer::download(c, files, root / "big.zip", o);
        std::printf("verified model download as one .zip          %7.0f MB/s (%.0f MB in %.2f s)\n",
                    mb / r.seconds, mb, r.seconds);
    }
    c.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Kiln::Util::removeTree(root);
    return 0;
}
