#pragma once
#include "sweeps/Sampler.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Sweeps {

// An early-termination policy with HyperDrive's semantics. Each time a trial logs the primary metric counts
// as one interval; the policy applies at every multiple of evaluation_interval that is at least
// delay_evaluation (asha: at its rungs instead).
//   bandit                stop a trial whose value at interval N is not within slack_factor (best / (1 + s)
//                         when maximizing, best * (1 + s) when minimizing) or slack_amount of the best value
//                         any trial reported at interval N
//   median_stopping       stop a trial whose best value up to interval N is worse than the median of all
//                         trials' running averages over intervals 1..N
//   truncation_selection  stop a trial whose best value up to N is among the lowest truncation_percentage %
//                         of all trials' best values up to N (floor of the count)
//   asha                  asynchronous successive halving: rungs at r, r*eta, r*eta^2... intervals (r =
//                         max(1, delay_evaluation), eta = reduction_factor, default 3); at a rung a trial
//                         goes on only if its best value so far is in the top max(1, floor(n / eta)) of the n
//                         trials that reached that rung
// Trials are compared only on what they reported up to the same interval, so a young trial is never judged
// against older trials' later values; and a live trial is judged again at an interval when another trial
// reports a value there later (the Controller does), as HyperDrive judges every live trial at each
// evaluation, so the outcome does not depend on which trial reported first. asha judges a rung once.
struct Policy {
    enum class Kind { None, Bandit, MedianStopping, TruncationSelection, Asha };
    Kind kind = Kind::None;
    int evaluationInterval = 1;
    int delayEvaluation = 0;
    double slackFactor = 0;
    double slackAmount = 0;
    double truncationPercentage = 0;
    int reductionFactor = 3;

    static Policy fromJson(const Json& j); // null: no policy; throws SpaceError naming the bad field
    Json toJson() const;
    bool appliesAt(std::size_t interval) const; // 1-based
};

// A trial's primary metric as it reported it, in order.
struct Curve {
    std::vector<double> values;
    std::vector<std::int64_t> steps;
};

// Whether trial `t` stops at its interval `n` (1-based, n <= its reports), judged against every trial's curve
// (its own included); the reason if so ("bandit: 0.71 is more than 10% worse than the best 0.86 at step
// 400").
std::optional<std::string> evaluate(const Policy& policy, Goal goal, const std::vector<Curve>& curves,
                                    std::size_t t, std::size_t n);

} // namespace Kiln::Sweeps
