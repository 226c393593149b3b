#pragma once
#include "metrics/Columns.h"
#include "util/Json.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace Kiln::Api {

// An error answered by kilnd (status >= 400) or a connection failure (status 0).
class ClientError : public std::runtime_error {
public:
    ClientError(int status, const std::string& message)
        : std::runtime_error(message)
        , m_status(status) {}
    int status() const { return m_status; }

private:
    int m_status;
};

struct SubmitRequest {
    std::string experiment;
    std::filesystem::path sourceDir;
    std::string script;
    std::vector<std::string> args;
    std::string name;
    std::string environment;              // NAME or NAME:VERSION, empty for the system python
    std::string compute;                  // compute target, empty for "local"
    std::optional<double> systemInterval; // seconds between system metric samples (default 1; 0: none)
    // A snapshot manifest already on the server (GET /runs/{id}/snapshot): submitted as is, without reading
    // sourceDir ("run again").
    Json snapshot;
    std::string sourcePath; // where the source came from, when not sourceDir (run again: the original's)
};

struct FeedCursor {
    std::int64_t metricsAfter = 0;
    std::int64_t logsAfter = 0;
    std::int64_t statusSeq = 0;
};

// The one client of kilnd's REST API, used by the CLI and the studio. Calls block the calling thread
// (the studio calls from worker threads); cancelPending() aborts calls in flight, e.g. a long-poll.
class Client final {
public:
    // An https URL is verified against the system's CAs, or the PEM file `caFile` (else the process-wide
    // one from setDefaultCaFile, else $KILN_CA_FILE): a self-signed workspace server names its certificate.
    Client(std::string url, std::string token, std::chrono::seconds timeout = std::chrono::seconds(60),
           std::string caFile = {});
    static void setDefaultCaFile(const std::string& caFile);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const std::string& url() const { return m_url; }

    Json get(const std::string& pathAndQuery);
    Json post(const std::string& path, const Json& body);
    Json putBytes(const std::string& path, const std::string& bytes);
    // Any method (PATCH, DELETE...) with a JSON body unless it is null; throws ClientError like get().
    Json request(const std::string& method, const std::string& path, const Json& body = nullptr);
    // Any request with a raw body; returns the status and body as they came (no error on 4xx/5xx).
    std::pair<int, std::string> raw(const std::string& method, const std::string& path,
                                    const std::string& body = {},
                                    const std::string& contentType = "application/json");
    // GETs `path`, bytes [first, last] of it (a Range request unless the whole file is asked for), handing
    // the body to `sink` in chunks as it arrives; `sink` returns false to stop early. Returns the bytes
    // received. Throws ClientError with the server's status for an error answer, or status 0 when the
    // connection fails or drops (the caller may resume from where it got to). Downloads use fetchRange.
    std::uint64_t stream(const std::string& path, std::uint64_t first, std::optional<std::uint64_t> last,
                         const std::function<bool(const std::uint8_t*, std::size_t)>& sink);
    // GETs bytes [first, last] of `path` straight into `into` (room for last - first + 1 bytes: cpprestsdk
    // writes the body there, with no copy of ours). Returns the bytes that came: fewer when the connection
    // dropped (the caller may ask again for the rest). Throws ClientError with the server's status for an
    // error answer, or status 0 when the connection fails or the request is canceled.
    std::uint64_t fetchRange(const std::string& path, std::uint64_t first, std::uint64_t last,
                             std::uint8_t* into);
    void cancelPending();

    Json health() { return get("/api/v1/health"); }
    // Snapshots the source folder, uploads only the content the server lacks, and returns the manifest (what
    // the snapshot left out goes to `warnings`).
    Json uploadSnapshot(const std::filesystem::path& sourceDir, std::vector<std::string>& warnings);
    // Snapshots the source folder (uploading only content the server lacks) and submits the run.
    Json submit(const SubmitRequest& request);
    Json run(std::int64_t id);
    // GET /runs with `query` (percent-encoded "filter=...&order_by=...&limit=..."): a page of runs and how
    // many match in all (X-Total-Count).
    std::pair<Json, std::int64_t> queryRuns(const std::string& query);
    // Submits run `id` again: its stored source snapshot, script, arguments, environment and compute.
    Json runAgain(std::int64_t id);
    // Waits for a server job (GET /jobs/{id} long-poll), calling `onProgress` with each update; returns the
    // job's result, or throws ClientError with its error.
    Json waitJob(std::int64_t jobId, const std::function<void(const Json&)>& onProgress = {});
    // Logs a batch of metric points to run `runId` in the binary column format, exactly once: the batch
    // carries this client's id and the next sequence number, and is sent again unchanged (same sequence)
    // after a lost connection or reply, up to `attempts` times, then throws ClientError. Returns true when
    // kilnd stored it, false when it had stored it already.
    bool logMetrics(std::int64_t runId, const Metrics::Columns& points, int attempts = 30);
    // Every point of one metric of a run, in the binary column format (one key).
    Metrics::Columns history(std::int64_t runId, const std::string& key);
    // What a chart `buckets` pixels wide shows of that metric between steps `from` and `to` (default: its
    // first and last step): per pixel column its first, lowest, highest and last point. `total` gets the
    // metric's number of points.
    Metrics::Columns history(std::int64_t runId, const std::string& key, std::optional<double> from,
                             std::optional<double> to, int buckets, std::int64_t* total = nullptr);
    // Every metric of a run at `buckets` pixel columns over its own steps, in one binary batch (keys by
    // name): what a chart shows first, before the points arrive. `total` gets the number of points of all
    // metrics.
    Metrics::Columns overview(std::int64_t runId, int buckets, std::int64_t* total = nullptr);
    // Every point of every metric of a run in one binary batch, and in `cursor` where the live feed continues
    // from (FeedCursor::metricsAfter) without a gap or a repeat.
    Metrics::Columns allMetrics(std::int64_t runId, std::int64_t& cursor);
    Json feed(std::int64_t runId, const FeedCursor& cursor, int timeoutMs);
    // Calls `onFeed` for each feed answer until the run ends (after its final answer) or it returns false.
    void follow(std::int64_t runId, const std::function<bool(const Json&)>& onFeed, FeedCursor cursor = {});

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_url;
    std::string m_metricClient; // this client's identity in metric batches
    std::int64_t m_metricSeq = 0;
};

} // namespace Kiln::Api
