#include "Policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace Kiln::Sweeps {

namespace {

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

int intIn(const Json& j, const char* key, int def, int min, int max) {
    if (!j.contains(key) || j[key].is_null())
        return def;
    if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < min || j[key].get<std::int64_t>() > max)
        throw SpaceError(std::string("early_termination.") + key + " must be a whole number from " +
                             std::to_string(min) + " to " + std::to_string(max),
                         0);
    return j[key].get<int>();
}

double numberIn(const Json& j, const char* key, double min, double max) {
    if (!j.contains(key) || j[key].is_null())
        return 0;
    if (!j[key].is_number() || !(j[key].get<double>() > min) || j[key].get<double>() > max)
        throw SpaceError(std::string("early_termination.") + key + " must be a number above " + num(min) +
                             " and at most " + num(max),
                         0);
    return j[key].get<double>();
}

// Better means larger when maximizing.
bool better(Goal goal, double a, double b) {
    return goal == Goal::Maximize ? a > b : a < b;
}

double bestUpTo(Goal goal, const Curve& c, std::size_t n) {
    double best = c.values[0];
    for (std::size_t i = 1; i < n; ++i)
        if (better(goal, c.values[i], best))
            best = c.values[i];
    return best;
}

} // namespace

Policy Policy::fromJson(const Json& j) {
    Policy p;
    if (j.is_null())
        return p;
    if (!j.is_object() || !j.contains("policy") || !j["policy"].is_string())
        throw SpaceError(
            "early_termination needs a 'policy': bandit, median_stopping, truncation_selection or asha", 0);
    const auto name = j["policy"].get<std::string>();
    static const std::vector<std::pair<std::string, Kind>> kinds = {
        {"bandit", Kind::Bandit},
        {"median_stopping", Kind::MedianStopping},
        {"truncation_selection", Kind::TruncationSelection},
        {"asha", Kind::Asha},
        {"none", Kind::None}};
    auto k = std::find_if(kinds.begin(), kinds.end(), [&](const auto& e) { return e.first == name; });
    if (k == kinds.end())
        throw SpaceError(
            "early_termination.policy must be bandit, median_stopping, truncation_selection or asha, "
            "not '" +
                name + "'",
            0);
    p.kind = k->second;
    std::vector<std::string> allowed = {"policy", "evaluation_interval", "delay_evaluation"};
    if (p.kind == Kind::Bandit)
        allowed.insert(allowed.end(), {"slack_factor", "slack_amount"});
    if (p.kind == Kind::TruncationSelection)
        allowed.insert(allowed.end(), {"truncation_percentage"});
    if (p.kind == Kind::Asha)
        allowed.insert(allowed.end(), {"reduction_factor"});
    for (const auto& [key, v] : j.items())
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            throw SpaceError("early_termination: " + name + " has no setting '" + key + "'", 0);
    p.evaluationInterval = intIn(j, "evaluation_interval", 1, 1, 1000000);
    p.delayEvaluation = intIn(j, "delay_evaluation", 0, 0, 1000000);
    if (p.kind == Kind::Bandit) {
        p.slackFactor = numberIn(j, "slack_factor", 0, 1e6);
        p.slackAmount = numberIn(j, "slack_amount", 0, 1e300);
        if ((p.slackFactor > 0) == (p.slackAmount > 0))
            throw SpaceError("early_termination: bandit needs one of slack_factor or slack_amount", 0);
    }
    if (p.kind == Kind::TruncationSelection) {
        p.truncationPercentage = numberIn(j, "truncation_percentage", 0, 99);
        if (p.truncationPercentage <= 0)
            throw SpaceError("early_termination: truncation_selection needs truncation_percentage (1-99)", 0);
    }
    if (p.kind == Kind::Asha)
        p.reductionFactor = intIn(j, "reduction_factor", 3, 2, 100);
    return p;
}

Json Policy::toJson() const {
    switch (kind) {
    case Kind::None:
        return nullptr;
    case Kind::Bandit: {
        Json j = {{"policy", "bandit"},
                  {"evaluation_interval", evaluationInterval},
                  {"delay_evaluation", delayEvaluation}};
        slackFactor > 0 ? void(j["slack_factor"] = slackFactor) : void(j["slack_amount"] = slackAmount);
        return j;
    }
    case Kind::MedianStopping:
        return {{"policy", "median_stopping"},
                {"evaluation_interval", evaluationInterval},
                {"delay_evaluation", delayEvaluation}};
    case Kind::TruncationSelection:
        return {{"policy", "truncation_selection"},
                {"truncation_percentage", truncationPercentage},
                {"evaluation_interval", evaluationInterval},
                {"delay_evaluation", delayEvaluation}};
    case Kind::Asha:
        return {
            {"policy", "asha"}, {"reduction_factor", reductionFactor}, {"delay_evaluation", delayEvaluation}};
    }
    return nullptr;
}

bool Policy::appliesAt(std::size_t n) const {
    if (kind == Kind::None || n == 0)
        return false;
    if (kind == Kind::Asha) {
        std::size_t rung = static_cast<std::size_t>(std::max(1, delayEvaluation));
        while (rung < n)
            rung *= static_cast<std::size_t>(reductionFactor);
        return rung == n;
    }
    return n % static_cast<std::size_t>(evaluationInterval) == 0 &&
           n >= static_cast<std::size_t>(delayEvaluation);
}

std::optional<std::string> evaluate(const Policy& p, Goal goal, const std::vector<Curve>& curves,
                                    std::size_t t, std::size_t n) {
    if (t >= curves.size() || n == 0 || n > curves[t].values.size() || !p.appliesAt(n))
        return std::nullopt;
    const auto& me = curves[t];
    const std::string at = " at step " + std::to_string(me.steps[n - 1]);
    std::vector<const Curve*> peers; // every trial that reached interval n, this one included
    for (const auto& c : curves)
        if (c.values.size() >= n)
            peers.push_back(&c);
    switch (p.kind) {
    case Policy::Kind::None:
        return std::nullopt;
    case Policy::Kind::Bandit: {
        const double v = me.values[n - 1];
        double best = v;
        for (const auto* c : peers)
            if (better(goal, c->values[n - 1], best))
                best = c->values[n - 1];
        const bool max = goal == Goal::Maximize;
        if (p.slackFactor > 0) {
            const double limit = max ? best / (1 + p.slackFactor) : best * (1 + p.slackFactor);
            if (max ? v < limit : v > limit)
                return "bandit: " + num(v) + " is more than " + num(p.slackFactor * 100) +
                       "% worse than the best " + num(best) + at;
        } else {
            const double limit = max ? best - p.slackAmount : best + p.slackAmount;
            if (max ? v < limit : v > limit)
                return "bandit: " + num(v) + " is more than " + num(p.slackAmount) +
                       (max ? " below" : " above") + " the best " + num(best) + at;
        }
        return std::nullopt;
    }
    case Policy::Kind::MedianStopping: {
        std::vector<double> averages;
        for (const auto* c : peers) {
            double sum = 0;
            for (std::size_t i = 0; i < n; ++i)
                sum += c->values[i];
            averages.push_back(sum / static_cast<double>(n));
        }
        std::sort(averages.begin(), averages.end());
        const auto m = averages.size();
        const double median = m % 2 ? averages[m / 2] : 0.5 * (averages[m / 2 - 1] + averages[m / 2]);
        const double mine = bestUpTo(goal, me, n);
        if (better(goal, median, mine))
            return "median_stopping: the best so far, " + num(mine) + ", is worse than the median " +
                   num(median) + " of " + std::to_string(m) + " trials' running averages" + at;
        return std::nullopt;
    }
    case Policy::Kind::TruncationSelection: {
        const auto cut = static_cast<std::size_t>(
            std::floor(static_cast<double>(peers.size()) * p.truncationPercentage / 100.0));
        const double mine = bestUpTo(goal, me, n);
        std::size_t worse = 0;
        for (const auto* c : peers)
            worse += better(goal, mine, bestUpTo(goal, *c, n));
        if (worse < cut)
            return "truncation_selection: " + num(mine) + " is in the lowest " + num(p.truncationPercentage) +
                   "% of " + std::to_string(peers.size()) + " trials" + at;
        return std::nullopt;
    }
    case Policy::Kind::Asha: {
        const auto keep =
            std::max<std::size_t>(1, peers.size() / static_cast<std::size_t>(p.reductionFactor));
        const double mine = bestUpTo(goal, me, n);
        std::size_t ahead = 0;
        for (const auto* c : peers)
            ahead += better(goal, bestUpTo(goal, *c, n), mine);
        if (ahead >= keep)
            return "asha: " + num(mine) + " is not in the top " + std::to_string(keep) + " of " +
                   std::to_string(peers.size()) + " trials at rung " + std::to_string(n) + at;
        return std::nullopt;
    }
    }
    return std::nullopt;
}

} // namespace Kiln::Sweeps
