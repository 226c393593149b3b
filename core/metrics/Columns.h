#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Metrics {

// A step the sender leaves to kilnd: the key's next step.
inline constexpr std::int64_t kNextStep = std::numeric_limits<std::int64_t>::min();

// What one batch may hold, in either form (JSON or binary).
inline constexpr std::size_t kMaxPoints = 1'000'000;
inline constexpr std::int64_t kMaxStep = std::int64_t(1) << 53;
inline constexpr double kMaxTimestamp = 1e11;

// A batch's identity: the sending client's id and the batch's sequence number among that client's (a
// batch sent again after a lost reply is stored once).
struct BatchId {
    std::string client;
    std::int64_t seq = 0;
};

// Metric points as columns: a table of keys, then per point the key's index, step, timestamp and value.
// What a client sends in one batch, and what a history read returns (then with one key).
struct Columns {
    std::vector<std::string> keys;
    std::vector<std::uint32_t> key;  // per point: index into `keys`
    std::vector<std::int64_t> steps; // kNextStep: the key's next step
    std::vector<double> timestamps;  // seconds since 1970; 0: when kilnd receives it
    std::vector<double> values;

    std::size_t size() const { return values.size(); }
    // Index of `name` in `keys`, added when new (a linear search: for batches that name few keys).
    std::uint32_t keyIndex(std::string_view name);
    void add(std::uint32_t keyIdx, std::int64_t step, double timestamp, double value);
    void add(std::string_view name, std::int64_t step, double timestamp, double value) {
        add(keyIndex(name), step, timestamp, value);
    }
    void reserve(std::size_t n);
};

// The binary form of a metric batch, "application/x-kiln-metrics", version 1. Little-endian throughout;
// the body's length must come out exactly.
//
//   offset  type        field
//   0       u8[4]       magic "KLNM"
//   4       u16         version: 1
//   6       u16         flags: 0 (any other value is refused)
//   8       u32         K, the number of keys (1..100,000; 0 only when N is 0)
//   12      u32         N, the number of points (at most 1,000,000)
//   16      i64         seq: the batch's sequence number, or -1 for a batch without an identity
//   24      u16         C, the length of the client id (0 exactly when seq is -1; else 1..100)
//   26      u8[C]       client id, UTF-8
//           K times:    u16 length (1..250), then that many bytes of UTF-8: a key (no control characters)
//           zero bytes to the next multiple of 8 from the start of the body
//           u32[N]      each point's key index (< K); only when K > 1 (with one key every point is its)
//           zero bytes to the next multiple of 8
//           i64[N]      steps: 0..2^53, or -2^63 for "the key's next step"
//           f64[N]      timestamps: seconds since 1970, 0..1e11; 0 for "when kilnd receives it"
//           f64[N]      values: finite
inline constexpr std::string_view kBinaryType = "application/x-kiln-metrics";

std::string encode(const Columns& c, const std::optional<BatchId>& id = std::nullopt);

// Decodes and validates a body; throws std::invalid_argument naming what is wrong (and where).
Columns decode(std::string_view body, std::optional<BatchId>& id);

} // namespace Kiln::Metrics
