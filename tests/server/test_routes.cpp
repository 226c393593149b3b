// kilnd's route table (core/api/Routes.cpp): API.md documents exactly its routes; the router picks the most
// specific pattern and answers 405 with Allow; and every route, walked over real HTTP with each kind of
// caller (no token, the workspace token, a live run's token on its own run and on another run), answers
// as the table says, the refusals coming before a byte of the body is read.
#include "api/Client.h"
#include "api/Service.h"
#include "TestSupport.h"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <QFile>
#include <QRegularExpression>
#include <QTest>
#include <regex>
#include <set>
#include <sys/socket.h>
#include <unistd.h>

using namespace Kiln;

namespace {

struct Answer {
    int status = 0; // 0: none came
    std::string allow;
    std::string body;
};

// One request on its own connection. With `announce` set, the header announces that many body bytes and
// none is sent: the answer must come from the header alone.
Answer request(int port, const std::string& method, const std::string& path, const std::string& token,
               const std::string& body, std::size_t announce = 0) {
    Answer out;
    const int fd = Test::connectLoopback(port);
    if (fd < 0)
        return out;
    std::string text = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!token.empty())
        text += "Authorization: Bearer " + token + "\r\n";
    text += "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(announce ? announce : body.size()) + "\r\n\r\n";
    if (!announce)
        text += body;
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    std::string got;
    char buf[8192];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(Test::scaledMs(10000));
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        got.append(buf, static_cast<std::size_t>(n));
        const auto end = got.find("\r\n\r\n");
        if (end != std::string::npos && announce) // (the server closes after a refusal; enough is here)
            break;
    }
    ::close(fd);
    if (!got.starts_with("HTTP/1.1 ") || got.size() < 12)
        return out;
    out.status = std::stoi(got.substr(9, 3));
    const auto allow = got.find("\r\nAllow: ");
    if (allow != std::string::npos)
        out.allow = got.substr(allow + 9, got.find("\r\n", allow + 9) - allow - 9);
    const auto end = got.find("\r\n\r\n");
    out.body = end == std::string::npos ? std::string() : got.substr(end + 4);
    return out;
}

// The pattern with its parameters filled in.
std::string pathOf(std::string_view pattern, std::int64_t run) {
    std::string out(pattern);
    const std::pair<const char*, std::string> values[] = {{"{id}", std::to_string(run)},
                                                          {"{name}", "nope"},
                                                          {"{version}", "1"},
                                                          {"{key}", "k"},
                                                          {"{path+}", "a/b.txt"},
                                                          {"{sha256}", std::string(64, '0')}};
    for (const auto& [from, to] : values)
        if (const auto at = out.find(from); at != std::string::npos)
            out.replace(at, std::strlen(from), to);
    return out;
}

// "{anything}" -> "{}", so that API.md's spellings ({v or latest}, {path}) meet the table's.
std::string normalized(std::string pattern) {
    static const std::regex param(R"(\{[^}]*\})");
    return std::regex_replace(pattern, param, "{}");
}

} // namespace

class TestRoutes : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_src;
    int m_port = 0;

private Q_SLOTS:
    void apiMdDocumentsExactlyTheTable() {
        QFile doc(QStringLiteral(KILN_TEST_DATA "/../../core/api/API.md"));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        std::set<std::pair<std::string, std::string>> documented, table;
        const QRegularExpression row(QStringLiteral(R"(^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|)"));
        for (const auto& line : QString::fromUtf8(doc.readAll()).split(u'\n'))
            if (const auto m = row.match(line); m.hasMatch())
                documented.insert({m.captured(1).toStdString(), normalized(m.captured(2).toStdString())});
        for (const auto& r : Api::Service::routes())
            table.insert({std::string(r.method), normalized(std::string(r.pattern))});
        QVERIFY(table.size() > 40);
        for (const auto& [method, path] : table)
            QVERIFY2(documented.count({method, path}), ("API.md lacks " + method + " " + path).c_str());
        for (const auto& [method, path] : documented)
            QVERIFY2(table.count({method, path}),
                     ("API.md documents a route kilnd lacks: " + method + " " + path).c_str());
    }

    void theRouterPrefersLiteralsAndKnowsEachPathsMethods() {
        Api::Router router(Api::Service::routes());
        auto find = [&](const char* method, const char* path) {
            return router.find(method, Api::splitPath(path));
        };
        auto columns = find("GET", "/api/v1/runs/columns");
        QVERIFY(columns.route);
        QCOMPARE(std::string(columns.route->pattern), std::string("/api/v1/runs/columns"));
        auto run = find("GET", "/api/v1/runs/12");
        QVERIFY(run.route);
        QCOMPARE(run.params.at("id"), std::string("12"));
        auto file = find("GET", "/api/v1/runs/12/files/outputs/model/w.npy");
        QVERIFY(file.route);
        QCOMPARE(file.params.at("path"), std::string("outputs/model/w.npy"));
        auto list = find("GET", "/api/v1/runs/12/files/"); // ({path+} needs a segment: this is the list)
        QVERIFY(list.route);
        QCOMPARE(std::string(list.route->pattern), std::string("/api/v1/runs/{id}/files"));
        auto wrong = find("PUT", "/api/v1/runs/12");
        QVERIFY(!wrong.route);
        QCOMPARE(wrong.allow, std::string("GET, PATCH, DELETE"));
        auto unknown = find("GET", "/api/v1/nothing");
        QVERIFY(!unknown.route && unknown.allow.empty());
    }

    void everyRouteAnswersEachCallerAsTheTableSays() {
        m_ws = std::make_unique<Test::Workspace>();
        m_port = std::stoi(m_ws->url().substr(m_ws->url().rfind(':') + 1));
        const auto own = Test::startTokenRun(*m_ws, m_src);
        QVERIFY2(own.id > 0, "the token run did not start");
        const auto other = Test::startTokenRun(*m_ws, m_src);
        QVERIFY2(other.id > 0, "the second token run did not start");
        const auto token = m_ws->token();
        int walked = 0;
        std::set<std::string> patterns;
        for (const auto& r : Api::Service::routes()) {
            const std::string method(r.method);
            const std::string what = method + " " + std::string(r.pattern);
            const bool shutdown = r.pattern.ends_with("/shutdown");
            const bool aboutRuns =
                r.pattern.find("{id}") != std::string_view::npos && r.pattern.starts_with("/api/v1/runs/");
            const std::string body = r.body == Api::Body::None ? std::string() : std::string("{}");
            // No token: 401, and nothing of the body is waited for.
            auto a = request(m_port, method, pathOf(r.pattern, own.id), "", "",
                             std::min<std::size_t>(r.limit, 1 << 20));
            QVERIFY2(a.status == 401, (what + " without a token -> " + std::to_string(a.status)).c_str());
            // The run token of another run: 403 for every route about a run, before any body byte.
            if (aboutRuns) {
                a = request(m_port, method, pathOf(r.pattern, own.id), other.token, "",
                            std::min<std::size_t>(r.limit, 1 << 20));
                QVERIFY2(a.status == 403,
                         (what + " with another run's token -> " + std::to_string(a.status)).c_str());
            }
            // The run's own token: what the table lets run tokens do, else 403 before any body byte.
            if (!(r.callers & Api::kOwnRun)) {
                a = request(m_port, method, pathOf(r.pattern, own.id), own.token, "",
                            std::min<std::size_t>(r.limit, 1 << 20));
                QVERIFY2(a.status == 403,
                         (what + " with a run token -> " + std::to_string(a.status)).c_str());
            } else if (!shutdown) {
                a = request(m_port, method, pathOf(r.pattern, own.id), own.token, body);
                QVERIFY2(
                    a.status != 401 && a.status != 403 && a.status != 405 && a.status != 0,
                    (what + " with its run's token -> " + std::to_string(a.status) + " " + a.body).c_str());
            }
            // The workspace token reaches the handler (unknown ids and empty bodies keep it from changing
            // anything): no 401/403/405 and no "no such endpoint".
            if (!shutdown) {
                a = request(m_port, method, pathOf(r.pattern, 999999), token, body);
                QVERIFY2(a.status != 0 && a.status != 401 && a.status != 403 && a.status != 405 &&
                             a.body.find("no such endpoint") == std::string::npos,
                         (what + " with the workspace token -> " + std::to_string(a.status) + " " + a.body)
                             .c_str());
            }
            // A method the path does not take: 405 with the methods it does take.
            if (patterns.insert(std::string(r.pattern)).second) {
                std::set<std::string> methods;
                for (const auto& s : Api::Service::routes())
                    if (s.pattern == r.pattern)
                        methods.insert(std::string(s.method));
                a = request(m_port, "OPTIONS", pathOf(r.pattern, own.id), token, "");
                QVERIFY2(a.status == 405, (what + ": OPTIONS -> " + std::to_string(a.status)).c_str());
                std::set<std::string> allowed;
                for (const auto& m : QString::fromStdString(a.allow).split(QStringLiteral(", ")))
                    allowed.insert(m.toStdString());
                QVERIFY2(allowed == methods, (what + ": Allow: " + a.allow).c_str());
            }
            ++walked;
        }
        QCOMPARE(walked, static_cast<int>(Api::Service::routes().size()));
        // The runs the walk used are as they were: live, with nothing the refused calls sent.
        for (auto id : {own.id, other.id}) {
            const auto run = m_ws->client().run(id);
            QCOMPARE(run["status"].get<std::string>(), std::string("Running"));
            QVERIFY(run["tags"].empty());
        }
        // And last, the route that ends kilnd, with the workspace token.
        QCOMPARE(request(m_port, "POST", "/api/v1/server/shutdown", own.token, "{}").status, 403);
        m_ws->client().post("/api/v1/runs/" + std::to_string(own.id) + "/cancel", Json::object());
        m_ws->client().post("/api/v1/runs/" + std::to_string(other.id) + "/cancel", Json::object());
        QCOMPARE(request(m_port, "POST", "/api/v1/server/shutdown", token, "{}").status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(request(m_port, "GET", "/api/v1/health", token, "").status == 0,
                                 Test::scaledMs(20000));
    }
};

QTEST_GUILESS_MAIN(TestRoutes)
#include "test_routes.moc"
