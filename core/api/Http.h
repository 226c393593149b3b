#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Api {

// The server's view of an HTTP exchange, independent of the HTTP library so that routing and validation
// can be tested and fuzzed without sockets.
struct Request {
    std::string method;
    std::string path;  // still percent-encoded, without the query
    std::string query; // still percent-encoded, without '?'
    std::string authorization;
    std::string body;
};

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::string filePath; // when set, the body is streamed from this file
    std::map<std::string, std::string> headers;
};

using Responder = std::function<void(Response)>;

std::string percentDecode(std::string_view s, bool plusIsSpace = false);
std::vector<std::string> splitPath(std::string_view encodedPath); // decoded segments, empty ones dropped
std::map<std::string, std::string> parseQuery(std::string_view encodedQuery);
std::string percentEncode(std::string_view s);

} // namespace Kiln::Api
