#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace Kiln::Runs {

// A query over a workspace's runs, answered in SQL by RunStore::query (GET /api/v1/runs).
//
// `filter` is an expression over a run's fields (docs: core/api/API.md, "Run queries"):
//     metrics.accuracy > 0.85 and params.learning_rate < 0.01
//     (status = Failed or status = Canceled) and not tags.stage = prod
//     max(metrics.accuracy) >= 0.9 and name ~ baseline
// Fields: metrics.K (the last value; min(metrics.K), max(metrics.K)), params.K, tags.K, and the attributes
// id, name, status, experiment, compute, node, script, created, started, ended, duration, sweep, starred,
// archived. Operators: = != < <= > >= and ~ (contains, case-insensitive). A number compares as a number
// (a param logged as the text "0.01" equals 0.01); a missing value matches nothing but !=. Keys with other
// characters than letters, digits and _ . / - are quoted with backticks: params.`batch size`.
// `text` is plain words, each of which must appear in the run's name, experiment, status or tags.
// `orderBy` is "FIELD [asc|desc]" (several, comma-separated); numbers sort as numbers and runs without
// the field sort last either way; ties fall back to the newest first.
struct RunQuery {
    std::string experiment; // exact name; empty: every experiment
    std::string text;
    std::string filter;
    std::string orderBy;
    bool archived = false; // include archived runs
    std::optional<std::int64_t> sweep;
    std::int64_t limit = 100;
    std::int64_t offset = 0;
};

// A filter or order that does not parse: `column` is where (1-based, in the expression the user wrote)
// and `length` how much of it to underline.
class QueryError : public std::runtime_error {
public:
    QueryError(const std::string& what, int column, int length)
        : std::runtime_error(what)
        , column(column)
        , length(length) {}
    int column;
    int length;
};

// The SQL a query becomes: `where` and `order` over runs `r` joined with experiments `e`, with `?`
// placeholders for `whereBinds` and `orderBinds`, in order.
struct CompiledQuery {
    using Value = std::variant<std::int64_t, double, std::string>;
    std::string where;
    std::string order;
    std::vector<Value> whereBinds;
    std::vector<Value> orderBinds;
};

// Throws QueryError.
CompiledQuery compileQuery(const RunQuery& query, double now);

// True when `text` is meant as an expression rather than words to look for (it names a field with a
// comparison, or uses a comparison operator): how the studio's one filter box decides.
bool looksLikeFilterExpression(const std::string& text);

} // namespace Kiln::Runs
