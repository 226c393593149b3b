#pragma once
#include <filesystem>
#include <string>

namespace Kiln::Server {

struct DaemonOptions {
    std::filesystem::path workspace;
    std::string host = "127.0.0.1";
    int port = 0;          // 0: the port of the previous start if free, else any free port
    int maxConcurrent = 0; // size of the "local" compute target; 0: keep it (created with one slot per CPU)
    double maxPointsPerSecond = 1'000'000; // per run, answered 429 + Retry-After above it; 0: no limit
    std::string tlsCertificate;            // PEM files: serve HTTPS (for a workspace reached over a network)
    std::string tlsKey;
};

// kilnd: opens (creating if needed) the workspace, takes its lock so that one kilnd serves it, re-attaches
// to live runs, serves the REST API and writes the server file. Returns the exit code when SIGTERM/SIGINT
// or POST /api/v1/server/shutdown stops it; runs keep going without it.
int runDaemon(const DaemonOptions& options);

} // namespace Kiln::Server
