#include "Sampler.h"

#include <algorithm>
#include <boost/random/sobol.hpp>
#include <cmath>
#include <limits>
#include <random>

namespace Kiln::Sweeps {

std::optional<std::int64_t> Sampler::size() const {
    std::int64_t n = 1;
    for (const auto& p : m_space) {
        if (!p.distribution.categorical())
            return std::nullopt;
        n *= static_cast<std::int64_t>(p.distribution.size());
        if (n > (std::int64_t(1) << 40))
            return std::nullopt;
    }
    return n;
}

Json Sampler::valuesAt(const std::vector<double>& u) const {
    Json values = Json::object();
    for (std::size_t i = 0; i < m_space.size(); ++i)
        values[m_space[i].name] = m_space[i].distribution.at(u[i]);
    return values;
}

namespace {

std::mt19937_64 rngFor(std::uint64_t seed, std::int64_t draw, std::uint32_t stream) {
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(draw), static_cast<std::uint32_t>(draw >> 32), stream};
    return std::mt19937_64(seq);
}

std::vector<double> uniformPoint(std::uint64_t seed, std::int64_t draw, std::size_t dims) {
    auto rng = rngFor(seed, draw, 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> u(dims);
    for (auto& x : u)
        x = unit(rng);
    return u;
}

class GridSampler final : public Sampler {
public:
    explicit GridSampler(SearchSpace space)
        : Sampler(std::move(space)) {
        for (const auto& p : m_space)
            if (!p.distribution.categorical())
                throw SpaceError("grid sampling takes choice() parameters only; " + p.name + " is " +
                                     p.distribution.text(),
                                 0);
        if (!Sampler::size())
            throw SpaceError("the grid has more than 2^40 points", 0);
    }
    std::optional<Json> sample(std::int64_t draw, const std::vector<Observation>&, Goal) override {
        if (draw < 0 || draw >= *size())
            return std::nullopt;
        // Mixed radix, the last parameter changing fastest.
        Json values = Json::object();
        for (auto p = m_space.rbegin(); p != m_space.rend(); ++p) {
            const auto n = static_cast<std::int64_t>(p->distribution.size());
            values[p->name] = p->distribution.choices()[static_cast<std::size_t>(draw % n)];
            draw /= n;
        }
        return values;
    }
};

class RandomSampler final : public Sampler {
public:
    RandomSampler(SearchSpace space, std::uint64_t seed)
        : Sampler(std::move(space))
        , m_seed(seed) {}
    std::optional<Json> sample(std::int64_t draw, const std::vector<Observation>&, Goal) override {
        return valuesAt(uniformPoint(m_seed, draw, m_space.size()));
    }

private:
    std::uint64_t m_seed;
};

class SobolSampler final : public Sampler {
public:
    SobolSampler(SearchSpace space, std::uint64_t seed)
        : Sampler(std::move(space))
        , m_shift(uniformPoint(seed, -1, m_space.size())) {
        // Boost's table holds 3667 dimensions; a sweep has at most 100 parameters (SweepSpec).
    }
    std::optional<Json> sample(std::int64_t draw, const std::vector<Observation>&, Goal) override {
        const auto dims = m_space.size();
        boost::random::sobol gen(dims);
        // Point 0 is the cube's corner: start at point 1.
        gen.discard(static_cast<std::uint64_t>(draw + 1) * dims);
        const double range = static_cast<double>(gen.max() - gen.min()) + 1.0;
        std::vector<double> u(dims);
        for (std::size_t i = 0; i < dims; ++i) {
            const double x = static_cast<double>(gen() - gen.min()) / range + m_shift[i];
            u[i] = x - std::floor(x); // a random shift (Cranley-Patterson) keeps the points' spread
        }
        return valuesAt(u);
    }

private:
    std::vector<double> m_shift;
};

// Tree-structured Parzen estimators (Bergstra et al. 2011) over the unit cube: the finished trials split into
// the best quarter ("good") and the rest; each parameter gets a density for each group (truncated Gaussian
// kernels plus a uniform prior; smoothed counts for choices); of 24 candidates drawn from the good density,
// the one with the highest good/bad ratio is proposed.
class BayesianSampler final : public Sampler {
public:
    BayesianSampler(SearchSpace space, std::uint64_t seed)
        : Sampler(std::move(space))
        , m_seed(seed) {}

    std::optional<Json> sample(std::int64_t draw, const std::vector<Observation>& finished,
                               Goal goal) override {
        const auto dims = m_space.size();
        std::vector<std::pair<double, std::vector<double>>> seen; // (loss, point)
        for (const auto& o : finished) {
            if (!std::isfinite(o.metric))
                continue;
            std::vector<double> u(dims);
            for (std::size_t i = 0; i < dims; ++i)
                u[i] = m_space[i].distribution.unit(
                    o.params.contains(m_space[i].name) ? o.params[m_space[i].name] : Json());
            seen.emplace_back(goal == Goal::Maximize ? -o.metric : o.metric, std::move(u));
        }
        const std::size_t startup = std::max<std::size_t>(5, 2 * dims);
        if (seen.size() < startup)
            return valuesAt(uniformPoint(m_seed, draw, dims));
        std::stable_sort(seen.begin(), seen.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        const auto nGood = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(0.25 * seen.size())));
        auto rng = rngFor(m_seed, draw, 2);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        std::vector<double> best;
        double bestScore = -std::numeric_limits<double>::infinity();
        for (int c = 0; c < 24; ++c) {
            std::vector<double> x(dims);
            double score = 0;
            for (std::size_t d = 0; d < dims; ++d) {
                std::vector<double> good, bad;
                for (std::size_t j = 0; j < seen.size(); ++j)
                    (j < nGood ? good : bad).push_back(seen[j].second[d]);
                const auto& dist = m_space[d].distribution;
                if (dist.categorical()) {
                    const auto k = dist.size();
                    std::vector<double> lw(k, 1.0), gw(k, 1.0); // a prior count of one each
                    for (double u : good)
                        lw[std::min(k - 1, static_cast<std::size_t>(u * k))] += 1;
                    for (double u : bad)
                        gw[std::min(k - 1, static_cast<std::size_t>(u * k))] += 1;
                    std::discrete_distribution<std::size_t> pick(lw.begin(), lw.end());
                    const auto i = pick(rng);
                    x[d] = (static_cast<double>(i) + 0.5) / static_cast<double>(k);
                    score += std::log(lw[i] / (good.size() + k)) - std::log(gw[i] / (bad.size() + k));
                } else {
                    x[d] = drawFrom(good, rng, unit);
                    score += std::log(density(good, x[d])) - std::log(density(bad, x[d]));
                }
            }
            if (score > bestScore) {
                bestScore = score;
                best = x;
            }
        }
        return valuesAt(best);
    }

private:
    static double bandwidth(const std::vector<double>& pts) {
        if (pts.size() < 2)
            return 0.25;
        double mean = 0;
        for (double p : pts)
            mean += p;
        mean /= static_cast<double>(pts.size());
        double var = 0;
        for (double p : pts)
            var += (p - mean) * (p - mean);
        const double sd = std::sqrt(var / static_cast<double>(pts.size() - 1));
        // Scott's rule, but never narrower than 1 / (n + 1) of the range: a few good points must not collapse
        // the search onto themselves (a floor of 0.03 made it lose to random sampling on a quadratic).
        return std::clamp(1.06 * sd * std::pow(static_cast<double>(pts.size()), -0.2),
                          1.0 / static_cast<double>(pts.size() + 1), 0.5);
    }
    // The mixture: a uniform prior plus one Gaussian per point, each truncated to [0, 1], equal weights.
    static double density(const std::vector<double>& pts, double x) {
        const double h = bandwidth(pts);
        double sum = 1.0; // the prior's density on [0, 1]
        for (double p : pts) {
            const double z = normalCdf((1 - p) / h) - normalCdf(-p / h);
            const double t = (x - p) / h;
            sum += std::exp(-0.5 * t * t) / (h * std::sqrt(2 * M_PI) * std::max(z, 1e-12));
        }
        return sum / static_cast<double>(pts.size() + 1);
    }
    template <class Rng>
    static double drawFrom(const std::vector<double>& pts, Rng& rng,
                           std::uniform_real_distribution<double>& unit) {
        const auto n = pts.size();
        const auto k = static_cast<std::size_t>(unit(rng) * static_cast<double>(n + 1));
        if (k >= n)
            return unit(rng);
        std::normal_distribution<double> around(pts[k], bandwidth(pts));
        for (int tries = 0; tries < 50; ++tries) {
            const double x = around(rng);
            if (x >= 0 && x < 1)
                return x;
        }
        return std::clamp(pts[k], 0.0, std::nextafter(1.0, 0.0));
    }
    std::uint64_t m_seed;
};

} // namespace

std::unique_ptr<Sampler> makeSampler(const std::string& method, const SearchSpace& space,
                                     std::uint64_t seed) {
    if (space.empty())
        throw SpaceError("a sweep needs at least one parameter", 0);
    if (method == "grid")
        return std::make_unique<GridSampler>(space);
    if (method == "random")
        return std::make_unique<RandomSampler>(space, seed);
    if (method == "sobol")
        return std::make_unique<SobolSampler>(space, seed);
    if (method == "bayesian")
        return std::make_unique<BayesianSampler>(space, seed);
    throw SpaceError("sampling must be grid, random, sobol or bayesian, not '" + method + "'", 0);
}

} // namespace Kiln::Sweeps
