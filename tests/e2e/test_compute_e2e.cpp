// Local compute targets through the real CLI and kilnd: a pool of two nodes runs five submitted runs at
// most two at a time, starting them in submission order, and shows its nodes and queue.
#include "api/Client.h"
#include "TestSupport.h"

#include <algorithm>
#include <chrono>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <set>

using namespace Kiln;

class TestComputeE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;

    Test::CliResult kiln(const QStringList& args) { return m_ws->kiln(args); }

private Q_SLOTS:
    void initTestCase() { m_ws = std::make_unique<Test::Workspace>(); }
    void cleanupTestCase() { m_ws.reset(); }

    void theWorkspaceHasALocalTarget() {
        auto list =
            kiln({QStringLiteral("compute"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        QCOMPARE(list.size(), std::size_t(1));
        QCOMPARE(list[0]["name"].get<std::string>(), std::string("local"));
        QCOMPARE(list[0]["type"].get<std::string>(), std::string("local"));
        QCOMPARE(list[0]["state"].get<std::string>(), std::string("Succeeded"));
    }

    void twoNodesRunFiveRunsTwoAtATimeInOrder() {
        auto create = kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                            QStringLiteral("pool"), QStringLiteral("--max-nodes"), QStringLiteral("2"),
                            QStringLiteral("--json")});
        QVERIFY2(create.exitCode == 0, qPrintable(create.err));
        QCOMPARE(create.json()["config"]["max_nodes"].get<int>(), 2);
        // The runs go on until the test releases them, so what it sees does not depend on the machine's
        // speed.
        QTemporaryDir gate;
        const QString release = gate.path() + QStringLiteral("/release");
        QList<int> ids;
        for (int i = 0; i < 5; ++i) {
            auto sub = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("pool"), QStringLiteral("--source"),
                             QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("--script"),
                             QStringLiteral("slow.py"), QStringLiteral("--compute"), QStringLiteral("pool"),
                             QStringLiteral("--json"), QStringLiteral("--"), QStringLiteral("--seconds"),
                             QStringLiteral("0.5"), QStringLiteral("--until"), release});
            QCOMPARE(sub.exitCode, 0);
            ids << sub.json()["id"].get<int>();
        }
        // While the first two run, the target shows both nodes allocated to them and the other three queued
        // in submission order.
        Json show;
        QTRY_VERIFY_WITH_TIMEOUT((show = kiln({QStringLiteral("compute"), QStringLiteral("show"),
                                               QStringLiteral("pool"), QStringLiteral("--json")})
                                             .json(),
                                  show["running"].size() == 2),
                                 20000);
        QCOMPARE(show["nodes"].size(), std::size_t(2));
        for (const auto& node : show["nodes"])
            QCOMPARE(node["state"].get<std::string>(), std::string("alloc"));
        std::set<int> running;
        for (const auto& r : show["running"])
            running.insert(r["id"].get<int>());
        QCOMPARE(running, (std::set<int>{ids[0], ids[1]}));
        QCOMPARE(show["queue"].size(), std::size_t(3));
        for (std::size_t i = 0; i < 3; ++i)
            QCOMPARE(show["queue"][i]["id"].get<int>(), ids[static_cast<int>(i) + 2]);
        QFile(release).open(QIODevice::WriteOnly);

        std::vector<std::pair<double, double>> spans;
        std::vector<std::string> nodes;
        for (int id : ids) {
            QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
            auto run = m_ws->client().run(id);
            QCOMPARE(run["compute"].get<std::string>(), std::string("pool"));
            // A run holds its node from dispatch (Preparing) to its end.
            spans.emplace_back(run["dispatched"].get<double>(), run["ended"].get<double>());
            nodes.push_back(run["node"].get<std::string>());
        }
        // Dispatched in submission order...
        for (std::size_t i = 1; i < spans.size(); ++i)
            QVERIFY2(spans[i - 1].first <= spans[i].first, "runs must start in submission order");
        // ...and never more than two at once.
        for (const auto& [start, end] : spans) {
            int overlapping = 0;
            for (const auto& [s2, e2] : spans)
                overlapping += s2 <= start && start < e2;
            QVERIFY2(overlapping <= 2, qPrintable(QStringLiteral("%1 runs at once").arg(overlapping)));
        }
        for (const auto& n : nodes)
            QVERIFY2(n == "pool-0" || n == "pool-1", n.c_str());
        auto after = kiln({QStringLiteral("compute"), QStringLiteral("show"), QStringLiteral("pool"),
                           QStringLiteral("--json")})
                         .json();
        for (const auto& node : after["nodes"]) {
            QCOMPARE(node["state"].get<std::string>(), std::string("idle"));
            QVERIFY(node["run"].is_null());
        }
        QVERIFY(after["queue"].empty());
    }

    void badTargetsAreRefused() {
        for (const auto& args : {QStringList{QStringLiteral("--name"), QStringLiteral("a/b")},
                                 QStringList{QStringLiteral("--name"), QStringLiteral("pool")},
                                 QStringList{QStringLiteral("--name"), QStringLiteral("x"),
                                             QStringLiteral("--max-nodes"), QStringLiteral("0")},
                                 QStringList{QStringLiteral("--name"), QStringLiteral("x"),
                                             QStringLiteral("--type"), QStringLiteral("k8s")}}) {
            auto r = kiln(QStringList{QStringLiteral("compute"), QStringLiteral("create")} + args);
            QCOMPARE(r.exitCode, 2);
            QVERIFY(!r.err.isEmpty());
        }
        // Settings a target's type does not have are named, not ignored: a local pool has nothing to keep
        // warm, and a Slurm target's CPUs are the cluster's.
        auto warm = m_ws->client().raw("POST", "/api/v1/compute",
                                       Json{{"name", "warm"}, {"type", "local"}, {"min_nodes", 1}}.dump());
        QCOMPARE(warm.first, 400);
        QVERIFY2(warm.second.find("no setting 'min_nodes'") != std::string::npos, warm.second.c_str());
        auto slurmCpus = m_ws->client().raw("POST", "/api/v1/compute",
                                            Json{{"name", "sl"},
                                                 {"type", "slurm"},
                                                 {"slurm_url", "http://127.0.0.1:1"},
                                                 {"slurm_token", "t"},
                                                 {"partition", "p"},
                                                 {"cpus", 2}}
                                                .dump());
        QCOMPARE(slurmCpus.first, 400);
        QVERIFY2(slurmCpus.second.find("no setting 'cpus'") != std::string::npos, slurmCpus.second.c_str());
        auto extra = kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                           QStringLiteral("warm"), QStringLiteral("--min-nodes"), QStringLiteral("1")});
        QCOMPARE(extra.exitCode, 2);
        QVERIFY2(extra.err.contains(QStringLiteral("--min-nodes")), qPrintable(extra.err));
        auto names =
            kiln({QStringLiteral("compute"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        for (const auto& t : names)
            QVERIFY2(t["name"] != "warm" && t["name"] != "sl", t.dump().c_str());
        auto r = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                       QStringLiteral("x"), QStringLiteral("--source"),
                       QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("--script"),
                       QStringLiteral("slow.py"), QStringLiteral("--compute"), QStringLiteral("nowhere")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("unknown compute target: nowhere")));
    }

    void aSlurmrestdThatStopsAnsweringHoldsNoRequest() {
        // A Slurm target whose slurmrestd (a stand-in: tests/data/stuck_slurmrestd.py) stops answering for
        // 30 s: its nodes are served from what kilnd last read, with the reason, and no request waits on it.
        QTemporaryDir dir;
        const auto portFile = dir.filePath(QStringLiteral("port")),
                   stuck = dir.filePath(QStringLiteral("stuck"));
        QProcess standIn;
        standIn.start(QStringLiteral("python3"),
                      {QStringLiteral(KILN_TEST_DATA "/stuck_slurmrestd.py"), portFile, stuck});
        auto end = qScopeGuard([&] {
            standIn.kill();
            standIn.waitForFinished();
        });
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(portFile), Test::scaledMs(10000));
        QFile pf(portFile);
        QVERIFY(pf.open(QIODevice::ReadOnly));
        const auto url = "http://127.0.0.1:" + pf.readAll().toStdString();
        auto& c = m_ws->client();
        const auto job = c.post("/api/v1/compute", Json{{"name", "stuck"},
                                                        {"type", "slurm"},
                                                        {"slurm_url", url},
                                                        {"slurm_token", "t"},
                                                        {"partition", "debug"}});
        const auto done = c.waitJob(job["job"].get<std::int64_t>());
        QVERIFY2(done["state"] == "Succeeded", done.dump().c_str()); // (the provisioned target)
        // Answering: its nodes come (read by kilnd's own thread; the first ask starts it).
        QTRY_VERIFY_WITH_TIMEOUT(c.get("/api/v1/compute/stuck")["nodes"].size() == 1, Test::scaledMs(20000));
        QCOMPARE(c.get("/api/v1/compute/stuck")["nodes"][0]["name"].get<std::string>(), std::string("n1"));

        // Stuck: for as long as kilnd's own read waits (15 s, then an error), every request answers.
        QVERIFY(QFile(stuck).open(QIODevice::WriteOnly));
        using Clock = std::chrono::steady_clock;
        const auto started = Clock::now();
        double slowest = 0;
        Json last;
        while (Clock::now() - started < std::chrono::seconds(45) && !last["nodes_error"].is_string()) {
            for (const char* path :
                 {"/api/v1/compute/stuck", "/api/v1/compute", "/api/v1/runs?limit=5", "/api/v1/health"}) {
                const auto t0 = Clock::now();
                auto answer = c.get(path);
                slowest = std::max(slowest, std::chrono::duration<double>(Clock::now() - t0).count());
                if (std::string_view(path) == "/api/v1/compute/stuck")
                    last = answer;
            }
            QTest::qWait(200);
        }
        qInfo("slurmrestd stuck %.0f s until kilnd's read gave up: the slowest request took %.0f ms",
              std::chrono::duration<double>(Clock::now() - started).count(), slowest * 1000);
        // (30 s is what a request would have waited: any bound well under it tells the two apart)
        QVERIFY2(slowest < 5, qPrintable(QString::number(slowest)));
        QCOMPARE(last["nodes"].size(), std::size_t(1)); // what was last read, kept
        QVERIFY2(last["nodes_error"].is_string(), last.dump().c_str());
    }
};

QTEST_GUILESS_MAIN(TestComputeE2e)
#include "test_compute_e2e.moc"
