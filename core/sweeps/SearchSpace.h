#pragma once
#include "util/Json.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace Kiln::Sweeps {

// A parameter's distribution, written as Azure ML's HyperDrive writes it, with the same meanings:
//   choice(a, b, ...)            one of the values (numbers or words); choice(range(lo, hi[, step])) too
//   randint(upper)               an integer in [0, upper)
//   uniform(lo, hi)              uniform on [lo, hi]
//   quniform(lo, hi, q)          round(uniform(lo, hi) / q) * q
//   loguniform(lo, hi)           exp(uniform(lo, hi)): loguniform(-6, -1) is 0.0025 to 0.37
//   qloguniform(lo, hi, q)       round(exp(uniform(lo, hi)) / q) * q
//   normal(mu, sigma)            normal with mean mu and standard deviation sigma
//   qnormal(mu, sigma, q)        round(normal(mu, sigma) / q) * q
//   lognormal(mu, sigma)         exp(normal(mu, sigma))
//   qlognormal(mu, sigma, q)     round(exp(normal(mu, sigma)) / q) * q
// Every distribution is a map from a point u of [0, 1) (one coordinate of a sampler's unit cube) to a value,
// so random, quasi-random and model-based samplers share it. Quantized values with an integer q are integers.
class Distribution final {
public:
    enum class Kind {
        Choice,
        RandInt,
        Uniform,
        QUniform,
        LogUniform,
        QLogUniform,
        Normal,
        QNormal,
        LogNormal,
        QLogNormal
    };
    // Throws SpaceError, whose column (1-based) points into `text`.
    static Distribution parse(const std::string& text);

    Kind kind() const { return m_kind; }
    const std::string& text() const { return m_text; }
    const std::vector<Json>& choices() const { return m_choices; } // Choice
    bool categorical() const { return m_kind == Kind::Choice; }
    std::size_t size() const { return m_choices.size(); } // number of choices

    Json at(double u) const;          // the value at u in [0, 1)
    double unit(const Json& v) const; // where a value lies in [0, 1) (its inverse, up to quantization)

private:
    Kind m_kind = Kind::Uniform;
    std::string m_text;
    std::vector<Json> m_choices;
    double m_a = 0, m_b = 0, m_q = 0;
};

struct SpaceError : std::runtime_error {
    SpaceError(const std::string& message, int column)
        : std::runtime_error(message)
        , column(column) {}
    int column; // 1-based, 0: none
};

struct Parameter {
    std::string
        name; // as written: "--learning-rate" (an argument) or "learning_rate" (becomes --learning_rate)
    Distribution distribution;
    std::string argument() const; // the script's argument: name if it starts with '-', else "--" + name
    std::string key() const;      // the run's param: argparse's dest ("--learning-rate" -> "learning_rate")
};

using SearchSpace = std::vector<Parameter>;

// argparse's dest for an argument name: "--learning-rate" -> "learning_rate" (a trial's param key).
std::string paramKey(const std::string& name);

// The standard normal's quantile function (u in (0, 1)).
double normalQuantile(double u);
double normalCdf(double x);

} // namespace Kiln::Sweeps
