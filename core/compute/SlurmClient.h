#pragma once
#include "util/Json.h"

#include <map>
#include <memory>
#include <string>

namespace Kiln::Compute {

// slurmrestd over HTTP (cpprestsdk), JWT auth. The REST API version Kiln speaks is kSlurmApi.
class SlurmClient final {
public:
    static constexpr const char* kSlurmApi = "v0.0.38";

    SlurmClient(std::string url, std::string user, std::string token);
    ~SlurmClient();
    SlurmClient(const SlurmClient&) = delete;
    SlurmClient& operator=(const SlurmClient&) = delete;

    Json ping();
    Json partitions();
    Json nodes();
    // Submits a batch script; returns the job id.
    std::string submit(const std::string& name, const std::string& partition, const std::string& script,
                       const std::map<std::string, std::string>& environment, const std::string& workdir,
                       const std::string& output);
    Json job(const std::string& id); // the job record (job_state, exit_code, nodes, ...)
    void cancel(const std::string& id);

private:
    Json request(const std::string& method, const std::string& path, const Json* body = nullptr);
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace Kiln::Compute
