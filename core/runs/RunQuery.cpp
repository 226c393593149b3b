#include "RunQuery.h"

#include "runs/Run.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string_view>

namespace Kiln::Runs {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

struct Token {
    enum Kind { Word, Number, String, Op, LParen, RParen, Comma, End } kind = End;
    std::string text; // a word without its backticks, a string without its quotes, an operator
    double number = 0;
    int column = 1; // 1-based
    int length = 0;
};

bool wordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-';
}

std::vector<Token> tokenize(const std::string& s) {
    std::vector<Token> out;
    std::size_t i = 0;
    auto error = [&](const std::string& what, std::size_t at, std::size_t len) {
        throw QueryError(what + " at column " + std::to_string(at + 1), static_cast<int>(at + 1),
                         static_cast<int>(std::max<std::size_t>(len, 1)));
    };
    while (i < s.size()) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        Token t;
        t.column = static_cast<int>(i + 1);
        const std::size_t start = i;
        if (c == '(' || c == ')' || c == ',') {
            t.kind = c == '(' ? Token::LParen : c == ')' ? Token::RParen : Token::Comma;
            t.text = std::string(1, c);
            ++i;
        } else if (c == '\'' || c == '"') {
            const auto close = s.find(c, i + 1);
            if (close == std::string::npos)
                error(std::string("a string opened with ") + c + " is not closed", i, s.size() - i);
            t.kind = Token::String;
            t.text = s.substr(i + 1, close - i - 1);
            i = close + 1;
        } else if (std::string_view("=!<>~").find(c) != std::string_view::npos) {
            t.kind = Token::Op;
            const std::string two = s.substr(i, 2);
            if (two == "==" || two == "!=" || two == "<=" || two == ">=" || two == "<>") {
                t.text = two == "==" ? "=" : two == "<>" ? "!=" : two;
                i += 2;
            } else if (c == '!') {
                error("'!' is only half of an operator (did you mean '!=')", i, 1);
            } else {
                t.text = std::string(1, c);
                ++i;
            }
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   ((c == '-' || c == '+' || c == '.') && i + 1 < s.size() &&
                    (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '.'))) {
            const char* begin = s.c_str() + i;
            char* end = nullptr;
            t.number = std::strtod(begin, &end);
            std::size_t n = static_cast<std::size_t>(end - begin);
            // A word that begins with digits (a run named 3x3) is a word, not a number and a word.
            if (n == 0 || (i + n < s.size() && (std::isalpha(static_cast<unsigned char>(s[i + n])) ||
                                                s[i + n] == '_' || s[i + n] == '/'))) {
                while (i + n < s.size() && wordChar(s[i + n]))
                    ++n;
                t.kind = Token::Word;
                t.text = s.substr(i, n);
            } else {
                t.kind = Token::Number;
                t.text = s.substr(i, n);
            }
            i += n;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '`') {
            t.kind = Token::Word;
            while (i < s.size() && (wordChar(s[i]) || s[i] == '`')) {
                if (s[i] == '`') {
                    const auto close = s.find('`', i + 1);
                    if (close == std::string::npos)
                        error("a name opened with ` is not closed", i, s.size() - i);
                    t.text += s.substr(i + 1, close - i - 1);
                    i = close + 1;
                } else {
                    t.text += s[i++];
                }
            }
        } else {
            error(std::string("unexpected '") + c + "'", i, 1);
        }
        t.length = static_cast<int>(i - start);
        out.push_back(std::move(t));
    }
    Token end;
    end.column = static_cast<int>(s.size() + 1);
    out.push_back(end);
    return out;
}

enum class Type { Number, Text, Time, Bool };

struct Attribute {
    const char* name;
    const char* sql;
    Type type;
};

const Attribute kAttributes[] = {
    {"id", "r.id", Type::Number},
    {"name", "r.name", Type::Text},
    {"status", "r.status", Type::Text},
    {"experiment", "e.name", Type::Text},
    {"compute", "r.compute", Type::Text},
    {"node", "r.node", Type::Text},
    {"script", "r.script", Type::Text},
    {"created", "r.created", Type::Time},
    {"started", "r.started", Type::Time},
    {"ended", "r.ended", Type::Time},
    {"duration", "(COALESCE(r.ended, ?) - r.started)", Type::Number},
    {"sweep", "r.sweep_id", Type::Number},
    {"starred", "r.starred", Type::Bool},
    {"archived", "(r.archived OR e.archived)", Type::Bool},
};

// A field, as SQL: `sql` holds `?` placeholders for `binds`.
struct FieldSql {
    std::string sql;
    std::vector<CompiledQuery::Value> binds;
    Type type = Type::Text;
    bool json = false;        // a param or tag: a number or text, decided per run
    std::string name;         // as the user would write it, for messages
    std::string metricColumn; // a metric's: last_value, min_value or max_value (compared through an index)
};

std::string keyPath(const Token& at, const std::string& key) {
    if (key.empty())
        throw QueryError("a field needs a name after its prefix at column " + std::to_string(at.column),
                         at.column, at.length);
    if (key.find('"') != std::string::npos)
        throw QueryError("a key cannot hold a double quote at column " + std::to_string(at.column), at.column,
                         at.length);
    return "$.\"" + key + "\"";
}

class Parser {
public:
    Parser(const std::string& text, double now)
        : m_tokens(tokenize(text))
        , m_now(now) {}

    std::string parseFilter(std::vector<CompiledQuery::Value>& binds) {
        auto sql = parseOr(binds);
        expectEnd("'and', 'or' or the end");
        return sql;
    }

    std::string parseOrder(std::vector<CompiledQuery::Value>& binds) {
        std::string sql;
        while (true) {
            auto field = parseField();
            bool descending = false;
            if (peek().kind == Token::Word && (lower(peek().text) == "asc" || lower(peek().text) == "desc"))
                descending = lower(next().text) == "desc";
            const auto expr = field.json ? "kiln_value(" + field.sql + ")" : field.sql;
            // Runs without the field last, either way; a param's numbers before its words, either way
            // (SQLite puts text after numbers, so only a descending order needs telling).
            int times = 1;
            if (field.json && descending) {
                sql += "typeof(" + expr + ") = 'text', ";
                ++times;
            }
            sql += expr + (descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
            for (; times > 0; --times)
                binds.insert(binds.end(), field.binds.begin(), field.binds.end());
            if (peek().kind != Token::Comma)
                break;
            next();
        }
        expectEnd("',', 'asc', 'desc' or the end");
        return sql;
    }

private:
    const Token& peek() const { return m_tokens[m_pos]; }
    const Token& next() { return m_tokens[m_pos < m_tokens.size() - 1 ? m_pos++ : m_pos]; }
    [[noreturn]] void fail(const Token& t, const std::string& expected) const {
        const std::string found = t.kind == Token::End ? "the end" : "'" + t.text + "'";
        throw QueryError("expected " + expected + " at column " + std::to_string(t.column) + ", found " +
                             found,
                         t.column, std::max(t.length, 1));
    }
    void expectEnd(const std::string& expected) {
        if (peek().kind != Token::End)
            fail(peek(), expected);
    }
    bool keyword(const char* word) {
        if (peek().kind == Token::Word && lower(peek().text) == word) {
            next();
            return true;
        }
        return false;
    }

    std::string parseOr(std::vector<CompiledQuery::Value>& binds) {
        auto sql = parseAnd(binds);
        while (keyword("or"))
            sql = "(" + sql + " OR " + parseAnd(binds) + ")";
        return sql;
    }
    std::string parseAnd(std::vector<CompiledQuery::Value>& binds) {
        auto sql = parseNot(binds);
        while (keyword("and") || peek().kind == Token::Op) {
            if (peek().kind == Token::Op) // "a > 1 > 2"
                fail(peek(), "'and', 'or' or the end");
            sql = "(" + sql + " AND " + parseNot(binds) + ")";
        }
        return sql;
    }
    std::string parseNot(std::vector<CompiledQuery::Value>& binds) {
        // Nesting is bounded: a filter is one request's worth of text, and the parser's recursion must not
        // reach the end of a server thread's stack.
        struct Depth {
            int& d;
            explicit Depth(int& depth, const Token& at)
                : d(depth) {
                if (++d > 64)
                    throw QueryError("the expression nests more than 64 deep at column " +
                                         std::to_string(at.column),
                                     at.column, std::max(at.length, 1));
            }
            ~Depth() { --d; }
        } depth(m_depth, peek());
        if (keyword("not"))
            return "(NOT " + parseNot(binds) + ")";
        if (peek().kind == Token::LParen) {
            next();
            auto sql = parseOr(binds);
            if (peek().kind != Token::RParen)
                fail(peek(), "')'");
            next();
            return sql;
        }
        return parseComparison(binds);
    }

    FieldSql parseField() {
        const Token& t = peek();
        if (t.kind != Token::Word)
            fail(t, "a field (metrics.NAME, params.NAME, tags.NAME, or an attribute such as status)");
        next();
        FieldSql f;
        const auto word = lower(t.text);
        if ((word == "min" || word == "max" || word == "last") && peek().kind == Token::LParen) {
            next();
            const Token& inner = peek();
            if (inner.kind != Token::Word || !inner.text.starts_with("metrics."))
                fail(inner, "a metric (metrics.NAME) inside " + word + "()");
            next();
            if (peek().kind != Token::RParen)
                fail(peek(), "')'");
            next();
            const auto key = inner.text.substr(8);
            keyPath(inner, key);
            f.sql = "(SELECT " + word + "_value FROM metric_keys WHERE run_id = r.id AND name = ?)";
            f.metricColumn = word + "_value";
            f.binds = {key};
            f.type = Type::Number;
            f.name = word + "(" + inner.text + ")";
            return f;
        }
        auto prefixed = [&](std::initializer_list<const char*> prefixes) -> std::optional<std::string> {
            for (const char* p : prefixes)
                if (t.text.starts_with(p))
                    return t.text.substr(std::string_view(p).size());
            return std::nullopt;
        };
        f.name = t.text;
        if (auto key = prefixed({"metrics.", "metric."})) {
            keyPath(t, *key);
            f.sql = "(SELECT last_value FROM metric_keys WHERE run_id = r.id AND name = ?)";
            f.metricColumn = "last_value";
            f.binds = {*key};
            f.type = Type::Number;
        } else if (auto key = prefixed({"params.", "param."})) {
            f.sql = "json_extract(r.params, ?)";
            f.binds = {keyPath(t, *key)};
            f.json = true;
        } else if (auto key = prefixed({"tags.", "tag."})) {
            f.sql = "json_extract(r.tags, ?)";
            f.binds = {keyPath(t, *key)};
            f.json = true;
        } else {
            const auto name = lower(prefixed({"attributes.", "attribute.", "attr."}).value_or(t.text));
            const auto* a = std::find_if(std::begin(kAttributes), std::end(kAttributes),
                                         [&](const Attribute& x) { return name == x.name; });
            if (a == std::end(kAttributes)) {
                std::string known;
                for (const auto& x : kAttributes)
                    known += std::string(known.empty() ? "" : ", ") + x.name;
                throw QueryError("unknown field '" + t.text + "' at column " + std::to_string(t.column) +
                                     ": write metrics." + t.text + ", params." + t.text + " or tags." +
                                     t.text + ", or one of " + known,
                                 t.column, t.length);
            }
            f.sql = a->sql;
            f.type = a->type;
            if (name == "duration")
                f.binds = {m_now};
        }
        return f;
    }

    std::string parseComparison(std::vector<CompiledQuery::Value>& binds) {
        auto field = parseField();
        const Token& op = peek();
        if (op.kind != Token::Op)
            fail(op, "an operator (= != < <= > >= ~) after " + field.name);
        next();
        const Token& v = peek();
        if (v.kind != Token::Number && v.kind != Token::String && v.kind != Token::Word)
            fail(v, "a value after " + field.name + " " + op.text);
        next();
        const bool isNumber = v.kind == Token::Number;
        std::string lhs = field.sql;
        CompiledQuery::Value value = v.text;
        if (op.text == "~") {
            lhs = "CAST(" + field.sql + " AS TEXT)";
        } else if (field.type == Type::Bool) {
            // true/false (or 1/0), as a person writes it.
            const auto word = lower(v.text);
            if (word == "true" || (isNumber && v.number == 1))
                value = 1.0;
            else if (word == "false" || (isNumber && v.number == 0))
                value = 0.0;
            else
                throw QueryError(field.name + " is true or false; '" + v.text + "' at column " +
                                     std::to_string(v.column) + " is neither",
                                 v.column, v.length);
        } else if (field.type == Type::Number || (field.type == Type::Time && isNumber)) {
            if (!isNumber)
                throw QueryError(field.name + " is a number; '" + v.text + "' at column " +
                                     std::to_string(v.column) + " is not",
                                 v.column, v.length);
            value = v.number;
        } else if (field.type == Type::Time) {
            value = parseTime(v);
        } else if (field.json && isNumber) {
            lhs = "kiln_number(" + field.sql + ")";
            value = v.number;
        } else if (field.json) {
            lhs = "CAST(" + field.sql + " AS TEXT)";
        } else if (field.sql == "r.status") {
            std::string known;
            bool found = false;
            for (auto st :
                 {RunStatus::Queued, RunStatus::Preparing, RunStatus::Running, RunStatus::Finalizing,
                  RunStatus::Completed, RunStatus::Failed, RunStatus::Canceled}) {
                known += std::string(known.empty() ? "" : ", ") + std::string(toString(st));
                found = found || lower(std::string(toString(st))) == lower(v.text);
            }
            if (!found)
                throw QueryError("no status is called '" + v.text + "' (at column " +
                                     std::to_string(v.column) + "): " + known,
                                 v.column, v.length);
        }
        if (!field.metricColumn.empty() && op.text != "~") {
            // The runs whose metric compares so, from the index on metric names and values (rather than
            // a lookup per run). `!=` is the complement of `=`, so a run without the metric matches it.
            binds.insert(binds.end(), field.binds.begin(), field.binds.end());
            binds.push_back(value);
            const bool notEqual = op.text == "!=";
            return std::string("(r.id ") + (notEqual ? "NOT IN" : "IN") +
                   " (SELECT run_id FROM metric_keys WHERE name = ? AND " + field.metricColumn + " " +
                   (notEqual ? "=" : op.text) + " ?))";
        }
        binds.insert(binds.end(), field.binds.begin(), field.binds.end());
        std::string sql;
        if (op.text == "~") {
            sql = "instr(lower(" + lhs + "), lower(?)) > 0";
            value = v.text;
        } else {
            const bool text = std::holds_alternative<std::string>(value);
            sql = lhs + " " + op.text + " ?" + (text ? " COLLATE NOCASE" : "");
        }
        binds.push_back(value);
        // A run without the field: false for every comparison but != (so `not` is the complement).
        return "IFNULL(" + sql + ", " + (op.text == "!=" ? "1" : "0") + ")";
    }

    // 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]', local time, as seconds since the epoch.
    static double parseTime(const Token& v) {
        std::tm tm{};
        int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
        const int n = std::sscanf(v.text.c_str(), "%4d-%2d-%2d%*[ T]%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec);
        if (n != 3 && n < 5)
            throw QueryError("'" + v.text + "' at column " + std::to_string(v.column) +
                                 " is not a time: write seconds since 1970 or '2026-12-01 14:30'",
                             v.column, v.length);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        return static_cast<double>(std::mktime(&tm));
    }

    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    double m_now;
    int m_depth = 0;
};

// LIKE's wildcards taken literally.
std::string likePattern(const std::string& word) {
    std::string out = "%";
    for (char c : word) {
        if (c == '%' || c == '_' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "%";
}

} // namespace

CompiledQuery compileQuery(const RunQuery& q, double now) {
    CompiledQuery out;
    std::vector<std::string> terms;
    if (!q.archived)
        terms.emplace_back("r.archived = 0 AND e.archived = 0");
    if (!q.experiment.empty()) {
        terms.emplace_back("e.name = ?");
        out.whereBinds.emplace_back(q.experiment);
    }
    if (q.sweep) {
        terms.emplace_back("r.sweep_id = ?");
        out.whereBinds.emplace_back(*q.sweep);
    }
    std::size_t at = 0;
    while (at < q.text.size()) {
        const auto begin = q.text.find_first_not_of(" \t\n", at);
        if (begin == std::string::npos)
            break;
        const auto end = std::min(q.text.find_first_of(" \t\n", begin), q.text.size());
        const auto pattern = likePattern(q.text.substr(begin, end - begin));
        terms.emplace_back(
            "(r.name LIKE ? ESCAPE '\\' OR e.name LIKE ? ESCAPE '\\' OR r.status LIKE ? ESCAPE "
            "'\\' OR r.tags LIKE ? ESCAPE '\\')");
        for (int i = 0; i < 4; ++i)
            out.whereBinds.emplace_back(pattern);
        at = end;
    }
    if (q.filter.find_first_not_of(" \t\n") != std::string::npos)
        terms.push_back(Parser(q.filter, now).parseFilter(out.whereBinds));
    for (const auto& t : terms)
        out.where += (out.where.empty() ? "" : " AND ") + t;
    if (out.where.empty())
        out.where = "1";
    if (q.orderBy.find_first_not_of(" \t\n") != std::string::npos)
        out.order = Parser(q.orderBy, now).parseOrder(out.orderBinds);
    out.order += "r.id DESC";
    return out;
}

bool looksLikeFilterExpression(const std::string& text) {
    return text.find_first_of("=<>~") != std::string::npos || text.find("!=") != std::string::npos;
}

} // namespace Kiln::Runs
