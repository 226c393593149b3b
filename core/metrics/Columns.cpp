#include "Columns.h"

#include "util/Json.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

static_assert(std::endian::native == std::endian::little, "the binary metric format is read in place");

namespace Kiln::Metrics {

namespace {

constexpr char kMagic[4] = {'K', 'L', 'N', 'M'};
constexpr std::uint16_t kVersion = 1;
constexpr std::size_t kMaxKeys = 100'000;
constexpr std::size_t kMaxKeyLength = 250;
constexpr std::size_t kMaxClientLength = 100;

std::size_t padded(std::size_t n) {
    return (n + 7) & ~std::size_t(7);
}

template <typename T> void put(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}

template <typename T> void putColumn(std::string& out, const std::vector<T>& v) {
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

void pad(std::string& out) {
    out.resize(padded(out.size()), '\0');
}

[[noreturn]] void fail(const std::string& what) {
    throw std::invalid_argument("binary metric batch: " + what);
}

// Reads the body front to back, refusing to step past its end.
class Reader {
public:
    explicit Reader(std::string_view body)
        : m_body(body) {}
    template <typename T> T get(const char* what) {
        T v;
        std::memcpy(&v, need(sizeof(T), what), sizeof(T));
        return v;
    }
    std::string_view bytes(std::size_t n, const char* what) { return {need(n, what), n}; }
    template <typename T> void column(std::vector<T>& out, std::size_t n, const char* what) {
        if (n > (m_body.size() - m_at) / sizeof(T))
            fail(std::string("the body ends inside the ") + what + " column (" + std::to_string(n) +
                 " points announced)");
        out.resize(n);
        if (n) // (an empty column's data() may be null: memcpy takes no null, even for 0 bytes)
            std::memcpy(out.data(), m_body.data() + m_at, n * sizeof(T));
        m_at += n * sizeof(T);
    }
    void align() {
        const auto to = padded(m_at);
        if (to > m_body.size())
            fail("the body ends inside the padding at byte " + std::to_string(m_at));
        m_at = to;
    }
    std::size_t at() const { return m_at; }
    std::size_t left() const { return m_body.size() - m_at; }

private:
    const char* need(std::size_t n, const char* what) {
        if (n > m_body.size() - m_at)
            fail(std::string("the body ends inside the ") + what + " at byte " + std::to_string(m_at));
        const char* p = m_body.data() + m_at;
        m_at += n;
        return p;
    }
    std::string_view m_body;
    std::size_t m_at = 0;
};

void checkText(std::string_view s, const std::string& what) {
    for (unsigned char ch : s)
        if (ch < 0x20 || ch == 0x7f)
            fail(what + " contains control characters");
    try {
        (void)Json(std::string(s)).dump(); // nlohmann refuses bytes that are not UTF-8
    } catch (const Json::exception&) {
        fail(what + " is not UTF-8");
    }
}

} // namespace

std::uint32_t Columns::keyIndex(std::string_view name) {
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (keys[i] == name)
            return static_cast<std::uint32_t>(i);
    keys.emplace_back(name);
    return static_cast<std::uint32_t>(keys.size() - 1);
}

void Columns::add(std::uint32_t keyIdx, std::int64_t step, double timestamp, double value) {
    key.push_back(keyIdx);
    steps.push_back(step);
    timestamps.push_back(timestamp);
    values.push_back(value);
}

void Columns::reserve(std::size_t n) {
    key.reserve(n);
    steps.reserve(n);
    timestamps.reserve(n);
    values.reserve(n);
}

std::string encode(const Columns& c, const std::optional<BatchId>& id) {
    std::string out;
    out.reserve(64 + c.keys.size() * 16 + c.size() * 28);
    out.append(kMagic, 4);
    put<std::uint16_t>(out, kVersion);
    put<std::uint16_t>(out, 0);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(c.keys.size()));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(c.size()));
    put<std::int64_t>(out, id ? id->seq : -1);
    put<std::uint16_t>(out, static_cast<std::uint16_t>(id ? id->client.size() : 0));
    if (id)
        out += id->client;
    for (const auto& k : c.keys) {
        put<std::uint16_t>(out, static_cast<std::uint16_t>(k.size()));
        out += k;
    }
    pad(out);
    if (c.keys.size() > 1) {
        putColumn(out, c.key);
        pad(out);
    }
    putColumn(out, c.steps);
    putColumn(out, c.timestamps);
    putColumn(out, c.values);
    return out;
}

Columns decode(std::string_view body, std::optional<BatchId>& id) {
    Reader r(body);
    const auto magic = r.bytes(4, "header");
    if (std::memcmp(magic.data(), kMagic, 4) != 0)
        fail("it does not start with \"KLNM\"");
    const auto version = r.get<std::uint16_t>("header");
    if (version != kVersion)
        fail("version " + std::to_string(version) + " is not one this kilnd reads (it reads version 1)");
    if (r.get<std::uint16_t>("header") != 0)
        fail("flags must be 0 in version 1");
    const std::size_t keyCount = r.get<std::uint32_t>("header");
    const std::size_t n = r.get<std::uint32_t>("header");
    if (n > kMaxPoints)
        fail("at most " + std::to_string(kMaxPoints) + " points per batch, not " + std::to_string(n));
    if (keyCount > kMaxKeys || (keyCount == 0 && n > 0))
        fail("it names " + std::to_string(keyCount) + " keys (1 to " + std::to_string(kMaxKeys) + ")");
    const auto seq = r.get<std::int64_t>("header");
    const std::size_t clientLength = r.get<std::uint16_t>("header");
    const auto client = r.bytes(clientLength, "client id");
    id.reset();
    if (seq == -1) {
        if (clientLength != 0)
            fail("a client id without a sequence number (seq is -1)");
    } else {
        if (seq < 0)
            fail("seq must be -1 or a non-negative number");
        if (clientLength == 0 || clientLength > kMaxClientLength)
            fail("a batch with a sequence number names its client in 1 to 100 bytes");
        checkText(client, "the client id");
        id = BatchId{std::string(client), seq};
    }
    Columns c;
    c.keys.reserve(keyCount);
    for (std::size_t i = 0; i < keyCount; ++i) {
        const std::size_t length = r.get<std::uint16_t>("keys table");
        const auto name = r.bytes(length, "keys table");
        const std::string what = "key " + std::to_string(i);
        if (length == 0 || length > kMaxKeyLength)
            fail(what + " must have 1 to " + std::to_string(kMaxKeyLength) + " bytes");
        checkText(name, what);
        c.keys.emplace_back(name);
    }
    r.align();
    if (keyCount > 1) {
        r.column(c.key, n, "key index");
        r.align();
    } else {
        c.key.assign(n, 0);
    }
    r.column(c.steps, n, "steps");
    r.column(c.timestamps, n, "timestamps");
    r.column(c.values, n, "values");
    if (r.left() != 0)
        fail(std::to_string(r.left()) + " bytes follow the last column (" + std::to_string(n) +
             " points announced)");
    for (std::size_t i = 0; i < n; ++i) {
        const auto point = [&] { return "point " + std::to_string(i); };
        if (c.key[i] >= keyCount)
            fail(point() + " names key " + std::to_string(c.key[i]) + " of " + std::to_string(keyCount));
        if (c.steps[i] != kNextStep && (c.steps[i] < 0 || c.steps[i] > kMaxStep))
            fail(point() + " ('" + c.keys[c.key[i]] + "'): step out of range");
        if (!(c.timestamps[i] >= 0 && c.timestamps[i] <= kMaxTimestamp))
            fail(point() + " ('" + c.keys[c.key[i]] + "'): timestamp out of range (seconds since 1970)");
        if (!std::isfinite(c.values[i]))
            fail(point() + " ('" + c.keys[c.key[i]] + "'): value is not finite");
    }
    return c;
}

} // namespace Kiln::Metrics
