#include "RunState.h"

#include <array>

namespace Kiln::Runs {

namespace {
using S = RunStatus;
constexpr std::size_t kCount = 7;
constexpr std::size_t at(S s) {
    return static_cast<std::size_t>(s);
}

// kLegal[from][to]
constexpr std::array<std::array<bool, kCount>, kCount> table() {
    std::array<std::array<bool, kCount>, kCount> t{};
    auto allow = [&t](S from, std::initializer_list<S> tos) {
        for (auto to : tos)
            t[at(from)][at(to)] = true;
    };
    allow(S::Queued, {S::Queued, S::Preparing, S::Running, S::Finalizing, S::Failed, S::Canceled});
    allow(S::Preparing, {S::Preparing, S::Queued, S::Running, S::Finalizing, S::Failed, S::Canceled});
    allow(S::Running, {S::Running, S::Finalizing, S::Queued, S::Failed, S::Canceled});
    allow(S::Finalizing, {S::Finalizing, S::Completed, S::Failed, S::Canceled});
    return t;
}
constexpr auto kLegal = table();
} // namespace

bool isLegalTransition(RunStatus from, RunStatus to) {
    return kLegal[at(from)][at(to)];
}

} // namespace Kiln::Runs
