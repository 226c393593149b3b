#include "HttpServer.h"

#include "api/Service.h"

#include <cpprest/filestream.h>
#include <cpprest/http_listener.h>

#include <filesystem>

namespace Kiln::Api {

using namespace web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

struct HttpServer::Impl {
    Service& service;
    std::string url;
    std::unique_ptr<http_listener> listener;

    static void send(http_request req, Response r) {
        http_response resp(static_cast<status_code>(r.status));
        for (const auto& [k, v] : r.headers)
            resp.headers().add(k, v);
        if (!r.filePath.empty()) {
            try {
                auto stream = concurrency::streams::file_stream<uint8_t>::open_istream(r.filePath).get();
                auto length = r.fileLength;
                if (!length) {
                    std::error_code ec;
                    length = std::filesystem::file_size(r.filePath, ec);
                    if (ec)
                        throw std::runtime_error(ec.message());
                }
                if (r.fileOffset)
                    stream.seek(static_cast<std::streamoff>(r.fileOffset));
                resp.set_body(stream, *length, r.contentType);
            } catch (const std::exception& e) {
                resp.set_status_code(status_codes::InternalError);
                resp.set_body(std::string(R"({"error":"cannot read stored file"})"), "application/json");
            }
        } else {
            resp.set_body(std::move(r.body), r.contentType);
        }
        req.reply(resp).then([](pplx::task<void> t) {
            try {
                t.get();
            } catch (...) { // the client went away; nothing to do
            }
        });
    }

    void handle(http_request req) {
        Request r;
        r.method = req.method();
        const auto& uri = req.request_uri();
        r.path = uri.path();
        r.query = uri.query();
        if (req.headers().has(header_names::authorization))
            r.authorization = req.headers()[header_names::authorization];
        if (req.headers().has(header_names::range))
            r.range = req.headers()[header_names::range];
        const auto length = req.headers().content_length();
        if (auto early = service.precheck(r, length)) {
            send(req, std::move(*early));
            return;
        }
        req.extract_vector().then([this, req, r](pplx::task<std::vector<unsigned char>> t) mutable {
            try {
                auto body = t.get();
                const bool blob = r.method == "PUT";
                if (body.size() > (blob ? Service::kMaxBlobBody : Service::kMaxJsonBody)) {
                    send(req, errorResponse(413, "request body is too large"));
                    return;
                }
                r.body.assign(body.begin(), body.end());
            } catch (const std::exception& e) {
                send(req, errorResponse(400, std::string("could not read the request body: ") + e.what()));
                return;
            }
            service.handle(r, [req](Response resp) { send(req, std::move(resp)); });
        });
    }
};

HttpServer::HttpServer(Service& service, const std::string& host, int port)
    : m_impl(std::make_unique<Impl>(Impl{service, "http://" + host + ":" + std::to_string(port), nullptr})) {
    http_listener_config config;
    config.set_timeout(std::chrono::seconds(120));
    m_impl->listener = std::make_unique<http_listener>(web::uri(m_impl->url), config);
    m_impl->listener->support([this](http_request req) { m_impl->handle(std::move(req)); });
}

HttpServer::~HttpServer() {
    close();
}

void HttpServer::open() {
    m_impl->listener->open().wait();
}

void HttpServer::close() {
    if (m_impl && m_impl->listener) {
        try {
            m_impl->listener->close().wait();
        } catch (...) {
        }
        m_impl->listener.reset();
    }
}

std::string HttpServer::url() const {
    return m_impl->url;
}

} // namespace Kiln::Api
