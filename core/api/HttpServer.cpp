#include "HttpServer.h"

#include "api/Service.h"
#include "util/Error.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <iostream>
#include <list>
#include <malloc.h>
#include <map>
#include <mutex>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace Kiln::Api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

// What one connection may take, enforced while reading: nothing is buffered beyond these.
constexpr std::uint32_t kHeaderLimit = 64 * 1024; // request line and headers
constexpr auto kHeaderTimeout = 20s;              // to send a whole header once a connection is open
constexpr auto kIdleTimeout = 120s;               // between requests on a kept-alive connection
// A body must keep coming: a byte at least every 20 s, 64 KB/s on average after its first 10 s, and a body
// held in memory (JSON) whole within 60 s; all bodies held in memory at once take at most 256 MB. So a body
// trickled in, or many at once, cannot hold kilnd's memory.
constexpr auto kBodyStall = 20s;
constexpr auto kBodyGrace = 10s;
constexpr double kMinBodyRate = 64 * 1024; // bytes per second
constexpr auto kMemoryBodyDeadline = 60s;
constexpr std::size_t kMemoryBodyBudget = 256u << 20;
constexpr auto kWriteStall = 120s; // without the client taking a byte of the answer
constexpr auto kTlsHandshake = 20s;
constexpr std::size_t kBodyChunk = 256 * 1024; // a streamed body moves through a buffer this size
constexpr int kMaxPerAddress = 512;

// The most connections at once: well inside the open-file limit, so that kilnd always has descriptors
// left for its database, blobs and runs.
int maxConnections() {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    const auto soft = r.rlim_cur == RLIM_INFINITY ? 65536 : static_cast<long>(r.rlim_cur);
    return static_cast<int>(std::clamp<long>(soft - 256, 64, 16384));
}

// A stored file's bytes, mapped (blobs are immutable, so the mapping cannot shrink under us).
struct Mapping {
    void* base = nullptr;
    std::size_t size = 0;
    ~Mapping() {
        if (base)
            ::munmap(base, size);
    }
};

} // namespace

// Every connection, for the caps: when they are reached, the connection that has waited longest without
// sending a whole request makes room (an idle flood cannot lock clients out).
struct Registry {
    struct Entry {
        std::string address;
        std::chrono::steady_clock::time_point since;
        bool idle = true;
        bool served = false;         // has had a whole request: a client's kept-alive connection
        std::function<void()> close; // posts a close to the connection's own executor
    };
    std::mutex mutex;
    std::list<Entry> entries;
    std::map<std::string, int> perAddress;
    int limit = maxConnections();

    using Handle = std::list<Entry>::iterator;

    // Makes room for a connection from `address`; false when every connection there is busy.
    bool admit(const std::string& address, Handle& handle, std::function<void()> close) {
        std::vector<std::function<void()>> evicted; // closed once the lock is let go (a close may end a
        bool room = false;                          // connection, which then leaves the registry)
        {
            std::lock_guard g(mutex);
            // The one that has never sent a whole request and waited longest; else the kept-alive one idle
            // longest (a client reconnects for its next request).
            auto evictOldestIdle = [&](const std::string* from) {
                Handle oldest = entries.end();
                for (auto it = entries.begin(); it != entries.end(); ++it)
                    if (it->idle && it->close && (!from || it->address == *from) &&
                        (oldest == entries.end() ||
                         std::pair(it->served, it->since) < std::pair(oldest->served, oldest->since)))
                        oldest = it;
                if (oldest == entries.end())
                    return false;
                evicted.push_back(std::move(oldest->close));
                oldest->close = nullptr; // closed once; it stays counted until it has closed
                return true;
            };
            room = (perAddress[address] < kMaxPerAddress || evictOldestIdle(&address)) &&
                   (static_cast<int>(entries.size()) < limit || evictOldestIdle(nullptr));
            if (room) {
                ++perAddress[address];
                handle = entries.insert(entries.end(), {address, std::chrono::steady_clock::now(), true,
                                                        false, std::move(close)});
            } else if (perAddress[address] == 0) {
                perAddress.erase(address);
            }
        }
        for (auto& c : evicted)
            c();
        return room;
    }
    void setIdle(Handle h, bool idle) {
        std::lock_guard g(mutex);
        h->served = h->served || !idle;
        h->idle = idle;
        h->since = std::chrono::steady_clock::now();
    }
    void leave(Handle h) {
        std::lock_guard g(mutex);
        if (--perAddress[h->address] <= 0)
            perAddress.erase(h->address);
        entries.erase(h);
    }
};

struct HttpServer::Impl {
    Impl(Service& s, std::string h, int p, std::string u)
        : service(s)
        , host(std::move(h))
        , port(p)
        , url(std::move(u)) {}
    Service& service;
    std::string host;
    int port;
    std::string url;
    std::unique_ptr<ssl::context> tls;
    Registry registry; // (before the io_context: connections it still holds leave it as it goes)
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    // Connections are served and answered on these threads, the handler running where the request was read
    // (handing it to another thread cost more than a small request's work): enough of them that a slow
    // handler (a large query) leaves others to serve the rest.
    static constexpr unsigned kThreads = 8;
    std::vector<std::thread> threads;
    std::atomic<bool> open{false};
    std::atomic<std::size_t> bodyMemory{0}; // bytes that bodies held in memory have reserved, in all

    void accept();
};

namespace {

template <class Stream> class Session : public std::enable_shared_from_this<Session<Stream>> {
public:
    Session(HttpServer::Impl& server, Stream stream, Registry::Handle handle)
        : m_server(server)
        , m_stream(std::move(stream))
        , m_handle(handle) {}
    ~Session() {
        releaseBody();
        m_server.registry.leave(m_handle);
    }

    void start() {
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            readHeader();
        } else {
            beast::get_lowest_layer(m_stream).expires_after(kTlsHandshake);
            m_stream.async_handshake(ssl::stream_base::server,
                                     [self = this->shared_from_this()](beast::error_code ec) {
                                         if (!ec)
                                             self->readHeader();
                                     });
        }
    }

    // From any thread: ends the connection (an idle one making room for another).
    void closeSoon() {
        net::post(m_stream.get_executor(), [self = this->shared_from_this()] {
            beast::error_code ec;
            beast::get_lowest_layer(self->m_stream).socket().shutdown(tcp::socket::shutdown_both, ec);
            beast::get_lowest_layer(self->m_stream).close();
        });
    }

private:
    void readHeader() {
        m_server.registry.setIdle(m_handle, true);
        m_header.emplace();
        m_header->header_limit(kHeaderLimit);
        m_header->body_limit(std::numeric_limits<std::uint64_t>::max()); // checked by precheck, then below
        beast::get_lowest_layer(m_stream).expires_after(m_requests == 0 ? kHeaderTimeout : kIdleTimeout);
        http::async_read_header(
            m_stream, m_buffer, *m_header,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
    }

    void onHeader(beast::error_code ec) {
        if (ec == http::error::header_limit)
            return fail(431, "the request's headers are larger than 64 KB");
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset)
            return close();
        if (ec)
            return fail(400, "malformed request: " + ec.message());
        m_server.registry.setIdle(m_handle, false);
        ++m_requests;
        const auto& h = m_header->get();
        m_request = Request{};
        const auto text = [](beast::string_view v) { return std::string(v.data(), v.size()); };
        m_request.method = text(h.method_string());
        const std::string_view target(h.target().data(), h.target().size());
        // The request target as it came: a NUL or control byte in it would otherwise cut the path short.
        if (std::any_of(target.begin(), target.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
            return fail(400, "the request path holds a NUL or control character");
        const auto q = target.find('?');
        m_request.path = std::string(target.substr(0, q));
        m_request.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
        if (auto it = h.find(http::field::authorization); it != h.end())
            m_request.authorization = text(it->value());
        if (auto it = h.find(http::field::range); it != h.end())
            m_request.range = text(it->value());
        if (auto it = h.find(http::field::content_type); it != h.end())
            m_request.contentType = text(it->value());
        if (auto it = h.find(http::field::accept); it != h.end())
            m_request.accept = text(it->value());
        if (auto it = h.find("Idempotency-Key"); it != h.end())
            m_request.idempotencyKey = text(it->value());
        m_keepAlive = h.keep_alive();
        // The token, the route and who may call it, and the announced size, before a byte of the body is
        // read.
        const auto length = m_header->content_length();
        auto admission = m_server.service.precheck(m_request, length ? std::optional<std::uint64_t>(*length)
                                                                     : std::nullopt);
        if (admission.refusal)
            return refuse(std::move(*admission.refusal));
        m_bodyLimit = admission.limit;
        if (!m_header->is_done() && admission.body == Body::Blob) {
            try {
                m_request.sink = m_server.service.bodySink(m_request);
            } catch (const UserError& e) {
                return refuse(errorResponse(e.status(), e.what()));
            } catch (const std::exception& e) {
                return refuse(errorResponse(500, std::string("internal error: ") + e.what()));
            }
        }
        if (m_header->is_done())
            return dispatch();
        if (beast::iequals(h[http::field::expect], "100-continue")) { // (curl, for large bodies)
            auto go = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
            return http::async_write(
                m_stream, *go, [self = this->shared_from_this(), go](beast::error_code ec, std::size_t) {
                    if (ec)
                        return self->close();
                    self->startBody();
                });
        }
        startBody();
    }

    // Every body is read in pieces through one buffer: into its sink (a blob), or appended to the request's
    // body (JSON), which reserves its room from the memory all bodies may hold at once.
    void startBody() {
        // Beast reads as much as the buffer has room for without growing: room for large reads (else a
        // body arrives a couple of KB per system call), but no more than the body announced (a metric batch
        // of a few hundred bytes must not cost a 256 KB allocation, zeroed, per request).
        m_stream_parser.emplace(std::move(*m_header));
        m_stream_parser->body_limit(m_bodyLimit);
        const auto announced = m_stream_parser->content_length();
        const auto room = announced ? std::clamp<std::size_t>(*announced, 4096, kBodyChunk) : kBodyChunk;
        m_buffer.reserve(room);
        m_chunk.resize(room);
        m_bodyStart = std::chrono::steady_clock::now();
        m_bodyBytes = 0;
        // Room for all of it at once: the announced length, or for a chunked body the route's limit (pages
        // are only touched as bytes arrive; growing it instead would copy it, and hold two, each time).
        if (!m_request.sink) {
            const auto length = m_stream_parser->content_length();
            if (!reserveBody(length ? static_cast<std::size_t>(*length) : m_bodyLimit))
                return busy();
        }
        readChunk();
    }

    // Room for `size` bytes of body in memory, within what all bodies may hold at once.
    bool reserveBody(std::size_t size) {
        if (size <= m_request.body.capacity())
            return true;
        const auto more = size - m_request.body.capacity();
        if (m_server.bodyMemory.fetch_add(more) + more > kMemoryBodyBudget) {
            m_server.bodyMemory -= more;
            return false;
        }
        m_reserved += more;
        m_request.body.reserve(size);
        return true;
    }
    void releaseBody() {
        m_server.bodyMemory -= m_reserved;
        m_reserved = 0;
    }
    void busy() {
        auto r = errorResponse(503, "kilnd is receiving too many large request bodies at once: send it again "
                                    "in a moment");
        r.headers["Retry-After"] = "1";
        refuse(std::move(r));
    }

    // When the next piece of the body must have come: within the stall time, at the minimum rate after the
    // grace time, and a body held in memory within its deadline.
    void armBodyTimer() {
        using namespace std::chrono;
        auto until = steady_clock::now() + kBodyStall;
        const auto byRate =
            m_bodyStart + kBodyGrace +
            duration_cast<steady_clock::duration>(duration<double>(m_bodyBytes / kMinBodyRate));
        until = std::min(until, byRate);
        if (!m_request.sink)
            until = std::min(until, m_bodyStart + kMemoryBodyDeadline);
        beast::get_lowest_layer(m_stream).expires_at(until);
    }

    void readChunk() {
        auto& body = m_stream_parser->get().body();
        body.data = m_chunk.data();
        body.size = m_chunk.size();
        armBodyTimer();
        http::async_read(
            m_stream, m_buffer, *m_stream_parser,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec == http::error::need_buffer)
                    ec = {};
                if (ec == http::error::body_limit)
                    return self->fail(413, "request body is too large");
                if (ec) // (a timeout too: a body that came too slowly ends its connection)
                    return self->close();
                const auto got = self->m_chunk.size() - self->m_stream_parser->get().body().size;
                self->m_bodyBytes += got;
                try {
                    if (self->m_request.sink) {
                        self->m_request.sink->write(self->m_chunk.data(), got);
                    } else {
                        auto& text = self->m_request.body;
                        if (text.size() + got > text.capacity() &&
                            !self->reserveBody(std::min<std::size_t>(
                                std::max(text.capacity() * 2, text.size() + got), self->m_bodyLimit)))
                            return self->busy();
                        text.append(self->m_chunk.data(), got);
                    }
                } catch (const UserError& e) {
                    return self->fail(e.status(), e.what());
                } catch (const std::exception& e) {
                    return self->fail(500, std::string("internal error: ") + e.what());
                }
                if (!self->m_stream_parser->is_done())
                    return self->readChunk();
                self->m_stream_parser.reset();
                self->m_chunk = {};
                self->dispatch();
            });
    }

    // The service answers here, on the connection's strand, or later from another thread (a long-poll): the
    // answer then comes back to this connection's executor.
    void dispatch() {
        m_header.reset();
        m_buffer.shrink_to_fit(); // (what a body's reads made room for is not kept by an idle connection)
        beast::get_lowest_layer(m_stream).expires_never(); // a long-poll may take a minute
        auto request = std::move(m_request);
        m_request = Request{};
        m_server.service.handle(request, [self = this->shared_from_this()](Response r) {
            net::dispatch(self->m_stream.get_executor(),
                          [self, r = std::move(r)]() mutable { self->answer(std::move(r), false); });
        });
        request = Request{}; // (its body's memory goes back now, not with the next request)
        releaseBody();
    }

    // An answer that refuses the request before (all of) its body was read ends the connection after it:
    // the rest of the body would otherwise be taken for the next request. What the client is still sending
    // is read and dropped for a moment, so that its side sees the answer rather than a reset connection.
    void fail(int status, const std::string& message) { refuse(errorResponse(status, message)); }
    void refuse(Response r) {
        m_drain = true;
        m_request.sink.reset(); // a half-written upload is dropped now, not when the connection ends
        m_request.body = std::string();
        releaseBody();
        m_stream_parser.reset();
        answer(std::move(r), true);
    }

    void answer(Response r, bool thenClose) {
        if (thenClose)
            m_keepAlive = false;
        auto res = std::make_shared<http::response<http::buffer_body>>();
        res->result(static_cast<unsigned>(r.status));
        res->version(11);
        res->set(http::field::server, "kilnd");
        res->set(http::field::content_type, r.contentType);
        for (const auto& [k, v] : r.headers)
            res->set(k, v);
        res->keep_alive(m_keepAlive);
        std::shared_ptr<void> keep; // what the body points into, until it is sent
        if (!r.filePath.empty()) {
            auto mapping = mapFile(r);
            if (!mapping) {
                r = errorResponse(500, "cannot read stored file");
                res->result(500);
                res->set(http::field::content_type, r.contentType);
            } else {
                res->body().data = mapping->first;
                res->body().size = mapping->second;
                keep = mapping->keep;
            }
        }
        if (r.next && r.filePath.empty()) {
            // Made as it is sent: the first piece now, the next each time the last one is on its way.
            m_next = std::move(r.next);
            auto piece = std::make_shared<std::string>();
            if (!nextPiece(*res, *piece))
                return close();
            res->chunked(true);
            m_response = res;
            m_keep = piece;
            m_serializer.emplace(*res);
            return writeSome();
        }
        if (r.filePath.empty() || !keep) {
            m_largeAnswer = r.body.size() >= (8u << 20);
            auto text = std::make_shared<std::string>(std::move(r.body));
            res->body().data = text->data();
            res->body().size = text->size();
            keep = text;
        }
        res->body().more = false;
        res->content_length(res->body().size);
        m_response = res;
        m_keep = keep;
        m_serializer.emplace(*res);
        writeSome();
    }

    // The next piece of a body made as it is sent; false when it cannot be made (the answer is cut: its
    // status is on its way already, the client sees a truncated chunked body).
    bool nextPiece(http::response<http::buffer_body>& res, std::string& piece) {
        try {
            piece.clear();
            const bool more = m_next(piece);
            res.body().data = piece.data();
            res.body().size = piece.size();
            res.body().more = more;
            if (!more)
                m_next = nullptr;
            return true;
        } catch (const std::exception& e) {
            std::cerr << "kilnd: an answer could not be completed: " << e.what() << std::endl;
            m_next = nullptr;
            return false;
        }
    }

    struct Mapped {
        void* first;
        std::size_t second;
        std::shared_ptr<void> keep;
    };
    static std::optional<Mapped> mapFile(const Response& r) {
        const int fd = ::open(r.filePath.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        struct stat st {};
        ::fstat(fd, &st);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        const std::uint64_t offset = std::min<std::uint64_t>(r.fileOffset, size);
        const std::uint64_t length =
            std::min<std::uint64_t>(r.fileLength.value_or(size - offset), size - offset);
        if (length == 0) {
            ::close(fd);
            static char nothing = 0;
            return Mapped{&nothing, 0, std::make_shared<int>(0)};
        }
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED)
            return std::nullopt;
        ::madvise(p, size, MADV_SEQUENTIAL);
        auto mapping = std::make_shared<Mapping>();
        mapping->base = p;
        mapping->size = size;
        return Mapped{static_cast<char*>(p) + offset, static_cast<std::size_t>(length), mapping};
    }

    // Writes the answer in pieces, each with its own stall timer: a large download over a slow link is
    // fine, a client that stops reading is not.
    void writeSome() {
        beast::get_lowest_layer(m_stream).expires_after(kWriteStall);
        http::async_write_some(
            m_stream, *m_serializer, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec == http::error::need_buffer && self->m_next) { // (made as sent)
                    if (!self->nextPiece(*self->m_response,
                                         *std::static_pointer_cast<std::string>(self->m_keep)))
                        return self->close();
                    return self->writeSome();
                }
                if (ec)
                    return self->close();
                if (!self->m_serializer->is_done())
                    return self->writeSome();
                self->m_serializer.reset();
                self->m_response.reset();
                self->m_keep.reset();
                // A large answer built in memory (a long history as JSON) leaves the
                // allocator holding its pages: they go back to the system now.
                if (std::exchange(self->m_largeAnswer, false))
                    ::malloc_trim(0);
                if (!self->m_keepAlive)
                    return self->m_drain ? self->drain() : self->close();
                self->readHeader();
            });
    }

    void drain() {
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            close();
        } else {
            beast::error_code ec;
            m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
            m_stream.expires_after(3s); // in all, not per read
            m_chunk.resize(64 * 1024);
            drainSome();
        }
    }
    void drainSome() {
        m_stream.async_read_some(net::buffer(m_chunk),
                                 [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec)
                                         return beast::get_lowest_layer(self->m_stream).close();
                                     self->drainSome();
                                 });
    }

    void close() {
        beast::error_code ec;
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
            m_stream.close();
        } else {
            beast::get_lowest_layer(m_stream).expires_after(5s);
            m_stream.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::get_lowest_layer(self->m_stream).close();
            });
        }
    }

    HttpServer::Impl& m_server;
    Stream m_stream;
    Registry::Handle m_handle;
    beast::flat_buffer m_buffer; // (no size limit of its own: the parser's header and body limits hold)
    std::optional<http::request_parser<http::empty_body>> m_header;
    std::optional<http::request_parser<http::buffer_body>> m_stream_parser;
    std::vector<char> m_chunk;
    Request m_request;
    std::size_t m_bodyLimit = 0;
    bool m_largeAnswer = false;
    std::size_t m_reserved = 0; // of the server's bodyMemory, for m_request.body
    std::chrono::steady_clock::time_point m_bodyStart;
    std::uint64_t m_bodyBytes = 0;
    bool m_keepAlive = true;
    bool m_drain = false; // after the answer, drop what the client still sends, then close
    int m_requests = 0;
    std::shared_ptr<http::response<http::buffer_body>> m_response;
    std::shared_ptr<void> m_keep;
    std::function<bool(std::string&)> m_next; // the rest of a body made as it is sent
    std::optional<http::response_serializer<http::buffer_body>> m_serializer;
};

} // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (!open)
            return;
        if (!ec) {
            // Not inherited by what kilnd starts (environment builds; itself again after a full disk).
            ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
            beast::error_code ignored;
            const auto remote = socket.remote_endpoint(ignored);
            const auto address = ignored ? std::string("?") : remote.address().to_string();
            // The connection registers before it exists, with a close that reaches it once it does.
            auto closer = std::make_shared<std::function<void()>>();
            Registry::Handle handle;
            if (!registry.admit(address, handle, [closer] {
                    if (*closer)
                        (*closer)();
                })) {
                socket.close(ignored); // every connection from there is busy: no room
            } else if (tls) {
                auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                    *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls),
                    handle);
                *closer = [weak = std::weak_ptr(s)] {
                    if (auto s = weak.lock())
                        s->closeSoon();
                };
                s->start();
            } else {
                auto s = std::make_shared<Session<beast::tcp_stream>>(
                    *this, beast::tcp_stream(std::move(socket)), handle);
                *closer = [weak = std::weak_ptr(s)] {
                    if (auto s = weak.lock())
                        s->closeSoon();
                };
                s->start();
            }
        } else if (ec == net::error::no_descriptors) {
            // Out of descriptors (other work of kilnd's): wait a moment rather than spin.
            std::this_thread::sleep_for(50ms);
        }
        accept();
    });
}

HttpServer::HttpServer(Service& service, const std::string& host, int port, const TlsFiles& tls)
    : m_impl(std::make_unique<Impl>(service, host, port,
                                    (tls.enabled() ? "https://" : "http://") + host + ":" +
                                        std::to_string(port))) {
    if (tls.enabled()) {
        m_impl->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
        m_impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                 ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        m_impl->tls->use_certificate_chain_file(tls.certificate);
        m_impl->tls->use_private_key_file(tls.privateKey, ssl::context::pem);
    }
}

HttpServer::~HttpServer() {
    close();
}

void HttpServer::open() {
    auto& i = *m_impl;
    tcp::resolver resolver(i.ioc);
    const auto endpoints = resolver.resolve(i.host, std::to_string(i.port));
    if (endpoints.empty())
        throw std::runtime_error("cannot resolve " + i.host);
    const tcp::endpoint endpoint = *endpoints.begin();
    i.acceptor.open(endpoint.protocol());
    ::fcntl(i.acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    i.acceptor.set_option(net::socket_base::reuse_address(true));
    i.acceptor.bind(endpoint);
    i.acceptor.listen(net::socket_base::max_listen_connections);
    i.open = true;
    i.accept();
    for (unsigned t = 0; t < Impl::kThreads; ++t)
        i.threads.emplace_back([&i] {
            // A handler's exception must not end the thread (nor, escaping it, kilnd): it is logged and the
            // thread serves on.
            for (;;) {
                try {
                    i.ioc.run();
                    return;
                } catch (const std::exception& e) {
                    std::cerr << "kilnd: a request failed outside its handler: " << e.what() << std::endl;
                } catch (...) {
                    std::cerr << "kilnd: a request failed outside its handler" << std::endl;
                }
            }
        });
}

void HttpServer::close() {
    if (!m_impl || !m_impl->open.exchange(false))
        return;
    auto& i = *m_impl;
    i.ioc.stop();
    for (auto& t : i.threads)
        t.join();
    i.threads.clear();
    beast::error_code ec;
    i.acceptor.close(ec); // the port is free once close() returns (a restarted kilnd binds it again)
}

std::string HttpServer::url() const {
    return m_impl->url;
}

} // namespace Kiln::Api
