// Every route of /api/v1 in one table (documented in API.md; a test checks that the two list the same
// routes), and the matching of a request to its route.
#include "Routes.h"

#include "api/Service.h"
#include "api/Validation.h"
#include "util/Error.h"

#include <algorithm>

namespace Kiln::Api {

std::span<const Route> Service::routes() {
    using S = Service;
    constexpr std::uint8_t W = kWorkspace, WR = kWorkspace | kOwnRun;
    // (Lane::Slow: long reads, which run on threads of their own; everything else on the connection's.)
    static const Route table[] = {
        // Server and workspace (Service.cpp)
        {"GET", "/api/v1/health", Body::None, kNoBodyLimit, WR, &S::health},
        {"POST", "/api/v1/server/shutdown", Body::Json, kSmallJson, W, &S::shutdownServer},
        {"GET", "/api/v1/changes", Body::None, kNoBodyLimit, W, &S::changes},
        {"POST", "/api/v1/workspace/gc", Body::Json, kSmallJson, W, &S::collectGarbage},
        {"POST", "/api/v1/blobs/missing", Body::Json, kLargeJson, W, &S::missingBlobs},
        {"PUT", "/api/v1/blobs/{sha256}", Body::Blob, kBlobLimit, W, &S::putBlob},
        // Experiments and runs (RunRoutes.cpp, Service.cpp)
        {"GET", "/api/v1/experiments", Body::None, kNoBodyLimit, W, &S::listExperiments, Lane::Slow},
        {"PATCH", "/api/v1/experiments/{name}", Body::Json, kSmallJson, W, &S::manageExperiment},
        {"GET", "/api/v1/runs", Body::None, kNoBodyLimit, W, &S::listRuns, Lane::Slow},
        {"POST", "/api/v1/runs", Body::Json, kLargeJson, W, &S::submit},
        {"GET", "/api/v1/runs/columns", Body::None, kNoBodyLimit, W, &S::runColumns, Lane::Slow},
        {"GET", "/api/v1/runs/{id}", Body::None, kNoBodyLimit, WR, &S::getRun},
        {"PATCH", "/api/v1/runs/{id}", Body::Json, kSmallJson, W, &S::manageRun},
        {"DELETE", "/api/v1/runs/{id}", Body::None, kNoBodyLimit, W, &S::deleteRun},
        {"POST", "/api/v1/runs/{id}/cancel", Body::Json, kSmallJson, W, &S::cancelRun},
        {"POST", "/api/v1/runs/{id}/params", Body::Json, kSmallJson, WR, &S::mergeParamsOrTags},
        {"POST", "/api/v1/runs/{id}/tags", Body::Json, kSmallJson, WR, &S::mergeParamsOrTags},
        {"DELETE", "/api/v1/runs/{id}/tags/{key}", Body::None, kNoBodyLimit, W, &S::deleteTag},
        {"GET", "/api/v1/runs/{id}/logs", Body::None, kNoBodyLimit, W, &S::runLogs, Lane::Slow},
        {"GET", "/api/v1/runs/{id}/feed", Body::None, kNoBodyLimit, W, &S::runFeed},
        {"GET", "/api/v1/runs/{id}/snapshot", Body::None, kNoBodyLimit, W, &S::runSnapshot},
        {"GET", "/api/v1/runs/{id}/files", Body::None, kNoBodyLimit, W, &S::runFiles},
        {"GET", "/api/v1/runs/{id}/files/{path+}", Body::None, kNoBodyLimit, W, &S::runFile},
        // Metrics (MetricRoutes.cpp)
        {"GET", "/api/v1/runs/{id}/metrics", Body::None, kNoBodyLimit, W, &S::metricKeys},
        {"POST", "/api/v1/runs/{id}/metrics", Body::Json, kLargeJson, WR, &S::logMetrics},
        {"GET", "/api/v1/runs/{id}/metrics/history", Body::None, kNoBodyLimit, W, &S::metricHistory,
         Lane::Slow},
        // Datasets and jobs (DatasetRoutes.cpp)
        {"GET", "/api/v1/datasets", Body::None, kNoBodyLimit, W, &S::listDatasets},
        {"POST", "/api/v1/datasets", Body::Json, kLargeJson, W, &S::registerDataset},
        {"GET", "/api/v1/datasets/{name}", Body::None, kNoBodyLimit, W, &S::getDataset},
        {"GET", "/api/v1/datasets/{name}/versions/{version}", Body::None, kNoBodyLimit, W,
         &S::getDatasetVersion},
        {"GET", "/api/v1/datasets/{name}/versions/{version}/files/{path+}", Body::None, kNoBodyLimit, W,
         &S::datasetFile},
        {"GET", "/api/v1/jobs/{id}", Body::None, kNoBodyLimit, W, &S::getJob},
        {"POST", "/api/v1/jobs/{id}/cancel", Body::Json, kSmallJson, W, &S::cancelJob},
        // Environments (EnvironmentRoutes.cpp)
        {"GET", "/api/v1/environments", Body::None, kNoBodyLimit, W, &S::listEnvironments},
        {"POST", "/api/v1/environments", Body::Json, kLargeJson, W, &S::createEnvironment},
        {"GET", "/api/v1/environments/{name}", Body::None, kNoBodyLimit, W, &S::getEnvironment},
        {"GET", "/api/v1/environments/{name}/versions/{version}", Body::None, kNoBodyLimit, W,
         &S::getEnvironmentVersion},
        {"POST", "/api/v1/environments/{name}/versions/{version}/build", Body::Json, kSmallJson, W,
         &S::buildEnvironment},
        // Compute (ComputeRoutes.cpp)
        {"GET", "/api/v1/compute", Body::None, kNoBodyLimit, W, &S::listCompute},
        {"POST", "/api/v1/compute", Body::Json, kSmallJson, W, &S::createCompute},
        {"GET", "/api/v1/compute/{name}", Body::None, kNoBodyLimit, W, &S::getCompute},
        // Sweeps (SweepRoutes.cpp)
        {"GET", "/api/v1/sweeps", Body::None, kNoBodyLimit, W, &S::listSweeps, Lane::Slow},
        {"POST", "/api/v1/sweeps", Body::Json, kLargeJson, W, &S::createSweep},
        {"GET", "/api/v1/sweeps/{id}", Body::None, kNoBodyLimit, W, &S::getSweep, Lane::Slow},
        {"GET", "/api/v1/sweeps/{id}/changes", Body::None, kNoBodyLimit, W, &S::sweepChanges},
        {"POST", "/api/v1/sweeps/{id}/cancel", Body::Json, kSmallJson, W, &S::cancelSweep},
        // Models (ModelRoutes.cpp)
        {"GET", "/api/v1/models", Body::None, kNoBodyLimit, W, &S::listModels},
        {"POST", "/api/v1/models", Body::Json, kSmallJson, W, &S::registerModel},
        {"GET", "/api/v1/models/{name}", Body::None, kNoBodyLimit, W, &S::getModel},
        {"GET", "/api/v1/models/{name}/versions/{version}", Body::None, kNoBodyLimit, W, &S::getModelVersion},
        {"PATCH", "/api/v1/models/{name}/versions/{version}", Body::Json, kSmallJson, W,
         &S::updateModelVersion},
        {"GET", "/api/v1/models/{name}/versions/{version}/files/{path+}", Body::None, kNoBodyLimit, W,
         &S::modelFile},
    };
    return table;
}

const std::string& Call::param(std::string_view name) const {
    const auto it = params.find(name);
    if (it == params.end()) // (a handler asked for what its own pattern does not have: a bug here)
        throw std::logic_error("route parameter missing: " + std::string(name));
    return it->second;
}

std::int64_t Call::id(const char* what) const {
    return parseId(param("id"), what);
}

Router::Router(std::span<const Route> routes) {
    for (const auto& r : routes)
        m_routes.push_back({&r, splitPath(r.pattern)});
}

namespace {
bool isRest(const std::string& s) {
    return s.size() > 3 && s.front() == '{' && s.ends_with("+}");
}
bool isParam(const std::string& s) {
    return s.size() > 2 && s.front() == '{' && s.back() == '}';
}
std::string paramName(const std::string& s) {
    return s.substr(1, s.size() - (isRest(s) ? 3 : 2));
}
} // namespace

Router::Match Router::find(std::string_view method, const std::vector<std::string>& path) const {
    // The best pattern that matches: at the first segment where two differ, a literal beats {name} beats
    // {name+}.
    const std::vector<std::string>* best = nullptr;
    std::vector<int> bestRank;
    for (const auto& c : m_routes) {
        std::vector<int> rank;
        std::size_t i = 0;
        bool ok = true;
        for (const auto& s : c.segments) {
            if (isRest(s)) {
                ok = i < path.size();
                rank.push_back(0);
                i = path.size();
                break;
            }
            if (i >= path.size() || (!isParam(s) && s != path[i])) {
                ok = false;
                break;
            }
            rank.push_back(isParam(s) ? 1 : 2);
            ++i;
        }
        if (!ok || i != path.size())
            continue;
        if (!best || rank > bestRank) {
            best = &c.segments;
            bestRank = std::move(rank);
        }
    }
    Match m;
    if (!best)
        return m;
    for (const auto& c : m_routes) {
        if (c.segments != *best)
            continue;
        if (c.route->method != method) {
            m.allow += (m.allow.empty() ? "" : ", ") + std::string(c.route->method);
            continue;
        }
        m.route = c.route;
        for (std::size_t i = 0; i < c.segments.size(); ++i) {
            const auto& s = c.segments[i];
            if (isRest(s)) {
                std::string joined;
                for (std::size_t j = i; j < path.size(); ++j)
                    joined += (j > i ? "/" : "") + path[j];
                m.params[paramName(s)] = std::move(joined);
            } else if (isParam(s)) {
                m.params[paramName(s)] = path[i];
            }
        }
        m.allow.clear();
        return m;
    }
    return m;
}

} // namespace Kiln::Api
