#include "SearchSpace.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>

namespace Kiln::Sweeps {

double normalCdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

double normalQuantile(double u) {
    u = std::clamp(u, 1e-12, 1 - 1e-12);
    // Bisection on the CDF: exact to double precision in 80 steps, and cheap next to a trial.
    double lo = -10, hi = 10;
    for (int i = 0; i < 80; ++i) {
        const double mid = 0.5 * (lo + hi);
        (normalCdf(mid) < u ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

namespace {

// A tiny recursive-descent reader over one expression; every error names its column.
class Reader {
public:
    explicit Reader(const std::string& text)
        : m_s(text) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw SpaceError(what + " at column " + std::to_string(m_pos + 1) + " of '" + m_s + "'",
                         static_cast<int>(m_pos + 1));
    }
    void skip() {
        while (m_pos < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_pos])))
            ++m_pos;
    }
    bool at(char c) {
        skip();
        return m_pos < m_s.size() && m_s[m_pos] == c;
    }
    void expect(char c) {
        if (!at(c))
            fail(std::string("expected '") + c + "'");
        ++m_pos;
    }
    bool done() {
        skip();
        return m_pos >= m_s.size();
    }
    std::size_t pos() const { return m_pos; }
    void seek(std::size_t pos) { m_pos = pos; }
    std::string word() {
        skip();
        const auto start = m_pos;
        while (m_pos < m_s.size() &&
               (std::isalnum(static_cast<unsigned char>(m_s[m_pos])) || m_s[m_pos] == '_'))
            ++m_pos;
        return m_s.substr(start, m_pos - start);
    }
    // A number, kept an integer when written as one.
    std::optional<Json> number() {
        skip();
        const char* begin = m_s.c_str() + m_pos;
        char* end = nullptr;
        const double d = std::strtod(begin, &end);
        if (end == begin || !std::isfinite(d))
            return std::nullopt;
        const std::string written(begin, static_cast<std::size_t>(end - begin));
        m_pos += static_cast<std::size_t>(end - begin);
        if (written.find_first_of(".eEnN") == std::string::npos && std::abs(d) < 9e15)
            return Json(static_cast<std::int64_t>(d));
        return Json(d);
    }
    double needNumber(const char* what) {
        auto n = number();
        if (!n)
            fail(std::string("expected ") + what);
        return n->get<double>();
    }
    // A choice value: a number, a quoted string, or a bare word.
    Json value() {
        skip();
        if (at('\'') || at('"')) {
            const char quote = m_s[m_pos++];
            const auto end = m_s.find(quote, m_pos);
            if (end == std::string::npos)
                fail("unterminated string");
            std::string text = m_s.substr(m_pos, end - m_pos);
            m_pos = end + 1;
            return text;
        }
        const auto save = m_pos;
        if (auto n = number()) {
            skip();
            if (m_pos >= m_s.size() || m_s[m_pos] == ',' || m_s[m_pos] == ')')
                return *n;
            m_pos = save; // "1e3x": a word
        }
        const auto start = m_pos;
        while (m_pos < m_s.size() && m_s[m_pos] != ',' && m_s[m_pos] != ')' && m_s[m_pos] != '(')
            ++m_pos;
        std::string text = m_s.substr(start, m_pos - start);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
            text.pop_back();
        if (text.empty())
            fail("expected a value");
        return text;
    }

private:
    const std::string& m_s;
    std::size_t m_pos = 0;
};

double quantize(double x, double q) {
    return std::round(x / q) * q;
}

Json number(double x, double q) {
    if (q > 0 && q == std::floor(q) && std::abs(x) < 9e15)
        return Json(static_cast<std::int64_t>(std::llround(x)));
    return Json(x);
}

} // namespace

Distribution Distribution::parse(const std::string& text) {
    static const std::map<std::string, std::pair<Kind, int>> kinds = {
        {"choice", {Kind::Choice, -1}},        {"randint", {Kind::RandInt, 1}},
        {"uniform", {Kind::Uniform, 2}},       {"quniform", {Kind::QUniform, 3}},
        {"loguniform", {Kind::LogUniform, 2}}, {"qloguniform", {Kind::QLogUniform, 3}},
        {"normal", {Kind::Normal, 2}},         {"qnormal", {Kind::QNormal, 3}},
        {"lognormal", {Kind::LogNormal, 2}},   {"qlognormal", {Kind::QLogNormal, 3}}};
    Reader r(text);
    Distribution d;
    d.m_text = text;
    const auto nameAt = r.pos();
    const auto name = r.word();
    auto kind = kinds.find(name);
    if (kind == kinds.end()) {
        std::string known;
        for (const auto& [k, v] : kinds)
            known += (known.empty() ? "" : ", ") + k;
        throw SpaceError("unknown distribution '" + name + "' at column " + std::to_string(nameAt + 1) +
                             " of '" + text + "' (one of: " + known + ")",
                         static_cast<int>(nameAt + 1));
    }
    d.m_kind = kind->second.first;
    r.expect('(');
    if (d.m_kind == Kind::Choice) {
        do {
            const auto save = r.pos();
            if (r.word() == "range" && r.at('(')) {
                // Python's range: range(hi), range(lo, hi), range(lo, hi, step).
                r.expect('(');
                std::vector<double> a{r.needNumber("a number")};
                while (a.size() < 3 && r.at(',')) {
                    r.expect(',');
                    a.push_back(r.needNumber("a number"));
                }
                r.expect(')');
                const double lo = a.size() > 1 ? a[0] : 0, hi = a.size() > 1 ? a[1] : a[0];
                const double step = a.size() > 2 ? a[2] : 1;
                if (step == 0 || std::abs((hi - lo) / step) > 10000)
                    r.fail("range() needs a non-zero step and at most 10000 values");
                for (double v = lo; step > 0 ? v < hi : v > hi; v += step)
                    d.m_choices.push_back(v == std::floor(v) ? Json(static_cast<std::int64_t>(v)) : Json(v));
            } else {
                r.seek(save);
                d.m_choices.push_back(r.value());
            }
            if (d.m_choices.size() > 10000)
                r.fail("a choice has at most 10000 values");
        } while (r.at(',') && (r.expect(','), true));
        r.expect(')');
        if (!r.done())
            r.fail("unexpected text after ')'");
        if (d.m_choices.empty())
            r.fail("a choice needs at least one value");
        return d;
    }
    std::vector<double> args;
    const int want = kind->second.second;
    for (int i = 0; i < want; ++i) {
        if (i > 0)
            r.expect(',');
        args.push_back(r.needNumber("a number"));
    }
    if (r.at(','))
        r.fail(name + "() takes " + std::to_string(want) + " numbers");
    r.expect(')');
    if (!r.done())
        r.fail("unexpected text after ')'");
    auto bad = [&](const std::string& why) { throw SpaceError(name + ": " + why + " in '" + text + "'", 0); };
    d.m_a = args[0];
    d.m_b = args.size() > 1 ? args[1] : 0;
    d.m_q = args.size() > 2 ? args[2] : 0;
    switch (d.m_kind) {
    case Kind::RandInt:
        if (d.m_a < 1 || d.m_a != std::floor(d.m_a))
            bad("the upper bound must be a whole number of at least 1");
        break;
    case Kind::Uniform:
    case Kind::QUniform:
    case Kind::LogUniform:
    case Kind::QLogUniform:
        if (!(d.m_a < d.m_b))
            bad("the low bound must be below the high bound");
        if ((d.m_kind == Kind::LogUniform || d.m_kind == Kind::QLogUniform) && d.m_b > 700)
            bad("the bounds are exponents: exp(" + std::to_string(d.m_b) + ") is too large");
        break;
    default:
        if (!(d.m_b > 0))
            bad("sigma must be above 0");
    }
    if (args.size() > 2 && !(d.m_q > 0))
        bad("q must be above 0");
    return d;
}

Json Distribution::at(double u) const {
    u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
    switch (m_kind) {
    case Kind::Choice:
        return m_choices[std::min(m_choices.size() - 1, static_cast<std::size_t>(u * m_choices.size()))];
    case Kind::RandInt:
        return static_cast<std::int64_t>(std::min(m_a - 1, std::floor(u * m_a)));
    case Kind::Uniform:
        return m_a + u * (m_b - m_a);
    case Kind::QUniform:
        return number(quantize(m_a + u * (m_b - m_a), m_q), m_q);
    case Kind::LogUniform:
        return std::exp(m_a + u * (m_b - m_a));
    case Kind::QLogUniform:
        return number(quantize(std::exp(m_a + u * (m_b - m_a)), m_q), m_q);
    case Kind::Normal:
        return m_a + m_b * normalQuantile(u);
    case Kind::QNormal:
        return number(quantize(m_a + m_b * normalQuantile(u), m_q), m_q);
    case Kind::LogNormal:
        return std::exp(m_a + m_b * normalQuantile(u));
    case Kind::QLogNormal:
        return number(quantize(std::exp(m_a + m_b * normalQuantile(u)), m_q), m_q);
    }
    return nullptr;
}

double Distribution::unit(const Json& v) const {
    auto clamp = [](double u) { return std::clamp(u, 0.0, std::nextafter(1.0, 0.0)); };
    if (m_kind == Kind::Choice) {
        for (std::size_t i = 0; i < m_choices.size(); ++i)
            if (m_choices[i] == v)
                return (static_cast<double>(i) + 0.5) / static_cast<double>(m_choices.size());
        return 0.5;
    }
    if (!v.is_number())
        return 0.5;
    const double x = v.get<double>();
    auto log = [](double y) { return y > 0 ? std::log(y) : -1e300; };
    switch (m_kind) {
    case Kind::RandInt:
        return clamp((x + 0.5) / m_a);
    case Kind::Uniform:
    case Kind::QUniform:
        return clamp((x - m_a) / (m_b - m_a));
    case Kind::LogUniform:
    case Kind::QLogUniform:
        return clamp((log(x) - m_a) / (m_b - m_a));
    case Kind::Normal:
    case Kind::QNormal:
        return clamp(normalCdf((x - m_a) / m_b));
    case Kind::LogNormal:
    case Kind::QLogNormal:
        return clamp(normalCdf((log(x) - m_a) / m_b));
    default:
        return 0.5;
    }
}

std::string Parameter::argument() const {
    return !name.empty() && name[0] == '-' ? name : "--" + name;
}

std::string paramKey(const std::string& name) {
    const auto start = name.find_first_not_of('-');
    std::string k = start == std::string::npos ? std::string() : name.substr(start);
    std::replace(k.begin(), k.end(), '-', '_');
    return k;
}

std::string Parameter::key() const {
    return paramKey(name);
}

} // namespace Kiln::Sweeps
