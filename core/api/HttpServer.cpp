#include "HttpServer.h"

#include "api/Service.h"

#include <cpprest/http_listener.h>
#include <cpprest/rawptrstream.h>

#include <algorithm>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Kiln::Api {

using namespace web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

struct HttpServer::Impl {
    Service& service;
    std::string url;
    std::unique_ptr<http_listener> listener;

    // A stored file's bytes (or the range asked for), mapped rather than read through cpprestsdk's file
    // streams, which move about 120 MB/s here; blobs are immutable, so the mapping cannot shrink under us.
    static std::shared_ptr<void> serveFile(http_response& resp, const Response& r) {
        const int fd = ::open(r.filePath.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw std::runtime_error("cannot open " + r.filePath);
        struct stat st {};
        ::fstat(fd, &st);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        const std::uint64_t offset = std::min<std::uint64_t>(r.fileOffset, size);
        const std::uint64_t length =
            std::min<std::uint64_t>(r.fileLength.value_or(size - offset), size - offset);
        if (length == 0) {
            ::close(fd);
            resp.set_body(std::string(), r.contentType);
            return {};
        }
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED)
            throw std::runtime_error("cannot map " + r.filePath);
        ::madvise(p, size, MADV_SEQUENTIAL);
        std::shared_ptr<void> mapping(p, [size](void* q) { ::munmap(q, size); });
        concurrency::streams::rawptr_buffer<std::uint8_t> buffer(static_cast<const std::uint8_t*>(p) + offset,
                                                                 static_cast<std::size_t>(length));
        resp.set_body(concurrency::streams::istream(buffer), length, r.contentType);
        return mapping;
    }

    static void send(http_request req, Response r) {
        http_response resp(static_cast<status_code>(r.status));
        for (const auto& [k, v] : r.headers)
            resp.headers().add(k, v);
        std::shared_ptr<void> mapping; // keeps a served file mapped until the reply is sent
        if (!r.filePath.empty()) {
            try {
                mapping = serveFile(resp, r);
            } catch (const std::exception& e) {
                resp = http_response(status_codes::InternalError);
                resp.set_body(std::string(R"({"error":"cannot read stored file"})"), "application/json");
            }
        } else {
            resp.set_body(std::move(r.body), r.contentType);
        }
        req.reply(resp).then([mapping](pplx::task<void> t) {
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
        // The request target as it came: a NUL or control byte in it would otherwise cut the path short.
        const auto target = uri.to_string();
        if (std::any_of(target.begin(), target.end(),
                        [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
            send(req, errorResponse(400, "the request path holds a NUL or control character"));
            return;
        }
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

HttpServer::HttpServer(Service& service, const std::string& host, int port, const TlsFiles& tls)
    : m_impl(std::make_unique<Impl>(Impl{
          service, (tls.enabled() ? "https://" : "http://") + host + ":" + std::to_string(port), nullptr})) {
    http_listener_config config;
    config.set_timeout(std::chrono::seconds(120));
    if (tls.enabled()) {
        config.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
            ctx.set_options(boost::asio::ssl::context::default_workarounds |
                            boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                            boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
            ctx.use_certificate_chain_file(tls.certificate);
            ctx.use_private_key_file(tls.privateKey, boost::asio::ssl::context::pem);
        });
    }
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
