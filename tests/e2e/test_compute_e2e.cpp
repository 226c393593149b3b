// Local compute targets through the real CLI and kilnd: a pool of two nodes runs five submitted runs at
// most two at a time, starting them in submission order, and shows its nodes and queue.
#include "api/Client.h"
#include "TestSupport.h"

#include <algorithm>
#include <QFile>
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
};

QTEST_GUILESS_MAIN(TestComputeE2e)
#include "test_compute_e2e.moc"
