#pragma once
#include <memory>
#include <string>

namespace Kiln::Api {

class Service;

// Serves a Service over HTTP with cpprestsdk's http_listener (the only file that includes it).
class HttpServer final {
public:
    HttpServer(Service& service, const std::string& host, int port);
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
