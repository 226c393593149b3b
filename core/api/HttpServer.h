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

// Serves a Service over HTTP, or HTTPS with `tls`, with cpprestsdk's http_listener (the only file that
// includes it).
class HttpServer final {
public:
    HttpServer(Service& service, const std::string& host, int port, const TlsFiles& tls = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void open();
    void close();
    std::string url() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace Kiln::Api
