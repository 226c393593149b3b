#pragma once
// The API's routes as data: each route is one row (method, path pattern, body kind and limit, who may call
// it, handler), so that dispatch, 404 versus 405, and the permission check all come from one table, and the
// check runs before any byte of a body is read (Service::precheck). The table itself is in Routes.cpp.
#include "api/Http.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace Kiln::Api {

class Service;
struct Call;

// How a route takes its body.
enum class Body : std::uint8_t {
    None, // nothing to read (a small one, up to 64 KB, is read and ignored: `curl -d '{}'` is harmless)
    Json, // held in memory up to the route's limit, then handed to the handler as text (JSON or binary)
    Blob, // streamed to the service's sink as it arrives (Service::bodySink), never held whole
};

// Where a route's handler runs: on the connection's thread, or (a long read) on the slow lane, a few threads
// of its own, so that long reads never take every request thread and quick requests always find one.
enum class Lane : std::uint8_t { Quick, Slow };

// Who may call a route (a bit set). The workspace token may call every route.
enum Callers : std::uint8_t {
    kWorkspace = 1, // the workspace token
    kOwnRun = 2,    // a run token: on a route with {id}, only when {id} is its own run
};

constexpr std::size_t kNoBodyLimit = 64u << 10;
constexpr std::size_t kSmallJson = 1u << 20;
constexpr std::size_t kLargeJson = 32u << 20;
constexpr std::size_t kBlobLimit = 512u << 20;

struct Route {
    std::string_view method;
    // "/api/v1/runs/{id}/files/{path+}": literal segments, {name} for one segment, {name+} for the rest of
    // the path (one or more segments). A literal segment is preferred over {name} where both match.
    std::string_view pattern;
    Body body;
    std::size_t limit; // the most body bytes it takes (413 beyond)
    std::uint8_t callers;
    Response (Service::*handler)(Call&);
    Lane lane = Lane::Quick;
};

// What a handler gets: the request, who called, the pattern's parameters (decoded; a {name+} joined with
// '/') and the query. A handler that answers later (a long-poll) sets `deferred` and calls `reply` itself.
struct Call {
    const Request& request;
    bool workspace = false; // the workspace token
    std::int64_t runId = 0; // a run token's run
    std::map<std::string, std::string, std::less<>> params;
    std::map<std::string, std::string> query;
    Responder reply;
    bool deferred = false;

    const std::string& param(std::string_view name) const; // a parameter of the route's pattern
    std::int64_t id(const char* what) const;               // {id} as a positive integer, else 404
};

// Finds a request's route in a table.
class Router final {
public:
    explicit Router(std::span<const Route> routes);

    struct Match {
        const Route* route = nullptr;
        std::map<std::string, std::string, std::less<>> params;
        std::string
            allow; // when the path is known but not with this method: the methods it takes ("GET, POST")
    };
    // `segments`: the request path, split and decoded. No route and an empty `allow`: no such path.
    Match find(std::string_view method, const std::vector<std::string>& segments) const;

private:
    struct Compiled {
        const Route* route;
        std::vector<std::string> segments; // literal text, or "{name}" / "{name+}"
    };
    std::vector<Compiled> m_routes;
};

} // namespace Kiln::Api
