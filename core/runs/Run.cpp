#include "Run.h"

#include <array>

namespace Kiln::Runs {

static constexpr std::array<std::string_view, 7> kNames = {"Queued",    "Preparing", "Running", "Finalizing",
                                                           "Completed", "Failed",    "Canceled"};

std::string_view toString(RunStatus s) {
    return kNames[static_cast<std::size_t>(s)];
}

std::optional<RunStatus> statusFromString(std::string_view s) {
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == s)
            return static_cast<RunStatus>(i);
    return std::nullopt;
}

Json toJson(const RunRecord& r) {
    Json j = {{"id", r.id},
              {"experiment", r.experiment},
              {"name", r.name},
              {"status", toString(r.status)},
              {"status_seq", r.statusSeq},
              {"script", r.script},
              {"args", r.args},
              {"source_path", r.sourcePath},
              {"snapshot", r.snapshot},
              {"compute", r.compute},
              {"node", r.node},
              {"external_id", r.externalId},
              {"created", r.created},
              {"error", r.error},
              {"params", r.params},
              {"tags", r.tags}};
    j["dispatched"] = r.dispatched ? Json(*r.dispatched) : Json(nullptr);
    j["started"] = r.started ? Json(*r.started) : Json(nullptr);
    j["ended"] = r.ended ? Json(*r.ended) : Json(nullptr);
    j["exit_code"] = r.exitCode ? Json(*r.exitCode) : Json(nullptr);
    j["signal"] = r.signal ? Json(*r.signal) : Json(nullptr);
    j["cancel_requested"] = r.cancelRequested.has_value();
    j["cancel_by"] = r.cancelBy;
    j["sweep"] = r.sweepId ? Json(*r.sweepId) : Json(nullptr);
    j["starred"] = r.starred;
    j["archived"] = r.archived;
    j["note"] = r.note;
    j["system_interval"] = r.systemInterval;
    return j;
}

} // namespace Kiln::Runs
