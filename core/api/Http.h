#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Api {

// Where a request body that is not held in memory goes (a blob upload): the server writes it chunk by chunk
// as it arrives, so memory does not grow with the body. The service names one for a request it expects a
// large body on (Service::bodySink) and takes it back with the request.
class BodySink {
public:
    virtual ~BodySink() = default;
    virtual void write(const void* data, std::size_t size) = 0; // throws when it cannot take more
};

// The server's view of an HTTP exchange, independent of the HTTP library so that routing and validation
// can be tested and fuzzed without sockets.
struct Request {
    std::string method;
    std::string path;  // still percent-encoded, without the query
    std::string query; // still percent-encoded, without '?'
    std::string authorization;
    std::string range;          // the Range header, e.g. "bytes=1048576-"
    std::string contentType;    // the Content-Type header, as sent
    std::string accept;         // the Accept header, as sent
    std::string idempotencyKey; // the Idempotency-Key header: a repeat gets the first answer (api/Replays)
    std::string body;
    std::shared_ptr<BodySink> sink; // set when the body went there instead of into `body`
};

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::string filePath;                    // when set, the body is streamed from this file...
    std::uint64_t fileOffset = 0;            // ...from this byte...
    std::optional<std::uint64_t> fileLength; // ...for this many bytes (else to its end)
    // When set, the body is made as it is sent (chunked): each call replaces `piece` with the next part
    // (about kPiece bytes) and returns whether more follow. A long answer is never whole in memory.
    std::function<bool(std::string& piece)> next;
    static constexpr std::size_t kPiece = 1 << 20;
    std::map<std::string, std::string> headers;
};

using Responder = std::function<void(Response)>;

std::string percentDecode(std::string_view s, bool plusIsSpace = false);
std::vector<std::string> splitPath(std::string_view encodedPath); // decoded segments, empty ones dropped
std::map<std::string, std::string> parseQuery(std::string_view encodedQuery);
std::string percentEncode(std::string_view s);

// A single "bytes=FIRST-[LAST]" or "bytes=-SUFFIX" range of a file of `size` bytes, as [first, last].
// nullopt for no usable Range header (serve the whole file); `unsatisfiable` is set when it asks for
// bytes past the end (answer 416).
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};
std::optional<ByteRange> parseRange(std::string_view header, std::uint64_t size, bool& unsatisfiable);

} // namespace Kiln::Api
