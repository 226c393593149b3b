#pragma once
#include "api/Http.h"
#include "api/RateLimiter.h"
#include "api/Replays.h"
#include "api/Routes.h"
#include "server/Jobs.h"
#include "util/Json.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
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
class WorkQueue;
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
struct Target;
class ComputeStore;
class LocalPool;
class SlurmNodes;
} // namespace Kiln::Compute
namespace Kiln::Environments {
class EnvironmentStore;
class EnvBuilder;
struct EnvironmentVersion;
struct Spec;
} // namespace Kiln::Environments

namespace Kiln::Api {

// The REST API under /api/v1 (documented in core/api/API.md). Every request is authenticated first, then
// found in the route table (Routes.cpp: method, pattern, body, who may call it) and checked against it,
// from its headers alone; handlers validate everything they read and answer 4xx with {"error": "..."}.
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
        Compute::SlurmNodes& slurmNodes; // Slurm targets' nodes, from memory
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
    // A sweep's: what its view shows changed (a trial's points or status, its own status). Below every job's
    // channel (-job id), as run ids are above 0.
    static constexpr std::int64_t sweepChannel(std::int64_t sweep) {
        return std::numeric_limits<std::int64_t>::min() + sweep;
    }

    explicit Service(Deps deps);
    ~Service();

    // What a request may send, decided from its headers alone, before any byte of its body is read: who
    // calls (the token), which route it is (404, 405), whether that caller may call it (403), and how much
    // body the route takes (413).
    struct Admission {
        std::optional<Response> refusal; // answer with this, and read nothing
        Body body = Body::None;          // Blob: stream it to bodySink(); else hold up to `limit` bytes
        std::size_t limit = 0;
    };
    Admission precheck(const Request& headersOnly, std::optional<std::uint64_t> contentLength) const;
    // Where the body of a Body::Blob route goes as it arrives: a blob upload (PUT /blobs/{hash}) is hashed
    // into the blob store.
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
    // The request's route and parameters, or the answer that refuses it (400, 404, 405, 403).
    struct Resolved {
        const Route* route = nullptr;
        std::map<std::string, std::string, std::less<>> params;
        std::optional<Response> refusal;
    };
    Resolved resolve(const Request& r, const Caller& caller) const;
    // Runs a resolved request's handler and answers (unless the handler answers later itself).
    void run(const Route& route, const Request& r, const Caller& caller,
             std::map<std::string, std::string, std::less<>> params, Responder reply);
    static Response failure(const std::exception& e); // the answer for what a handler threw

public:
    // Every route, in one table (Routes.cpp): the API as data, for dispatch, permissions and documentation.
    static std::span<const Route> routes();

private:
    Json runJson(const Runs::RunRecord& run); // the run as the API shows it, with the datasets it used
    Runs::RunRecord runOf(const Call& c);     // {id} as a run, or 404
    // Streams a stored file with its hash, or the part the Range header asks for (206/416).
    Response blobResponse(const std::string& blob, const Request& r) const;

    // Handlers, one per route (Routes.cpp lists them), in the files their areas live in.
    // Service.cpp
    Response health(Call& c);
    Response shutdownServer(Call& c);
    Response changes(Call& c);
    Response longPoll(Call& c, std::int64_t channel); // {version} once the channel's version is past ?version
    Response collectGarbage(Call& c);
    Response missingBlobs(Call& c);
    Response putBlob(Call& c);
    Response submit(Call& c);
    Response getRun(Call& c);
    Response cancelRun(Call& c);
    Response mergeParamsOrTags(Call& c);
    Response deleteTag(Call& c);
    Response runLogs(Call& c);
    Response runFeed(Call& c);
    Response runSnapshot(Call& c);
    Response runFiles(Call& c);
    Response runFile(Call& c);
    // RunRoutes.cpp
    Response listExperiments(Call& c);
    Response manageExperiment(Call& c);
    Response listRuns(Call& c);
    Response runColumns(Call& c);
    Response manageRun(Call& c);
    Response deleteRun(Call& c);
    // MetricRoutes.cpp: JSON or binary columns
    Response metricKeys(Call& c);
    Response logMetrics(Call& c);
    Response metricHistory(Call& c);
    // DatasetRoutes.cpp
    Response listDatasets(Call& c);
    Response registerDataset(Call& c);
    Response getDataset(Call& c);
    Response getDatasetVersion(Call& c);
    Response datasetFile(Call& c);
    Response getJob(Call& c);
    Response cancelJob(Call& c);
    // EnvironmentRoutes.cpp
    Response listEnvironments(Call& c);
    Response createEnvironment(Call& c);
    Response getEnvironment(Call& c);
    Response getEnvironmentVersion(Call& c);
    Response buildEnvironment(Call& c);
    // ComputeRoutes.cpp
    Response listCompute(Call& c);
    Response createCompute(Call& c);
    Response getCompute(Call& c);
    // SweepRoutes.cpp
    Response listSweeps(Call& c);
    Response createSweep(Call& c);
    Response getSweep(Call& c);
    Response cancelSweep(Call& c);
    Response sweepChanges(Call& c);
    // ModelRoutes.cpp
    Response listModels(Call& c);
    Response registerModel(Call& c);
    Response getModel(Call& c);
    Response getModelVersion(Call& c);
    Response updateModelVersion(Call& c);
    Response modelFile(Call& c);

    Json modelLineage(const Runs::RunRecord& run);
    Json computeSummary(const Compute::Target& t); // a target with its nodes in use and queue length
    std::optional<Environments::EnvironmentVersion> resolveEnvironment(const std::string& ref); // NAME[:V]
    Environments::EnvironmentVersion environmentVersionOf(const Call& c); // {name}/versions/{version}, or 404
    // The work of resumable jobs, made from what their record keeps.
    Server::Jobs::Work datasetRegistration(const Json& body);            // DatasetRoutes.cpp
    Server::Jobs::Work environmentBuild(const Environments::Spec& spec); // EnvironmentRoutes.cpp

    void logRefused(const Request& r, const Response& resp) const; // to kilnd.log, rate-limited

    Deps m_d;
    Router m_router{routes()};
    RateLimiter m_limiter;
    std::unique_ptr<Server::WorkQueue> m_slowLane; // Lane::Slow routes run here
    Replays m_replays;                             // answers kept for Idempotency-Key
    mutable std::mutex m_logMutex;
    mutable double m_logWindow = 0;
    mutable int m_logLines = 0;
    mutable int m_logDropped = 0;
};

Response jsonResponse(int status, const std::string& body);
Response errorResponse(int status, const std::string& message);

} // namespace Kiln::Api
