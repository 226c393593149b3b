// kilnd's HTTP server under hostile and huge requests, over loopback with raw sockets, measuring kilnd's
// peak resident memory from /proc after each (VmHWM, reset before each through clear_refs): a 600 MB body
// without a token is refused before it is read; a chunked 600 MB metrics post stops at 32 MB, also three at
// once; a run token on another run's routes is refused before its body (nothing on disk, no memory); bodies
// trickled in are ended for their rate, and many at once are held within kilnd's 256 MB for bodies; a 200 MB
// header line stops at 64 KB; a valid 500 MB blob upload is streamed (memory independent of its size); an
// idle flood past kilnd's open-file limit does not lock clients out; a half-sent header is dropped after the
// header timeout.
#include "api/Client.h"
#include "metrics/Columns.h"
#include "TestSupport.h"
#include "util/Crypto.h"
#include "util/Fs.h"

#include <arpa/inet.h>
#include <cmath>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <QFileInfo>
#include <QTest>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace Kiln;

namespace {

long statusKb(long pid, const char* field) {
    const auto status = Util::tryReadFile("/proc/" + std::to_string(pid) + "/status").value_or("");
    const auto at = status.find(field);
    return at == std::string::npos ? -1 : std::stol(status.substr(at + std::strlen(field) + 1));
}

// Starts a new peak-memory window for `pid` (Linux: "5" resets VmHWM to the current RSS).
bool resetPeak(long pid) {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/clear_refs").c_str(), "w");
    if (!f)
        return false;
    const bool ok = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && ok;
}

bool sendAll(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const auto sent = ::send(fd, p, n, MSG_NOSIGNAL);
        if (sent <= 0)
            return false;
        p += sent;
        n -= static_cast<std::size_t>(sent);
    }
    return true;
}

// The status code of the answer on `fd` (0 if none came within `ms`).
int readStatus(int fd, int ms) {
    std::string got;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (got.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got.starts_with("HTTP/1.1 ") && got.size() >= 12 ? std::stoi(got.substr(9, 3)) : 0;
}

struct Sent {
    int status = 0;
    std::uint64_t bytes = 0; // of the body, before the answer came (or the connection closed)
};

// Sends `header`, then up to `total` body bytes in 1 MB pieces (as chunks with `chunked`), stopping as soon
// as an answer is there to read or the server stops taking bytes.
Sent sendBody(int port, const std::string& header, std::uint64_t total, bool chunked) {
    Sent out;
    const int fd = Test::connectLoopback(port);
    if (fd < 0 || !sendAll(fd, header.data(), header.size()))
        return out;
    const std::string piece(1 << 20, 'x');
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    while (out.bytes < total) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0)
            break; // answered (or closed)
        bool ok = chunked ? sendAll(fd, size, std::strlen(size)) && sendAll(fd, piece.data(), piece.size()) &&
                                sendAll(fd, "\r\n", 2)
                          : sendAll(fd, piece.data(), piece.size());
        if (!ok)
            break;
        out.bytes += piece.size();
    }
    out.status = readStatus(fd, 20000);
    ::close(fd);
    return out;
}

} // namespace

class TestServerLimits : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    int m_port = 0;
    long m_pid = 0;

    long peakGrowthMb(long baselineKb) const { return (statusKb(m_pid, "VmHWM:") - baselineKb) / 1024; }
    long startWindow() const {
        if (!resetPeak(m_pid))
            return -1;
        return statusKb(m_pid, "VmRSS:");
    }
    bool healthy() {
        try {
            return m_ws->client().get("/api/v1/health").is_object();
        } catch (const std::exception&) {
            return false;
        }
    }

private Q_SLOTS:
    void initTestCase() {
        // kilnd gets an open-file limit of 2048 (it inherits this process's), so that a flood can pass it.
        rlimit r{};
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &r), 0);
        if (r.rlim_max != RLIM_INFINITY && r.rlim_max < 8192)
            KILN_SKIP_OR_FAIL("the open-file limit's ceiling here is below 8192: the flood test needs more");
        const rlimit kilnd{2048, r.rlim_max};
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &kilnd), 0);
        m_ws = std::make_unique<Test::Workspace>();
        const rlimit self{std::min<rlim_t>(r.rlim_max, 16384), r.rlim_max};
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &self), 0);
        m_port = std::stoi(m_ws->url().substr(m_ws->url().rfind(':') + 1));
        m_pid = m_ws->kilndPid();
        QVERIFY(m_pid > 0);
        const auto limits = Util::tryReadFile("/proc/" + std::to_string(m_pid) + "/limits").value_or("");
        QVERIFY2(limits.find("Max open files            2048") != std::string::npos, limits.c_str());
        if (startWindow() < 0)
            KILN_SKIP_OR_FAIL("cannot reset kilnd's peak memory (/proc/PID/clear_refs): not root?");
    }
    void cleanupTestCase() { m_ws.reset(); }

    void aHugeBodyWithoutATokenIsRefusedUnread() {
        const long base = startWindow();
        auto sent = sendBody(m_port,
                             "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 629145600\r\n\r\n",
                             600ull << 20, false);
        QCOMPARE(sent.status, 401);
        qInfo("600 MB without a token: 401 after %llu MB sent, kilnd's peak grew %ld MB",
              static_cast<unsigned long long>(sent.bytes >> 20), peakGrowthMb(base));
        QVERIFY2(sent.bytes < (64ull << 20), qPrintable(QString::number(sent.bytes)));
        QVERIFY2(peakGrowthMb(base) < 16, qPrintable(QString::number(peakGrowthMb(base))));
        QVERIFY(healthy());
    }

    void aHugeChunkedPostStopsAt32Mb() {
        const long base = startWindow();
        const std::string header =
            "POST /api/v1/runs/1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + m_ws->token() +
            "\r\nTransfer-Encoding: chunked\r\n\r\n";
        auto sent = sendBody(m_port, header, 600ull << 20, true);
        QCOMPARE(sent.status, 413);
        qInfo("600 MB chunked metrics post: 413 after %llu MB sent, kilnd's peak grew %ld MB",
              static_cast<unsigned long long>(sent.bytes >> 20), peakGrowthMb(base));
        QVERIFY2(sent.bytes < (100ull << 20), qPrintable(QString::number(sent.bytes)));
        QVERIFY2(peakGrowthMb(base) < 100, qPrintable(QString::number(peakGrowthMb(base))));

        // Three at once: each stops at its own 32 MB.
        const long base3 = startWindow();
        std::vector<std::thread> threads;
        std::vector<Sent> results(3);
        for (int i = 0; i < 3; ++i)
            threads.emplace_back([&, i] {
                results[static_cast<std::size_t>(i)] = sendBody(m_port, header, 600ull << 20, true);
            });
        for (auto& t : threads)
            t.join();
        for (const auto& r : results)
            QCOMPARE(r.status, 413);
        qInfo("three at once: kilnd's peak grew %ld MB", peakGrowthMb(base3));
        // (a chunked body has room for the route's 32 MB from the start, touched as it arrives: three times
        // that, and never a copy)
        QVERIFY2(peakGrowthMb(base3) < 120, qPrintable(QString::number(peakGrowthMb(base3))));
        QVERIFY(healthy());
    }

    void aRunTokenIsRefusedBeforeItsBody() {
        // Any run's script holds a run token. Used on a route that is not its run's, it is refused from the
        // header: a 600 MB chunked blob upload writes nothing to disk, 31 MB metric posts to another run take
        // no memory.
        QTemporaryDir src;
        const auto run = Test::startTokenRun(*m_ws, src);
        QVERIFY2(run.id > 0, "the token run did not start");
        const auto tmp = m_ws->path() + QStringLiteral("/blobs/tmp");
        const long base = startWindow();
        std::vector<std::thread> threads;
        std::vector<Sent> blobs(3), metrics(3);
        for (std::size_t i = 0; i < 3; ++i) {
            threads.emplace_back([&, i] {
                blobs[i] = sendBody(m_port,
                                    "PUT /api/v1/blobs/" + std::string(64, 'a') +
                                        " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + run.token +
                                        "\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    600ull << 20, true);
            });
            threads.emplace_back([&, i] {
                metrics[i] =
                    sendBody(m_port,
                             "POST /api/v1/runs/" + std::to_string(run.id + 1000) +
                                 "/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + run.token +
                                 "\r\nContent-Type: application/json\r\nContent-Length: 32505856\r\n\r\n",
                             31ull << 20, false);
            });
        }
        for (auto& t : threads)
            t.join();
        for (const auto& r : blobs) {
            QCOMPARE(r.status, 403);
            QVERIFY2(r.bytes < (64ull << 20), qPrintable(QString::number(r.bytes)));
        }
        for (const auto& r : metrics)
            QCOMPARE(r.status, 403);
        qInfo("a run token on another run's routes: 403 after %llu MB sent, blobs/tmp holds %lld bytes, "
              "kilnd's "
              "peak grew %ld MB",
              static_cast<unsigned long long>(blobs[0].bytes >> 20), Test::folderBytes(tmp),
              peakGrowthMb(base));
        QCOMPARE(Test::folderBytes(tmp), 0);
        QVERIFY2(peakGrowthMb(base) < 16, qPrintable(QString::number(peakGrowthMb(base))));
        m_ws->client().post("/api/v1/runs/" + std::to_string(run.id) + "/cancel", Json::object());
        QVERIFY(healthy());
    }

    void bodiesTrickledInOrManyAtOnceCannotHoldMemory() {
        QTemporaryDir src;
        const auto run = Test::startTokenRun(*m_ws, src);
        QVERIFY2(run.id > 0, "the token run did not start");
        const std::string header = "POST /api/v1/runs/" + std::to_string(run.id) +
                                   "/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + run.token +
                                   "\r\nContent-Type: application/json\r\nContent-Length: 32505856\r\n\r\n";
        // 20 connections announce 31 MB each and send a byte a second: each is refused (the memory for
        // bodies is taken: 503) or ended for its rate, and kilnd's memory does not hold their bodies.
        long base = startWindow();
        std::vector<int> fds;
        for (int i = 0; i < 20; ++i) {
            const int fd = Test::connectLoopback(m_port);
            QVERIFY(fd >= 0 && sendAll(fd, header.data(), header.size()));
            fds.push_back(fd);
        }
        const auto started = std::chrono::steady_clock::now();
        std::vector<bool> ended(fds.size(), false);
        int refused = 0;
        auto seconds = [&] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        };
        while (std::count(ended.begin(), ended.end(), false) > 0 &&
               seconds() < Test::scaledMs(60000) / 1000.0) {
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (ended[i])
                    continue;
                pollfd p{fds[i], POLLIN, 0};
                if (::poll(&p, 1, 0) == 1) {
                    refused += readStatus(fds[i], 1000) == 503;
                    ended[i] = true;
                    continue;
                }
                ended[i] = !sendAll(fds[i], "{", 1);
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
        for (int fd : fds)
            ::close(fd);
        qInfo(
            "20 bodies of 31 MB trickled in: %d refused at once (503), all ended after %.0f s, kilnd's peak "
            "grew %ld MB",
            refused, seconds(), peakGrowthMb(base));
        QCOMPARE(std::count(ended.begin(), ended.end(), false), 0);
        QVERIFY2(refused >= 10, qPrintable(QString::number(refused))); // 256 MB hold 8 of 31 MB
        QVERIFY2(seconds() < Test::scaledMs(40000) / 1000.0, qPrintable(QString::number(seconds())));
        // (not the 8 x 31 MB the bodies would hold: what is room, not bytes, costs nothing but the
        // sanitizers' shadow of it)
        QVERIFY2(peakGrowthMb(base) < 64, qPrintable(QString::number(peakGrowthMb(base))));

        // 12 that send all but the last byte at once: the memory for bodies (256 MB) holds 8; the others
        // are told to come back (503), and kilnd's memory stays within that bound.
        base = startWindow();
        std::vector<std::thread> threads;
        std::vector<int> statuses(12, 0);
        std::vector<int> open(12, -1);
        const std::string piece(1 << 20, ' ');
        for (std::size_t i = 0; i < 12; ++i)
            threads.emplace_back([&, i] {
                const int fd = Test::connectLoopback(m_port);
                open[i] = fd;
                if (fd < 0 || !sendAll(fd, header.data(), header.size()))
                    return;
                std::uint64_t sent = 0;
                while (sent + piece.size() < 32505856) {
                    pollfd p{fd, POLLIN, 0};
                    if (::poll(&p, 1, 0) > 0)
                        break;
                    if (!sendAll(fd, piece.data(), piece.size()))
                        break;
                    sent += piece.size();
                }
                statuses[i] = readStatus(fd, 3000);
            });
        for (auto& t : threads)
            t.join();
        const auto busy = std::count(statuses.begin(), statuses.end(), 503);
        qInfo("12 bodies of 31 MB at once: %ld told to come back (503), kilnd's peak grew %ld MB", long(busy),
              peakGrowthMb(base));
        for (int fd : open)
            if (fd >= 0)
                ::close(fd);
        QCOMPARE(busy, 4L);
        QVERIFY2(peakGrowthMb(base) < 256 + 48, qPrintable(QString::number(peakGrowthMb(base))));
        m_ws->client().post("/api/v1/runs/" + std::to_string(run.id) + "/cancel", Json::object());
        QVERIFY(healthy());
    }

    void aHugeHeaderStopsAt64Kb() {
        const long base = startWindow();
        const int fd = Test::connectLoopback(m_port);
        QVERIFY(fd >= 0);
        std::string line = "GET /api/v1/health HTTP/1.1\r\nX-Filler: ";
        QVERIFY(sendAll(fd, line.data(), line.size()));
        const std::string piece(1 << 20, 'a');
        std::uint64_t sent = 0;
        while (sent < (200ull << 20)) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0 || !sendAll(fd, piece.data(), piece.size()))
                break;
            sent += piece.size();
        }
        QCOMPARE(readStatus(fd, 20000), 431);
        ::close(fd);
        qInfo("a 200 MB header: 431 after %llu MB sent, kilnd's peak grew %ld MB",
              static_cast<unsigned long long>(sent >> 20), peakGrowthMb(base));
        QVERIFY2(sent < (64ull << 20), qPrintable(QString::number(sent)));
        QVERIFY2(peakGrowthMb(base) < 16, qPrintable(QString::number(peakGrowthMb(base))));
        QVERIFY(healthy());
    }

    void aLargeBlobUploadIsStreamed() {
        // 500 MB of a repeating pattern, hashed here as it is sent.
        const std::size_t total = 500u << 20;
        std::string piece(1 << 20, '\0');
        for (std::size_t i = 0; i < piece.size(); ++i)
            piece[i] = static_cast<char>((i * 131) % 251);
        Util::Sha256 hash;
        for (std::size_t sent = 0; sent < total; sent += piece.size())
            hash.update(piece.data(), piece.size());
        const auto sha = hash.finishHex();
        const long base = startWindow();
        const int fd = Test::connectLoopback(m_port);
        const std::string header = "PUT /api/v1/blobs/" + sha +
                                   " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + m_ws->token() +
                                   "\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n";
        QVERIFY(sendAll(fd, header.data(), header.size()));
        const auto started = std::chrono::steady_clock::now();
        for (std::size_t sent = 0; sent < total; sent += piece.size())
            QVERIFY(sendAll(fd, piece.data(), piece.size()));
        QCOMPARE(readStatus(fd, 120000), 201);
        ::close(fd);
        qInfo("a 500 MB blob upload: 201 in %.1f s, kilnd's peak grew %ld MB",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              peakGrowthMb(base));
        QVERIFY2(peakGrowthMb(base) < 48, qPrintable(QString::number(peakGrowthMb(base))));
        const auto stored =
            QString::fromStdString(m_ws->path().toStdString() + "/blobs/" + sha.substr(0, 2) + "/" + sha);
        QCOMPARE(QFileInfo(stored).size(), static_cast<qint64>(total));

        // The same name with other content: refused, nothing stored under it.
        const std::string wrong(1000, 'z');
        const std::string other = std::string(64, 'a');
        const int fd2 = Test::connectLoopback(m_port);
        const std::string header2 = "PUT /api/v1/blobs/" + other +
                                    " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + m_ws->token() +
                                    "\r\nContent-Length: 1000\r\n\r\n" + wrong;
        QVERIFY(sendAll(fd2, header2.data(), header2.size()));
        QCOMPARE(readStatus(fd2, 20000), 400);
        ::close(fd2);
        QVERIFY(
            !QFileInfo::exists(m_ws->path() + QStringLiteral("/blobs/aa/") + QString::fromStdString(other)));
    }

    void aLongHistoryIsSentAsItIsMade() {
        // A million points as JSON are about 48 MB of text: kilnd writes it as it sends it (chunked), from
        // the columns it read (24 MB), and never holds the whole text; the client gets every point.
        QTemporaryDir src;
        const auto run = Test::startTokenRun(*m_ws, src);
        QVERIFY2(run.id > 0, "the token run did not start");
        auto& c = m_ws->client();
        constexpr int kPoints = 1'000'000;
        for (int b = 0; b < 10; ++b) {
            Metrics::Columns batch;
            for (int i = b * kPoints / 10; i < (b + 1) * kPoints / 10; ++i)
                batch.add("long", i, 1.7e9 + i * 0.001, std::sin(i * 0.001));
            QVERIFY(c.logMetrics(run.id, batch, 50));
        }
        const long base = startWindow();
        const int fd = Test::connectLoopback(m_port);
        const std::string request =
            "GET /api/v1/runs/" + std::to_string(run.id) +
            "/metrics/history?key=long HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + m_ws->token() +
            "\r\nConnection: close\r\n\r\n";
        QVERIFY(sendAll(fd, request.data(), request.size()));
        std::string got;
        char buf[1 << 16];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
            got.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
        const auto headerEnd = got.find("\r\n\r\n");
        QVERIFY(headerEnd != std::string::npos);
        const auto header = got.substr(0, headerEnd);
        QVERIFY2(header.starts_with("HTTP/1.1 200"), header.c_str());
        QVERIFY2(header.find("Transfer-Encoding: chunked") != std::string::npos, header.c_str());
        // The chunks, joined.
        std::string body;
        for (std::size_t at = headerEnd + 4;;) {
            const auto line = got.find("\r\n", at);
            QVERIFY(line != std::string::npos);
            const auto size = std::stoul(got.substr(at, line - at), nullptr, 16);
            if (size == 0)
                break;
            QVERIFY(line + 2 + size <= got.size());
            body.append(got, line + 2, size);
            at = line + 2 + size + 2;
        }
        qInfo("a %d-point history as JSON: %zu MB sent in chunks, kilnd's peak grew %ld MB", kPoints,
              body.size() >> 20, peakGrowthMb(base));
        QVERIFY2(body.size() > (32u << 20), qPrintable(QString::number(body.size())));
        QVERIFY2(peakGrowthMb(base) < 56, qPrintable(QString::number(peakGrowthMb(base))));
        const auto json = Json::parse(body);
        const auto values = json["series"]["values"].get<std::vector<double>>();
        QCOMPARE(values.size(), std::size_t(kPoints));
        QCOMPARE(values, c.history(run.id, "long").values);
        QCOMPARE(json["series"]["steps"].back().get<std::int64_t>(), std::int64_t(kPoints - 1));
        c.post("/api/v1/runs/" + std::to_string(run.id) + "/cancel", Json::object());
    }

    void anIdleFloodDoesNotLockClientsOut() {
        // More connections than kilnd has descriptors, all silent: the ones idle longest make room, and a
        // client with a real request is answered throughout.
        std::vector<int> idle;
        for (int i = 0; i < 2600; ++i) {
            const int fd = Test::connectLoopback(m_port);
            if (fd >= 0)
                idle.push_back(fd);
            if (i % 500 == 499)
                QVERIFY2(healthy(), qPrintable(QStringLiteral("after %1 idle connections").arg(i + 1)));
        }
        QVERIFY(idle.size() > 2048); // the flood did pass kilnd's open-file limit
        QVERIFY(healthy());
        // kilnd took them in and closed the oldest to make room (not the kernel's listen backlog holding
        // them): those read end-of-stream.
        // (kilnd takes the flood in from its listen backlog at its own pace: slower under the sanitizers)
        int evicted = 0;
        std::vector<bool> closed(idle.size(), false);
        auto countEvicted = [&] {
            for (std::size_t i = 0; i < idle.size(); ++i) {
                pollfd p{idle[i], POLLIN, 0};
                char c;
                if (!closed[i] && ::poll(&p, 1, 0) == 1 && ::recv(idle[i], &c, 1, MSG_DONTWAIT) == 0) {
                    closed[i] = true;
                    ++evicted;
                }
            }
            return evicted >= 500;
        };
        QTRY_VERIFY_WITH_TIMEOUT(countEvicted(), Test::scaledMs(20000));
        qInfo("an idle flood of %zu connections: kilnd closed the %d idle longest", idle.size(), evicted);
        QVERIFY2(evicted >= 500, qPrintable(QString::number(evicted)));
        for (int fd : idle)
            ::close(fd);
    }

    void aHalfSentHeaderIsDropped() {
        const int fd = Test::connectLoopback(m_port);
        QVERIFY(fd >= 0);
        const std::string half = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n";
        QVERIFY(sendAll(fd, half.data(), half.size()));
        // The header timeout (20 s) ends it: the socket reads end-of-stream.
        pollfd p{fd, POLLIN, 0};
        QVERIFY(::poll(&p, 1, 40000) == 1);
        char c;
        QVERIFY(::recv(fd, &c, 1, 0) <= 0);
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TestServerLimits)
#include "test_server_limits.moc"
