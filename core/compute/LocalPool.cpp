#include "LocalPool.h"

#include "compute/ComputeStore.h"

#include <thread>

namespace Kiln::Compute {

std::vector<LocalPool::Slot>& LocalPool::slotsOf(const Target& target) {
    auto& slots = m_slots[target.name];
    if (static_cast<int>(slots.size()) < target.maxNodes())
        slots.resize(static_cast<std::size_t>(target.maxNodes()));
    return slots;
}

std::optional<int> LocalPool::acquire(const Target& target, std::int64_t runId) {
    std::lock_guard g(m_mutex);
    auto& slots = slotsOf(target);
    for (int i = 0; i < target.maxNodes(); ++i) {
        if (slots[static_cast<std::size_t>(i)].runId == 0) {
            slots[static_cast<std::size_t>(i)].runId = runId;
            return i;
        }
    }
    return std::nullopt;
}

void LocalPool::hold(const Target& target, std::int64_t runId, int slot) {
    std::lock_guard g(m_mutex);
    auto& slots = slotsOf(target);
    if (slot >= 0 && slot < static_cast<int>(slots.size()))
        slots[static_cast<std::size_t>(slot)].runId = runId;
}

void LocalPool::release(std::int64_t runId) {
    std::lock_guard g(m_mutex);
    for (auto& [name, slots] : m_slots)
        for (auto& s : slots)
            if (s.runId == runId)
                s.runId = 0;
}

int LocalPool::inUse(const std::string& target) {
    std::lock_guard g(m_mutex);
    int n = 0;
    for (const auto& s : m_slots[target])
        n += s.runId != 0;
    return n;
}

Json LocalPool::nodes(const Target& target) {
    std::lock_guard g(m_mutex);
    auto& slots = slotsOf(target);
    const int cpus =
        target.cpusPerRun() > 0 ? target.cpusPerRun() : static_cast<int>(std::thread::hardware_concurrency());
    Json out = Json::array();
    for (int i = 0; i < target.maxNodes(); ++i) {
        const auto& s = slots[static_cast<std::size_t>(i)];
        Json node = {{"name", nodeName(target.name, i)},
                     {"state", s.runId ? "alloc" : "idle"},
                     {"cpus", cpus},
                     {"memory_mb", target.memoryMbPerRun()}};
        node["run"] = s.runId ? Json(s.runId) : Json(nullptr);
        out.push_back(std::move(node));
    }
    return out;
}

} // namespace Kiln::Compute
