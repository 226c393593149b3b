#pragma once
#include "sweeps/SearchSpace.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Sweeps {

enum class Goal { Maximize, Minimize };

// A finished trial as a model-based sampler learns from it: its values ({parameter name: value}) and the
// primary metric it reached.
struct Observation {
    Json params;
    double metric = 0;
};

// Proposes trials' values. Draw n of a sweep is a pure function of (space, seed, n, what has finished), so a
// restarted kilnd proposes the same trials, and a duplicate is skipped by drawing n + 1.
class Sampler {
public:
    virtual ~Sampler() = default;
    // Draw `draw` as {parameter name: value}; nothing once the space is exhausted (grid).
    virtual std::optional<Json> sample(std::int64_t draw, const std::vector<Observation>& finished,
                                       Goal goal) = 0;
    // How many distinct points the space has, when it is finite and small enough to count.
    virtual std::optional<std::int64_t> size() const;

protected:
    explicit Sampler(SearchSpace space)
        : m_space(std::move(space)) {}
    Json valuesAt(const std::vector<double>& u) const;
    SearchSpace m_space;
};

// `method`: grid (choices only: every combination once, in order), random (seeded), sobol (Sobol points,
// shifted by the seed: Boost.Random's table), bayesian (tree-structured Parzen estimators over the finished
// trials, ours; random for the first max(5, 2 x parameters) draws). Throws SpaceError for a method the
// space cannot use (grid over a continuous parameter) or an unknown one.
std::unique_ptr<Sampler> makeSampler(const std::string& method, const SearchSpace& space, std::uint64_t seed);

} // namespace Kiln::Sweeps
