#pragma once
#include "api/Http.h"
#include "api/RateLimiter.h"
#include "server/Jobs.h"
#include "util/Json.h"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Runs {
struct NewRun;
struct RunRecord;
enum class RunStatus;
class RunStore;
class Scheduler;
} // namespace Kiln::Runs
namespace Kiln::Metrics {
class MetricStore;
}
namespace Kiln::Store {
class BlobStore;
class Database;
} // namespace Kiln::Store
namespace Kiln::Server {
class ChangeHub;
class Jobs;
} // namespace Kiln::Server
namespace Kiln::Datasets {
class DatasetStore;
}
namespace Kiln::Models {
class ModelStore;
}
namespace Kiln::Sweeps {
class SweepStore;
class Controller;
} // namespace Kiln::Sweeps
namespace Kiln::Compute {
class ComputeStore;
class LocalPool;
} // namespace Kiln::Compute
namespace Kiln::Environments {
class EnvironmentStore;
class EnvBuilder;
struct EnvironmentVersion;
struct Spec;
} // namespace Kiln::Environments

namespace Kiln::Api {

// The REST API under /api/v1 (documented in core/api/API.md). Every request is authenticated first;
// handlers validate everything they read and answer 4xx with {"error": "..."} for bad input.
class Service final {
public:
    struct Deps {
        Store::Database& db;
        Runs::RunStore& runs;
        Metrics::MetricStore& metrics;
        Store::BlobStore& blobs;
        Runs::Scheduler& scheduler;
        Server::ChangeHub& hub;
        Datasets::DatasetStore& datasets;
        Environments::EnvironmentStore& environments;
        Environments::EnvBuilder& builder;
        Compute::ComputeStore& compute;
        Compute::LocalPool& pool;
        Server::Jobs& jobs;
        Models::ModelStore& models;
        Sweeps::SweepStore& sweepStore;
        Sweeps::Controller& sweeps;
        std::string token;
        std::string workspacePath;
        std::string readOnly;          // why the workspace is read-only (a full disk), or empty
        double maxPointsPerSecond = 0; // per run; 0: no limit
        std::function<void()> shutdown;
    };
    // ChangeHub channel for "some run was created or changed status" (run ids start at 1).
    static constexpr std::int64_t kWorkspaceChannel = 0;
    static constexpr std::size_t kMaxJsonBody = 32u << 20;
    static constexpr std::size_t kMaxBlobBody = 512u << 20;

    explicit Service(Deps deps)
        : m_d(std::move(deps))
        , m_limiter(m_d.maxPointsPerSecond) {}

    // Checks authentication and the announced body size before the body is read. An answer means: reply
    // with it and do not read the body.
    std::optional<Response> precheck(const Request& headersOnly, std::uint64_t contentLength) const;
    // Where the body of a request that passed precheck goes when it is not to be held in memory: a blob
    // upload (PUT /blobs/{hash}) is hashed into the blob store as it arrives. nullptr: read it into `body`.
    std::shared_ptr<BodySink> bodySink(const Request& headersOnly);
    // Answers the request, possibly later (long-poll) and from another thread.
    void handle(const Request& request, Responder reply);
    // Validates a POST /runs body and submits the run (`trial` carries a sweep trial's name, params and
    // draw); with validateOnly, checks it and returns 0. Throws UserError for bad input.
    std::int64_t submitRun(const Json& body, const Runs::NewRun& trial, bool validateOnly = false);
    // Submits trial `number` (sampler draw `draw`) of a sweep: its template with the values appended as
    // arguments and recorded as the run's params (SweepRoutes.cpp).
    std::int64_t submitTrial(const Json& sweepSpec, std::int64_t sweepId, const Json& values,
                             std::int64_t draw, int number);
    // Resumes the jobs a previous kilnd left running (or records that they ended); before serving.
    void resumeJobs();

private:
    struct Caller {
        bool workspace = false;
        std::int64_t runId = 0; // set for a run token
    };
    std::optional<Caller> authenticate(const std::string& authorization) const;
    Json runJson(const Runs::RunRecord& run); // the run as the API shows it, with the datasets it used
    Response listRuns(const std::map<std::string, std::string>& query);   // GET /runs: a page of a query
    Response manageRun(const Runs::RunRecord& run, const Json& body);     // PATCH /runs/{id}
    Response deleteRun(const Runs::RunRecord& run);                       // DELETE /runs/{id}
    Response manageExperiment(const std::string& name, const Json& body); // PATCH /experiments/{name}
    // Streams a stored file with its hash, or the part the Range header asks for (206/416).
    Response blobResponse(const std::string& blob, const Request& r) const;
    using Segments = std::vector<std::string>;
    using Query = std::map<std::string, std::string>;
    Response route(const Request& r, const Caller& caller, Responder& reply, bool& deferred);
    // Feature routes, each in its own file: DatasetRoutes.cpp, EnvironmentRoutes.cpp, ComputeRoutes.cpp,
    // ModelRoutes.cpp.
    Response routeDatasets(const Request& r, const Segments& seg, const Query& query);
    Response routeEnvironments(const Request& r, const Segments& seg);
    Response routeCompute(const Request& r, const Segments& seg);
    Response routeModels(const Request& r, const Segments& seg);                     // ModelRoutes.cpp
    Response routeSweeps(const Request& r, const Segments& seg, const Query& query); // SweepRoutes.cpp
    // /runs/{id}/metrics[/history]: JSON or binary columns (MetricRoutes.cpp).
    Response routeMetrics(const Request& r, std::int64_t id, Runs::RunStatus status, bool workspaceCaller,
                          const Segments& seg, const Query& query);
    Json modelLineage(const Runs::RunRecord& run);
    std::optional<Environments::EnvironmentVersion> resolveEnvironment(const std::string& ref); // NAME[:V]
    // The work of resumable jobs, made from what their record keeps.
    Server::Jobs::Work datasetRegistration(const Json& body);            // DatasetRoutes.cpp
    Server::Jobs::Work environmentBuild(const Environments::Spec& spec); // EnvironmentRoutes.cpp
    Response routeJobs(const Request& r, const Segments& seg, const Query& query, Responder& reply,
                       bool& deferred);

    void logRefused(const Request& r, const Response& resp) const; // to kilnd.log, rate-limited

    Deps m_d;
    RateLimiter m_limiter;
    mutable std::mutex m_logMutex;
    mutable double m_logWindow = 0;
    mutable int m_logLines = 0;
    mutable int m_logDropped = 0;
};

Response jsonResponse(int status, const std::string& body);
Response errorResponse(int status, const std::string& message);

} // namespace Kiln::Api
