#include "Http.h"

#include "util/Fs.h"

#include <charconv>

#include <cctype>

namespace Kiln::Api {

static int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string percentDecode(std::string_view s, bool plusIsSpace) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += (plusIsSpace && s[i] == '+') ? ' ' : s[i];
    }
    return out;
}

std::vector<std::string> splitPath(std::string_view path) {
    auto out = Util::splitSegments(path);
    for (auto& segment : out)
        segment = percentDecode(segment);
    return out;
}

std::map<std::string, std::string> parseQuery(std::string_view q) {
    std::map<std::string, std::string> out;
    std::size_t start = 0;
    while (start < q.size()) {
        auto end = q.find('&', start);
        if (end == std::string_view::npos)
            end = q.size();
        auto part = q.substr(start, end - start);
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
            out[percentDecode(part, true)] = "";
        else
            out[percentDecode(part.substr(0, eq), true)] = percentDecode(part.substr(eq + 1), true);
        start = end + 1;
    }
    return out;
}

std::string percentEncode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::optional<ByteRange> parseRange(std::string_view header, std::uint64_t size, bool& unsatisfiable) {
    unsatisfiable = false;
    constexpr std::string_view unit = "bytes=";
    if (!header.starts_with(unit) || header.find(',') != std::string_view::npos)
        return std::nullopt; // not bytes, or several ranges: the whole file is a valid answer (RFC 9110)
    header.remove_prefix(unit.size());
    const auto dash = header.find('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    auto number = [](std::string_view s, std::uint64_t& v) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    std::uint64_t a = 0, b = 0;
    const auto first = header.substr(0, dash), last = header.substr(dash + 1);
    if (first.empty()) { // the last b bytes
        if (!number(last, b) || b == 0) {
            unsatisfiable = !last.empty();
            return std::nullopt;
        }
        if (size == 0) {
            unsatisfiable = true;
            return std::nullopt;
        }
        return ByteRange{size - std::min(b, size), size - 1};
    }
    if (!number(first, a) || (!last.empty() && (!number(last, b) || b < a)))
        return std::nullopt;
    if (a >= size) {
        unsatisfiable = true;
        return std::nullopt;
    }
    return ByteRange{a, last.empty() ? size - 1 : std::min(b, size - 1)};
}

} // namespace Kiln::Api
