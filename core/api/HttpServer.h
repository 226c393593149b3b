#pragma once
#include <memory>
#include <string>

namespace Kiln::Api {

class Service;

struct TlsFiles {
    std::string certificate; // PEM certificate chain
    std::string privateKey;  // PEM private key
    bool enabled() const { return !certificate.empty(); }
};

// Serves a Service over HTTP/1.1, or HTTPS with `tls`, with Boost.Beast (the only file that includes it).
// Everything is bounded while it is read: the header (64 KB, within 20 s of connecting; 120 s idle between
// requests); the token, the route, the caller's right to it and the announced size are checked before any
// body byte is read (Service::precheck); a body must keep arriving (a byte every 20 s, 64 KB/s after its
// first 10 s, one held in memory whole within 60 s), is held up to its route's limit, and all bodies held
// in memory at once take at most 256 MB (503 beyond); a blob upload is streamed to its sink
// (Service::bodySink) as it arrives; a stalled answer ends the connection; and connections are capped per
// client address and in all (the one idle longest makes room for a new one). Handlers run on a pool of
// their own.
class HttpServer final {
public:
    HttpServer(Service& service, const std::string& host, int port, const TlsFiles& tls = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void open();
    void close();
    std::string url() const;

    struct Impl; // (public only so that the connections in HttpServer.cpp can name it)

private:
    std::unique_ptr<Impl> m_impl;
};

} // namespace Kiln::Api
