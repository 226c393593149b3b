// bench_datasets: dataset registration through a real kilnd: hashing throughput on a 1 GB generated file,
// and registration of 10,000 small files. Prints one line per figure.
#include "api/Client.h"
#include "store/BlobStore.h"
#include "util/Crypto.h"
#include "workspace/Workspace.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
    const std::uint64_t megabytes = argc > 1 ? std::stoull(argv[1]) : 1024;
    const fs::path root = fs::temp_directory_path() / ("kiln-bench-ds-" + std::to_string(::getpid()));
    const fs::path ws = root / "ws", big = root / "big", small = root / "small";
    fs::create_directories(big);
    fs::create_directories(small);
    {
        std::mt19937_64 rng(1);
        std::vector<std::uint64_t> chunk((1 << 20) / 8);
        std::ofstream out(big / "data.bin", std::ios::binary);
        for (std::uint64_t i = 0; i < megabytes; ++i) {
            for (auto& w : chunk)
                w = rng();
            out.write(reinterpret_cast<const char*>(chunk.data()), 1 << 20);
        }
    }
    for (int i = 0; i < 10000; ++i)
        std::ofstream(small / ("f" + std::to_string(i) + ".txt")) << "small file number " << i << "\n";

    ::sync(); // the generated files reach the disk before anything is timed

    // The primitive: SHA-256 alone, then hash-while-copy into a blob store.
    auto t = Clock::now();
    Kiln::Util::sha256File(big / "data.bin");
    const double hashOnly = since(t);
    Kiln::Store::BlobStore scratch(root / "scratch");
    t = Clock::now();
    scratch.putFile(big / "data.bin");
    const double hashCopy = since(t);
    std::printf("sha256 of a %llu MB file            %7.0f MB/s (file in page cache)\n",
                (unsigned long long)megabytes, megabytes / hashOnly);
    std::printf("hash + copy into the blob store      %7.0f MB/s\n", megabytes / hashCopy);

    auto info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client c(info.url, info.token);
    auto reg = [&](const char* name, const fs::path& path) {
        ::sync(); // earlier writes' writeback would otherwise slow the next measurement
        t = Clock::now();
        auto job =
            c.post("/api/v1/datasets", {{"name", name}, {"sources", {{{"path", path.string()}}}}})["job"]
                .get<std::int64_t>();
        return c.waitJob(job);
    };
    auto r = reg("small", small);
    const double smallSecs = since(t);
    std::printf("register 10,000 small files          %7.2f s (%.0f files/s)\n", smallSecs,
                10000 / smallSecs);

    reg("big", big);
    const double bigSecs = since(t);
    std::printf("register a %llu MB file via kilnd     %7.0f MB/s (%.2f s, job + hashing + database)\n",
                (unsigned long long)megabytes, megabytes / bigSecs, bigSecs);
    reg("big-again", big);
    std::printf("register identical content again    %7.2f s (hashed again, stored once)\n", since(t));
    c.post("/api/v1/server/shutdown", Kiln::Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::error_code ec;
    fs::remove_all(root, ec);
    return r["dataset"]["file_count"].get<int>() == 10000 ? 0 : 1;
}
