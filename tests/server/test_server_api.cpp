// kilnd's REST API over real HTTP against a temporary workspace: authentication, validation of hostile
// input, and that nothing outside a run can be read through it.
#include "api/Client.h"
#include "metrics/Reduce.h"
#include "TestSupport.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <arpa/inet.h>
#include <cmath>
#include <limits>
#include <netinet/in.h>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>
#include <sys/socket.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

using namespace Kiln;

class TestServerApi : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    std::int64_t m_run = 0;
    QTemporaryDir m_src;

    static QString bodyOf(const std::pair<int, std::string>& r) { return QString::fromStdString(r.second); }
    static std::string errorOf(const std::pair<int, std::string>& r) {
        return Json::parse(r.second).value("error", std::string());
    }

private Q_SLOTS:
    void initTestCase() {
        m_ws = std::make_unique<Test::Workspace>();
        const auto src = Test::sourceWith(m_src, QStringLiteral("src"), {QStringLiteral("fail.py")});
        Api::SubmitRequest request;
        request.experiment = "api";
        request.sourceDir = src.toStdString();
        request.script = "fail.py";
        auto run = m_ws->client().submit(request);
        m_run = run["id"].get<std::int64_t>();
        for (int i = 0; i < 300 && m_ws->client().run(m_run)["status"] != "Failed"; ++i)
            QTest::qWait(50);
        QCOMPARE(m_ws->client().run(m_run)["status"].get<std::string>(), std::string("Failed"));
    }
    void cleanupTestCase() { m_ws.reset(); }

    void serverFileIsPrivate() {
        struct stat st {};
        QCOMPARE(::stat((m_ws->path() + QStringLiteral("/server.json")).toUtf8().constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
        QVERIFY(QString::fromStdString(m_ws->url()).startsWith(QStringLiteral("http://127.0.0.1:")));
    }

    void everyEndpointNeedsTheToken_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("path");
        QTest::newRow("health") << "GET"
                                << "/api/v1/health";
        QTest::newRow("runs") << "GET"
                              << "/api/v1/runs";
        QTest::newRow("submit") << "POST"
                                << "/api/v1/runs";
        QTest::newRow("run") << "GET"
                             << "/api/v1/runs/1";
        QTest::newRow("metrics") << "POST"
                                 << "/api/v1/runs/1/metrics";
        QTest::newRow("files") << "GET"
                               << "/api/v1/runs/1/files/output.log";
        QTest::newRow("models") << "GET"
                                << "/api/v1/models";
        QTest::newRow("register model") << "POST"
                                        << "/api/v1/models";
        QTest::newRow("model file") << "GET"
                                    << "/api/v1/models/m/versions/1/files/a";
        QTest::newRow("shutdown") << "POST"
                                  << "/api/v1/server/shutdown";
        QTest::newRow("unknown") << "GET"
                                 << "/api/v1/nothing";
    }
    void everyEndpointNeedsTheToken() {
        QFETCH(QString, method);
        QFETCH(QString, path);
        const std::vector<std::string> tokens = {"", "wrong", std::string(m_ws->token()).replace(0, 1, "x")};
        for (const auto& token : tokens) {
            Api::Client c(m_ws->url(), token);
            auto r = c.raw(method.toStdString(), path.toStdString(), "{}");
            QCOMPARE(r.first, 401);
            QVERIFY(!errorOf(r).empty());
        }
        QVERIFY(m_ws->client().health()["ok"].get<bool>()); // and the server is still there
    }

    void malformedJsonIsRefusedWithAMessage() {
        auto& c = m_ws->client();
        const auto before = c.get("/api/v1/runs").size();
        for (const char* body :
             {"{", "not json", "[1,2]", "{\"experiment\": 5}", "{\"experiment\":\"x\"}", ""}) {
            auto r = c.raw("POST", "/api/v1/runs", body);
            QCOMPARE(r.first, 400);
            QVERIFY2(!errorOf(r).empty(), body);
        }
        QCOMPARE(c.get("/api/v1/runs").size(), before);
        auto r = c.raw("POST", "/api/v1/runs/" + std::to_string(m_run) + "/metrics",
                       "{\"points\":[{\"key\":\"x\",\"value\":\"NaN\"}]}");
        QCOMPARE(r.first, 400);
        r = c.raw("POST", "/api/v1/runs/" + std::to_string(m_run) + "/metrics",
                  "{\"points\":[{\"key\":\"x\",\"value\":1e999}]}");
        QCOMPARE(r.first, 400);
        r = c.raw("POST", "/api/v1/runs/" + std::to_string(m_run) + "/metrics",
                  "{\"points\":[{\"key\":\"\",\"value\":1}]}");
        QCOMPARE(r.first, 400);
        QCOMPARE(c.get("/api/v1/runs/" + std::to_string(m_run) + "/metrics").size(), std::size_t(0));
    }

    void unknownRunsAre404() {
        auto& c = m_ws->client();
        for (const char* path : {"/api/v1/runs/999999", "/api/v1/runs/999999/metrics", "/api/v1/runs/abc",
                                 "/api/v1/runs/-1/logs", "/api/v1/runs/999999/files"}) {
            auto r = c.raw("GET", path);
            QCOMPARE(r.first, 404);
            QVERIFY2(!errorOf(r).empty(), path);
        }
    }

    void runFilePathsCannotEscapeTheRun() {
        auto& c = m_ws->client();
        const auto base = "/api/v1/runs/" + std::to_string(m_run) + "/files/";
        for (const char* evil :
             {"..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%2fetc%2fpasswd",
              "outputs/..%2f..%2fkiln.db", "a%00b", "..%5c..%5cetc%5cpasswd"}) {
            auto r = c.raw("GET", base + evil);
            QVERIFY2(r.first == 400 || r.first == 404, evil);
            QVERIFY2(bodyOf(r).indexOf(QStringLiteral("root:")) < 0, evil);
            if (std::string(evil).find("%2e%2e") != std::string::npos || std::string(evil).find("..%2f") == 0)
                QCOMPARE(r.first, 400);
        }
        // The run's own output is there.
        auto r = c.raw("GET", base + "output.log");
        QCOMPARE(r.first, 200);
        QVERIFY(bodyOf(r).contains(QStringLiteral("something went wrong")));
    }

    void rangeRequestsAnswerThePartAsked() {
        auto& c = m_ws->client();
        const auto path = "/api/v1/runs/" + std::to_string(m_run) + "/files/output.log";
        auto read = [&](std::uint64_t first, std::optional<std::uint64_t> last) {
            std::string got;
            c.stream(path, first, last, [&](const std::uint8_t* d, std::size_t n) {
                got.append(reinterpret_cast<const char*>(d), n);
                return true;
            });
            return got;
        };
        const auto whole = read(0, std::nullopt);
        QVERIFY(whole.size() > 10);
        QCOMPARE(read(3, 9), whole.substr(3, 7));
        QCOMPARE(read(5, std::nullopt), whole.substr(5));
        QCOMPARE(read(0, 1u << 30), whole); // a range past the end is cut to the file
        int status = 0;
        try {
            read(whole.size(), std::nullopt);
        } catch (const Api::ClientError& e) {
            status = e.status();
        }
        QCOMPARE(status, 416);
    }

    void modelRoutesRefuseHostileInput() {
        auto& c = m_ws->client();
        for (const auto& [method, path, body] :
             {std::tuple{"POST", "/api/v1/models", "{not json"},
              std::tuple{"POST", "/api/v1/models", R"({"run": "1", "name": "m", "path": "outputs"})"},
              std::tuple{"POST", "/api/v1/models", R"({"run": 1, "name": "m\u0000x", "path": "output.log"})"},
              std::tuple{"POST", "/api/v1/models", R"({"run": 1, "name": "m", "path": "../kiln.db"})"},
              std::tuple{"POST", "/api/v1/models", R"({"run": 1e999, "name": "m", "path": "output.log"})"},
              std::tuple{"POST", "/api/v1/models",
                         R"({"run": 1, "name": "m", "path": "output.log", "force": true, "tags": [1]})"},
              std::tuple{"GET", "/api/v1/models/..%2f..%2fetc", ""},
              std::tuple{"GET", "/api/v1/models/m/versions/0", ""},
              std::tuple{"GET", "/api/v1/models/m/versions/1/files/..%2f..%2fkiln.db", ""},
              std::tuple{"PATCH", "/api/v1/models/nothing/versions/1", R"({"archived": true})"}}) {
            auto r = c.raw(method, path, body);
            QVERIFY2(r.first >= 400 && r.first < 500, path);
            QVERIFY2(!errorOf(r).empty(), path);
        }
        QCOMPARE(c.get("/api/v1/models").size(), std::size_t(0)); // nothing was registered
    }

    // Everything a user can see through the API, to check that refused requests changed nothing.
    Json workspaceState() {
        auto& c = m_ws->client();
        const auto run = "/api/v1/runs/" + std::to_string(m_run);
        return {{"runs", c.get("/api/v1/runs")},         {"experiments", c.get("/api/v1/experiments")},
                {"datasets", c.get("/api/v1/datasets")}, {"environments", c.get("/api/v1/environments")},
                {"compute", c.get("/api/v1/compute")},   {"models", c.get("/api/v1/models")},
                {"metrics", c.get(run + "/metrics")},    {"run", c.get(run)},
                {"files", c.get(run + "/files")}};
    }

    void everyEndpointRefusesHostileInput() {
        auto& c = m_ws->client();
        const auto before = workspaceState();
        const std::string run = "/api/v1/runs/" + std::to_string(m_run);
        const std::string tenMb(10u << 20, 'a');
        // Bodies (tests/data/hostile/bodies.txt, one per line): malformed, wrong types, huge and non-finite
        // numbers, hostile names; plus 10 MB strings.
        std::vector<std::string> bodies;
        QFile corpus(QStringLiteral(KILN_TEST_DATA "/hostile/bodies.txt"));
        QVERIFY(corpus.open(QIODevice::ReadOnly));
        for (const auto& line : corpus.readAll().split('\n'))
            if (!line.isEmpty())
                bodies.push_back(line.toStdString());
        QVERIFY(bodies.size() >= 15);
        bodies.push_back("{\"name\": \"" + tenMb + "\", \"experiment\": \"" + tenMb + "\", \"run\": 999999}");
        // Every endpoint that takes a body, with ids that exist (where safe) or do not.
        const std::vector<std::pair<std::string, std::string>> writers = {
            {"POST", "/api/v1/runs"},
            {"POST", run + "/metrics"},
            {"POST", run + "/params"},
            {"POST", run + "/tags"},
            {"POST", "/api/v1/runs/999999/cancel"},
            {"POST", "/api/v1/datasets"},
            {"POST", "/api/v1/environments"},
            {"POST", "/api/v1/environments/nothing/versions/1/build"},
            {"POST", "/api/v1/compute"},
            {"POST", "/api/v1/models"},
            {"PATCH", "/api/v1/models/nothing/versions/1"},
            {"POST", "/api/v1/blobs/missing"},
            {"PUT", "/api/v1/blobs/" + std::string(64, 'a')},
            {"POST", "/api/v1/jobs/999999/cancel"},
            {"PATCH", run},
            {"PATCH", "/api/v1/runs/999999"},
            {"DELETE", "/api/v1/runs/999999"},
            {"PATCH", "/api/v1/experiments/api"},
            {"PATCH", "/api/v1/experiments/..%2f..%2fetc"},
        };
        for (const auto& [method, path] : writers) {
            for (const auto& body : bodies) {
                auto r = c.raw(method, path, body);
                const auto what = method + " " + path + " " + body.substr(0, 60);
                QVERIFY2(r.first >= 400 && r.first < 500, (what + " -> " + std::to_string(r.first)).c_str());
                QVERIFY2(!errorOf(r).empty(), what.c_str());
            }
        }
        // Paths: unknown ids, traversal (plain and URL-encoded), NUL and control characters.
        const std::vector<std::string> readers = {
            "/api/v1/runs/999999",
            "/api/v1/runs/abc",
            "/api/v1/runs/-1",
            "/api/v1/runs/99999999999999999999999",
            run + "/files/%2e%2e%2f%2e%2e%2fkiln.db",
            run + "/files/..%2f..%2fserver.json",
            run + "/files/a%00b",
            run + "/metrics/history",
            run + "/feed?timeout_ms=999999999",
            run + "/logs?after=-1",
            "/api/v1/datasets/..%2f..%2fetc",
            "/api/v1/datasets/%00",
            "/api/v1/datasets/x/versions/0",
            "/api/v1/datasets/x/versions/99999999999",
            "/api/v1/environments/..",
            "/api/v1/environments/a%0ab",
            "/api/v1/compute/..%2fx",
            "/api/v1/models/%2e%2e",
            "/api/v1/models/m/versions/-1",
            "/api/v1/jobs/0",
            "/api/v1/blobs/" + std::string(64, 'a'),
            "/api/v1/changes?version=abc",
            "/api/v1/%2e%2e/%2e%2e/etc/passwd",
            "/api/v1/runs?filter=metrics.acc%20%3E",
            "/api/v1/runs?filter=name%20%3D%20%27x%27%3B%20DROP%20TABLE%20runs%3B%20--%20%27",
            "/api/v1/runs?order_by=id%3B%20DROP%20TABLE%20runs",
            "/api/v1/runs?order_by=params.%60a%22b%60",
            "/api/v1/runs?filter=" + std::string(20000, 'a'),
            [] { // 3000 nested parentheses: refused, not a stack overflow in kilnd
                std::string p = "/api/v1/runs?filter=";
                for (int i = 0; i < 3000; ++i)
                    p += "%28";
                return p + "id%3D1";
            }(),
            "/api/v1/runs?archived=2",
            "/api/v1/runs?sweep=0",
            "/api/v1/runs?limit=0",
            "/api/v1/runs/columns/x",
        };
        for (const auto& path : readers) {
            auto r = c.raw("GET", path);
            QVERIFY2(r.first >= 400 && r.first < 500, (path + " -> " + std::to_string(r.first)).c_str());
            QVERIFY2(!errorOf(r).empty(), path.c_str());
            QVERIFY2(bodyOf(r).indexOf(QStringLiteral("root:")) < 0, path.c_str());
        }
        // The server is still serving, and nothing changed.
        QVERIFY(c.health()["ok"].get<bool>());
        const auto after = workspaceState();
        QVERIFY2(after == before, Json::diff(before, after).dump().substr(0, 2000).c_str());
    }

    void oversizedBodiesAre413() {
        std::string huge(40u << 20, 'x');
        auto r = m_ws->client().raw("POST", "/api/v1/runs", huge);
        QCOMPARE(r.first, 413);
        QVERIFY(m_ws->client().health()["ok"].get<bool>());
        // Chunked (no Content-Length to refuse up front): refused too, and kilnd carries on. (cpprestsdk's
        // listener buffers such a body whole before kilnd can refuse it: a limit of that HTTP layer.)
        QProcess post;
        post.start(QStringLiteral("python3"),
                   {QStringLiteral(KILN_TEST_DATA "/chunked_post.py"), QString::fromStdString(m_ws->url()),
                    QString::fromStdString(m_ws->token()), QStringLiteral("/api/v1/runs"),
                    QStringLiteral("60")});
        QVERIFY(post.waitForFinished(60000));
        const auto status = post.readAllStandardOutput().trimmed();
        QVERIFY2(status == "413" || status == "reset", status.constData());
        QVERIFY(m_ws->client().health()["ok"].get<bool>());
    }

    void blobUploadsAreVerified() {
        auto& c = m_ws->client();
        auto r = c.raw("PUT", "/api/v1/blobs/" + std::string(64, 'a'), "content");
        QCOMPARE(r.first, 400);
        r = c.raw("PUT", "/api/v1/blobs/..%2f..%2fetc", "content");
        QCOMPARE(r.first, 400);
        auto missing = c.post("/api/v1/blobs/missing", {{"hashes", {std::string(64, 'a')}}});
        QCOMPARE(missing["missing"].size(), std::size_t(1));
    }

    void submitRefusesScriptsOutsideTheSnapshot() {
        auto& c = m_ws->client();
        Json body = {{"experiment", "x"}, {"script", "../evil.py"}, {"snapshot", {{"files", Json::array()}}}};
        QCOMPARE(c.raw("POST", "/api/v1/runs", body.dump()).first, 400);
        body["script"] = "absent.py";
        QCOMPARE(c.raw("POST", "/api/v1/runs", body.dump()).first, 400);
        body["experiment"] = "../x";
        QCOMPARE(c.raw("POST", "/api/v1/runs", body.dump()).first, 400);
    }

    void aRepeatWithTheSameIdempotencyKeyGetsTheFirstAnswer() {
        // A client whose connection dropped after kilnd acted sends the request again with the same key: the
        // first answer comes back, and nothing is created twice.
        const int port = QString::fromStdString(m_ws->url()).section(u':', -1).toInt();
        struct Answer {
            int status = 0;
            std::string head, body;
        };
        auto send = [&](const std::string& method, const std::string& path, const std::string& key,
                        const std::string& body) {
            Answer a;
            const int fd = Test::connectLoopback(port);
            if (fd < 0)
                return a;
            const std::string request =
                method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                m_ws->token() + "\r\nIdempotency-Key: " + key +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n\r\n" + body;
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
            std::string got;
            char buf[4096];
            for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
                got.append(buf, static_cast<std::size_t>(n));
            ::close(fd);
            const auto end = got.find("\r\n\r\n");
            if (got.size() > 12 && end != std::string::npos) {
                a.status = std::atoi(got.c_str() + 9);
                a.head = got.substr(0, end);
                a.body = got.substr(end + 4);
            }
            return a;
        };
        const std::string target = R"({"name": "replay-pool", "type": "local", "max_nodes": 1})";
        const auto first = send("POST", "/api/v1/compute", "create-pool-1", target);
        QCOMPARE(first.status, 201);
        const auto again = send("POST", "/api/v1/compute", "create-pool-1", target);
        QCOMPARE(again.status, 201); // (without the key: 409, the name is taken)
        QCOMPARE(again.body, first.body);
        QVERIFY2(again.head.find("Idempotent-Replayed: true") != std::string::npos, again.head.c_str());
        QCOMPARE(send("POST", "/api/v1/compute", "create-pool-2", target).status,
                 409); // a new key: a new request
        int pools = 0;
        for (const auto& t : m_ws->client().get("/api/v1/compute"))
            pools += t["name"] == "replay-pool";
        QCOMPARE(pools, 1);
        // The key of another request: refused, and that request not made.
        const auto tags = "/api/v1/runs/" + std::to_string(m_run) + "/tags";
        const auto other = send("POST", tags, "create-pool-1", R"({"tags": {"replayed": "yes"}})");
        QCOMPARE(other.status, 422);
        QVERIFY2(other.body.find("another request") != std::string::npos, other.body.c_str());
        QVERIFY(!m_ws->client().run(m_run)["tags"].contains("replayed"));
        // A key that is not one: 400.
        QCOMPARE(send("POST", tags, std::string(201, 'k'), R"({"tags": {"replayed": "yes"}})").status, 400);
        QCOMPARE(send("POST", tags, "two words", R"({"tags": {"replayed": "yes"}})").status, 400);
        QVERIFY(!m_ws->client().run(m_run)["tags"].contains("replayed"));
    }

    void controlBytesInThePathAreRefused() {
        // Control bytes in the request line, raw or percent-encoded, are refused. (A raw NUL never reaches
        // kilnd: cpprestsdk's URI parser ends the path there, so "output.log\0.png" is served as
        // "output.log"; the move of kilnd's server to Boost.Beast reads the raw target and refuses it too.)
        const auto port =
            static_cast<uint16_t>(QString::fromStdString(m_ws->url()).section(u':', -1).toInt());
        auto rawStatus = [&](const std::string& target) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(port);
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                ::close(fd);
                return 0;
            }
            const std::string request = "GET " + target +
                                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                        m_ws->token() + "\r\nConnection: close\r\n\r\n";
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
            char buf[64] = {};
            const auto n = ::recv(fd, buf, sizeof buf - 1, 0);
            ::close(fd);
            return n > 12 ? std::atoi(buf + 9) : 0; // "HTTP/1.1 200 OK"
        };
        const auto file = "/api/v1/runs/" + std::to_string(m_run) + "/files/output.log";
        QCOMPARE(rawStatus(file), 200); // the request works as such
        QCOMPARE(rawStatus(file + "\x01"), 400);
        QCOMPARE(m_ws->client().raw("GET", file + "%00.png").first, 400);
        QCOMPARE(m_ws->client().raw("GET", "/api/v1/runs/" + std::to_string(m_run) + "%0a").first, 400);
        QVERIFY(m_ws->client().health()["ok"].get<bool>());
    }

    void binaryBatchesRoundTrip() {
        // A batch in the binary column format is stored like its JSON twin, and a history read asked for in
        // that format gives back exactly what was stored.
        auto& c = m_ws->client();
        Metrics::Columns batch;
        for (int i = 0; i < 500; ++i) {
            batch.add("bin/loss", Metrics::kNextStep, 0, 1.0 / (i + 1));
            if (i % 5 == 0)
                batch.add("bin/acc", 1000 + i, 1700000000.25 + i, i * 0.001);
        }
        QVERIFY(c.logMetrics(m_run, batch));
        const auto loss = c.history(m_run, "bin/loss");
        QCOMPARE(loss.keys, std::vector<std::string>{"bin/loss"});
        QCOMPARE(loss.size(), std::size_t(500));
        QCOMPARE(loss.steps.front(), std::int64_t(0));
        QCOMPARE(loss.steps.back(), std::int64_t(499));
        QCOMPARE(loss.values[7], 1.0 / 8);
        QVERIFY(std::abs(loss.timestamps[0] - Util::nowSeconds()) < 120); // "when kilnd receives it"
        const auto acc = c.history(m_run, "bin/acc");
        QCOMPARE(acc.size(), std::size_t(100));
        QCOMPARE(acc.steps[3], std::int64_t(1015));
        QCOMPARE(acc.timestamps[3], 1700000015.25);
        QCOMPARE(acc.values[3], 0.015);
        // The JSON answer holds the same points.
        const auto json = c.get("/api/v1/runs/" + std::to_string(m_run) + "/metrics/history?key=bin%2Facc");
        QVERIFY(json["series"]["values"].get<std::vector<double>>() == acc.values);
        QVERIFY(json["series"]["steps"].get<std::vector<std::int64_t>>() == acc.steps);
        // The same batch id twice: stored once.
        const auto path = "/api/v1/runs/" + std::to_string(m_run) + "/metrics";
        Metrics::Columns once;
        once.add("bin/once", 0, 0, 1);
        const auto body = Metrics::encode(once, Metrics::BatchId{"test-client", 7});
        const std::string type(Metrics::kBinaryType);
        QCOMPARE(Json::parse(c.raw("POST", path, body, type).second)["duplicate"].get<bool>(), false);
        QCOMPARE(Json::parse(c.raw("POST", path, body, type).second)["duplicate"].get<bool>(), true);
        QCOMPARE(c.history(m_run, "bin/once").size(), std::size_t(1));
        // Other points under the same id are a client's mistake: refused (409) and saying so, not
        // acknowledged as a duplicate and dropped; the same count of other values too.
        Metrics::Columns other;
        other.add("bin/once", 1, 0, 2);
        const auto clash =
            c.raw("POST", path, Metrics::encode(other, Metrics::BatchId{"test-client", 7}), type);
        QCOMPARE(clash.first, 409);
        QVERIFY2(errorOf(clash).find("stored before with other points") != std::string::npos,
                 clash.second.c_str());
        Metrics::Columns more = once;
        more.add("bin/once", 2, 0, 3);
        QCOMPARE(c.raw("POST", path, Metrics::encode(more, Metrics::BatchId{"test-client", 7}), type).first,
                 409);
        QCOMPARE(c.history(m_run, "bin/once").size(), std::size_t(1));
        QCOMPARE(Json::parse(c.raw("POST", path, body, type).second)["duplicate"].get<bool>(), true);
    }

    void everyKeyAtOnceThenTheFeedWithoutGapOrRepeat() {
        // A chart opening a run reads every key in one binary batch, then follows the feed from its cursor:
        // what was logged before comes once, what is logged after comes once.
        auto& c = m_ws->client();
        Api::SubmitRequest request;
        request.experiment = "api";
        request.sourceDir =
            Test::sourceWith(m_src, QStringLiteral("all"), {QStringLiteral("fail.py")}).toStdString();
        request.script = "fail.py";
        request.systemInterval = 0; // (no sys/ samples of its own: the keys below are all it has)
        const auto run = c.submit(request)["id"].get<std::int64_t>();
        QTRY_VERIFY_WITH_TIMEOUT(c.run(run)["status"].get<std::string>() == "Failed", 30000);
        Metrics::Columns before;
        for (int i = 0; i < 1500; ++i) {
            before.add("all/a", i, 0, i);
            if (i % 2)
                before.add("all/b", i, 0, -i);
        }
        QVERIFY(c.logMetrics(run, before));
        std::int64_t cursor = 0;
        const auto all = c.allMetrics(run, cursor);
        QCOMPARE(all.keys, (std::vector<std::string>{"all/a", "all/b"}));
        QCOMPARE(all.size(), std::size_t(1500 + 750));
        QCOMPARE(std::count(all.key.begin(), all.key.end(), 1u), 750);
        QVERIFY(cursor > 0);
        Metrics::Columns after;
        after.add("all/b", 5000, 0, 1);
        after.add("all/c", 0, 0, 2);
        QVERIFY(c.logMetrics(run, after));
        Api::FeedCursor from;
        from.metricsAfter = cursor;
        const auto feed = c.feed(run, from, 0);
        QCOMPARE(feed["metrics"].size(), std::size_t(2));
        QVERIFY(feed["metrics"]["all/b"]["steps"] == Json::array({5000}));
        QVERIFY(feed["metrics"]["all/c"]["values"] == Json::array({2.0}));
        // Without the binary Accept, a key is still required.
        QCOMPARE(c.raw("GET", "/api/v1/runs/" + std::to_string(run) + "/metrics/history").first, 400);
    }

    void levelOfDetailIsTheChartsReduction() {
        // history?buckets=N (from, to) answers what the chart's own reduction picks from the whole series.
        auto& c = m_ws->client();
        Metrics::Columns batch;
        for (int i = 0; i < 20000; ++i)
            batch.add("lod/loss", i * 2, 0, std::sin(i * 0.01) + (i % 97 == 0 ? 3 : 0));
        QVERIFY(c.logMetrics(m_run, batch));
        const auto whole = c.history(m_run, "lod/loss");
        const std::vector<double> xs(whole.steps.begin(), whole.steps.end());
        for (const auto& [from, to, buckets] : std::vector<std::tuple<double, double, int>>{
                 {0, 39998, 640}, {1000.5, 2000.25, 100}, {-5, 10, 3}, {39000, 50000, 1920}}) {
            std::int64_t total = 0;
            const auto got = c.history(m_run, "lod/loss", from, to, buckets, &total);
            const auto expected = Metrics::reduceMinMax(xs, whole.values, from, to, buckets);
            QCOMPARE(total, std::int64_t(20000));
            QCOMPARE(got.size(), expected.size());
            for (std::size_t i = 0; i < expected.size(); ++i) {
                QCOMPARE(double(got.steps[i]), expected[i].x);
                QCOMPARE(got.values[i], expected[i].y);
            }
        }
        // JSON too, with the whole range by default.
        const auto path =
            "/api/v1/runs/" + std::to_string(m_run) + "/metrics/history?key=lod%2Floss&buckets=500";
        const auto json = c.get(path);
        QCOMPARE(json["total"].get<std::int64_t>(), std::int64_t(20000));
        QCOMPARE(json["series"]["values"].size(),
                 Metrics::reduceMinMax(xs, whole.values, 0, 39998, 500).size());
        // Every key at once (a chart's first picture of a run): each key's own level of detail over its
        // own steps, and the number of points of all keys.
        std::int64_t all = 0, counted = 0;
        const auto overview = c.overview(m_run, 300, &all);
        for (const auto& k : c.get("/api/v1/runs/" + std::to_string(m_run) + "/metrics"))
            counted += k["count"].get<std::int64_t>();
        QCOMPARE(all, counted);
        QVERIFY(overview.keys.size() > 1);
        for (std::uint32_t k = 0; k < overview.keys.size(); ++k) {
            const auto one = c.history(m_run, overview.keys[k], std::nullopt, std::nullopt, 300);
            std::vector<double> values;
            for (std::size_t i = 0; i < overview.size(); ++i)
                if (overview.key[i] == k)
                    values.push_back(overview.values[i]);
            QVERIFY2(values == one.values, overview.keys[k].c_str());
        }
        for (const char* bad : {"&buckets=0", "&buckets=abc", "&buckets=100&from=nan",
                                "&buckets=100&from=1e300", "&buckets=100&to=x"}) {
            const auto r = c.raw("GET", path.substr(0, path.find("&buckets")) + bad);
            QVERIFY2(r.first == 400, (std::string(bad) + " -> " + r.second).c_str());
        }
    }

    void malformedBinaryBatchesChangeNothing() {
        auto& c = m_ws->client();
        const auto path = "/api/v1/runs/" + std::to_string(m_run) + "/metrics";
        const std::string type(Metrics::kBinaryType);
        Metrics::Columns batch;
        batch.add("bin/bad", 1, 0, 1.0);
        batch.add("bin/bad2", 2, 0, 2.0);
        batch.add("bin/bad", 3, 0, 3.0);
        const auto good = Metrics::encode(batch);
        // Layout (no batch id): header 26 bytes, keys 9 + 10 bytes, padding to 48, key indexes 48..60,
        // padding to 64, steps 64..88, timestamps 88..112, values 112..136.
        QCOMPARE(good.size(), std::size_t(136));
        auto patched = [&](std::size_t at, std::string_view bytes) {
            auto b = good;
            b.replace(at, bytes.size(), bytes);
            return b;
        };
        auto u32 = [](std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
        auto f64 = [](double v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
        auto i64 = [](std::int64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"KLN", "ends inside the header"},
            {patched(0, "JSON"), "does not start with"},
            {patched(4, std::string("\x02\x00", 2)), "version 2"},
            {patched(6, std::string("\x01\x00", 2)), "flags"},
            {good.substr(0, good.size() - 1), "ends inside the values"},
            {good + std::string(8, '\0'), "8 bytes follow"},
            {patched(12, u32(0xffffffffu)), "at most 1000000 points"},
            {patched(12, u32(400000)), "ends inside the key index"},
            {patched(8, u32(0)), "names 0 keys"},
            {patched(52, u32(2)), "point 1 names key 2 of 2"},
            {patched(64 + 8, i64(-5)), "point 1 ('bin/bad2'): step out of range"},
            {patched(88, f64(-1)), "point 0 ('bin/bad'): timestamp out of range"},
            {patched(112 + 16, f64(std::numeric_limits<double>::quiet_NaN())),
             "point 2 ('bin/bad'): value is not finite"},
            {patched(28, "\xff"), "key 0 is not UTF-8"},
            {patched(28, "\x01"), "key 0 contains control characters"},
            {patched(26, std::string("\x00\x00", 2)), "key 0 must have 1 to 250 bytes"},
            {patched(24, std::string("\x03\x00", 2)), "client id without a sequence number"},
        };
        for (const auto& [body, expected] : cases) {
            const auto r = c.raw("POST", path, body, type);
            QVERIFY2(r.first == 400, (expected + " -> " + std::to_string(r.first) + " " + r.second).c_str());
            QVERIFY2(errorOf(r).find(expected) != std::string::npos,
                     (expected + " -> " + errorOf(r)).c_str());
        }
        // The good batch is taken: the refusals above were for what was wrong in each, and stored nothing.
        QCOMPARE(c.raw("POST", path, good, type).first, 200);
        QCOMPARE(c.history(m_run, "bin/bad").size(), std::size_t(2));
        QCOMPARE(c.history(m_run, "bin/bad2").size(), std::size_t(1));
        // History asks for a real key name.
        QCOMPARE(c.raw("GET", "/api/v1/runs/" + std::to_string(m_run) +
                                  "/metrics/history?key=" + std::string(300, 'k'))
                     .first,
                 400);
    }

    void endedRunTokensAreRefused() {
        // A real run token: it works while its run lives (the script sent a point with it), and is refused
        // once the run has ended.
        const auto src = Test::sourceWith(m_src, QStringLiteral("token"), {QStringLiteral("token.py")});
        Api::SubmitRequest request;
        request.experiment = "api";
        request.sourceDir = src.toStdString();
        request.script = "token.py";
        auto& c = m_ws->client();
        const auto id = c.submit(request)["id"].get<std::int64_t>();
        QTRY_COMPARE_WITH_TIMEOUT(c.run(id)["status"].get<std::string>(), std::string("Completed"), 30000);
        const auto path = "/api/v1/runs/" + std::to_string(id);
        QCOMPARE(c.get(path + "/metrics/history?key=alive")["series"]["values"].size(), std::size_t(1));
        const auto token = c.raw("GET", path + "/files/outputs/token.txt");
        QCOMPARE(token.first, 200);
        QVERIFY(token.second.starts_with("r" + std::to_string(id) + "-"));
        Api::Client ended(m_ws->url(), token.second);
        QCOMPARE(ended.raw("POST", path + "/metrics", R"({"points":[{"key":"late","value":1}]})").first, 401);
        QCOMPARE(ended.raw("GET", path).first, 401);
        QCOMPARE(c.get(path + "/metrics/history?key=late")["series"]["values"].size(), std::size_t(0));
    }

    void tokensNeverReachTheLog() {
        // kilnd logs the requests it refuses: send some with wrong, workspace-like and run tokens, check
        // the log holds those requests, and no token. (It logs at most 20 a second: the tests before sent
        // that many refusals, so this starts in a second of its own.)
        QTest::qWait(1100);
        Api::Client wrong(m_ws->url(), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        QCOMPARE(wrong.raw("GET", "/api/v1/runs/token-probe-1").first, 401);
        Api::Client runLike(m_ws->url(), "r1-fedcba9876543210fedcba9876543210");
        QCOMPARE(runLike.raw("POST", "/api/v1/runs/1/metrics", "{}").first, 401);
        QCOMPARE(m_ws->client().raw("GET", "/api/v1/token-probe-2").first, 404);
        QFile log(m_ws->path() + QStringLiteral("/kilnd.log"));
        QByteArray text;
        QTRY_VERIFY_WITH_TIMEOUT((log.open(QIODevice::ReadOnly), text = log.readAll(), log.close(),
                                  text.contains("token-probe-2")),
                                 5000);
        QVERIFY2(text.contains("401 GET /api/v1/runs/token-probe-1"), text.constData());
        QVERIFY(!text.contains(QByteArray::fromStdString(m_ws->token())));
        QVERIFY(!text.contains("0123456789abcdef0123456789abcdef"));
        QVERIFY(!text.contains("fedcba9876543210"));
        QVERIFY(!QRegularExpression(QStringLiteral("Bearer [^<]")).match(QString::fromUtf8(text)).hasMatch());
    }
};

QTEST_GUILESS_MAIN(TestServerApi)
#include "test_server_api.moc"
