#pragma once
#include "util/Json.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Compute {

struct Target;

// The run slots ("nodes") of local compute targets: alloc while a run holds it, idle otherwise. A run starts
// its own processes, so a slot has nothing to keep warm or scale down. Thread-safe.
class LocalPool final {
public:
    // Takes the lowest free slot of `target` for `runId`; nothing when all max_nodes are taken.
    std::optional<int> acquire(const Target& target, std::int64_t runId);
    void hold(const Target& target, std::int64_t runId, int slot); // re-attached after a restart
    void release(std::int64_t runId);
    int inUse(const std::string& target);
    Json nodes(const Target& target);
    static std::string nodeName(const std::string& target, int slot) {
        return target + "-" + std::to_string(slot);
    }

private:
    struct Slot {
        std::int64_t runId = 0;
    };
    std::vector<Slot>& slotsOf(const Target& target);
    std::mutex m_mutex;
    std::map<std::string, std::vector<Slot>> m_slots;
};

} // namespace Kiln::Compute
