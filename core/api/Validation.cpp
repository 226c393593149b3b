#include "Validation.h"

#include "api/Routes.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <charconv>

namespace Kiln::Api {

std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json parseBody(const std::string& body) {
    if (body.size() > kLargeJson)
        throw UserError(413, "request body is too large");
    try {
        auto j = Json::parse(body);
        if (!j.is_object())
            throw badRequest("request body must be a JSON object");
        return j;
    } catch (const Json::parse_error& e) {
        throw badRequest(std::string("malformed JSON: ") + e.what());
    }
}

std::int64_t parseId(const std::string& s, const char* what) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        throw notFound(std::string("no such ") + what + ": " + s.substr(0, 100));
    return v;
}

std::int64_t queryInt(const std::map<std::string, std::string>& q, const char* key, std::int64_t def,
                      std::int64_t min, std::int64_t max) {
    auto it = q.find(key);
    if (it == q.end() || it->second.empty())
        return def;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || v < min || v > max)
        throw badRequest(std::string("query parameter '") + key + "' must be an integer in [" +
                         std::to_string(min) + ", " + std::to_string(max) + "]");
    return v;
}

std::optional<double> queryNumber(const std::map<std::string, std::string>& q, const char* key, double min,
                                  double max) {
    auto it = q.find(key);
    if (it == q.end() || it->second.empty())
        return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || !(v >= min && v <= max))
        throw badRequest(std::string("query parameter '") + key + "' must be a number in [" +
                         std::to_string(min) + ", " + std::to_string(max) + "]");
    return v;
}

std::string relativePath(const std::string& joined, const std::string& what) {
    auto path = Util::safeRelativePath(joined);
    if (!path)
        throw badRequest("file path must be relative to the " + what +
                         ", without '..': " + joined.substr(0, 200));
    return *path;
}

// Names of experiments, metric keys, params and tags: printable, bounded, no path separators.
std::string validName(const Json& j, const char* what, std::size_t maxLen) {
    if (!j.is_string())
        throw badRequest(std::string(what) + " must be a string");
    auto s = j.get<std::string>();
    if (s.empty() || s.size() > maxLen)
        throw badRequest(std::string(what) + " must have 1 to " + std::to_string(maxLen) + " characters");
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            throw badRequest(std::string(what) + " contains control characters");
    return s;
}

Json validStringMap(const Json& body, const char* field) {
    if (!body.contains(field) || !body[field].is_object())
        throw badRequest(std::string("body needs an object '") + field + "'");
    if (body[field].size() > 1000)
        throw badRequest(std::string("too many entries in '") + field + "'");
    Json out = Json::object();
    for (const auto& [k, v] : body[field].items()) {
        validName(Json(k), "name");
        if (v.is_string()) {
            if (v.get<std::string>().size() > 10000)
                throw badRequest("value of '" + k + "' is too long");
            out[k] = v;
        } else if (v.is_number() || v.is_boolean() || v.is_null()) {
            out[k] = v;
        } else {
            throw badRequest("value of '" + k + "' must be a string, number or boolean");
        }
    }
    return out;
}

std::string experimentName(const Json& j) {
    auto s = validName(j, "experiment", 100);
    if (s.find('/') != std::string::npos || s.find('\\') != std::string::npos || s == "." || s == "..")
        throw badRequest("experiment must not contain '/' or '\\' or be '.' or '..'");
    return s;
}

} // namespace Kiln::Api
