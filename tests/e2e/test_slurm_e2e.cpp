// Slurm compute through the real CLI, kilnd and a real Slurm cluster (../shared/slurm/start_slurm.sh,
// started by cmake/bootstrap.sh test): provisioning and its clean failures, the sample trained as a
// batch job, a failing script, cancel, and eight runs spread over both nodes.
#include "api/Client.h"
#include "TestSupport.h"

#include <map>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <set>

using namespace Kiln;

class TestSlurmE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QString m_url, m_token;

    Test::CliResult kiln(const QStringList& args) { return m_ws->kiln(args); }
    int submit(const QString& script, const QStringList& args,
               const QString& source = QStringLiteral(KILN_TEST_DATA "/scripts")) {
        auto r =
            kiln(QStringList{QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("slurm"), QStringLiteral("--source"), source,
                             QStringLiteral("--script"), script, QStringLiteral("--compute"),
                             QStringLiteral("cluster"), QStringLiteral("--json"), QStringLiteral("--")} +
                 args);
        return r.exitCode == 0 ? r.json()["id"].get<int>() : 0;
    }
    QStringList create(const QString& name, const QString& token, const QString& partition) {
        return {QStringLiteral("compute"),       QStringLiteral("create"),
                QStringLiteral("--name"),        name,
                QStringLiteral("--type"),        QStringLiteral("slurm"),
                QStringLiteral("--slurm-url"),   m_url,
                QStringLiteral("--slurm-token"), token,
                QStringLiteral("--partition"),   partition,
                QStringLiteral("--max-nodes"),   QStringLiteral("8")};
    }

private Q_SLOTS:
    void initTestCase() {
        m_url = qEnvironmentVariable("SLURM_CI_REST_URL");
        m_token = qEnvironmentVariable("SLURM_CI_REST_TOKEN");
        if (m_url.isEmpty()) {
            if (qEnvironmentVariable("CI") == QLatin1String("true"))
                QFAIL("no Slurm cluster: cmake/bootstrap.sh test starts one with "
                      "../shared/slurm/start_slurm.sh");
            QSKIP("no Slurm cluster here (SLURM_CI_REST_URL unset); cmake/bootstrap.sh test starts one");
        }
        m_ws = std::make_unique<Test::Workspace>();
    }
    void cleanupTestCase() { m_ws.reset(); }

    void provisioningFailsCleanly() {
        auto badToken =
            kiln(create(QStringLiteral("bad"), QStringLiteral("not-a-token"), QStringLiteral("debug")));
        QCOMPARE(badToken.exitCode, 2);
        QVERIFY2(badToken.err.contains(QStringLiteral("refused the user or token")),
                 qPrintable(badToken.err));
        auto badPartition = kiln(create(QStringLiteral("bad"), m_token, QStringLiteral("no-such-partition")));
        QCOMPARE(badPartition.exitCode, 2);
        QVERIFY2(badPartition.err.contains(QStringLiteral("no partition 'no-such-partition'")),
                 qPrintable(badPartition.err));
        auto list =
            kiln({QStringLiteral("compute"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        QCOMPARE(list.size(), std::size_t(1)); // only "local": nothing half-created
        QVERIFY(!QFile::exists(m_ws->path() + QStringLiteral("/secrets/bad.slurm-token")));
    }

    void provisionsAndShowsNodes() {
        auto ok = kiln(create(QStringLiteral("cluster"), m_token, QStringLiteral("debug")) +
                       QStringList{QStringLiteral("--json")});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        QCOMPARE(ok.json()["state"].get<std::string>(), std::string("Succeeded"));
        QVERIFY(!ok.out.contains(m_token)); // the token is never printed...
        auto show = kiln({QStringLiteral("compute"), QStringLiteral("show"), QStringLiteral("cluster"),
                          QStringLiteral("--json")});
        QVERIFY(!show.out.contains(m_token));
        QCOMPARE(show.json()["nodes"].size(), std::size_t(2));
        QCOMPARE(show.json()["nodes"][0]["cpus"].get<int>(), 4);
        QFileInfo secret(m_ws->path() + QStringLiteral("/secrets/cluster.slurm-token")); // ...and stored 0600
        QVERIFY(secret.exists());
        QCOMPARE(secret.permissions() &
                     (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());
    }

    void sampleTrainsAsABatchJob() {
        const int id = submit(QStringLiteral("train.py"),
                              {QStringLiteral("--limit"), QStringLiteral("1000"), QStringLiteral("--epochs"),
                               QStringLiteral("1")},
                              QStringLiteral(KILN_SAMPLE_DIR));
        QVERIFY(id > 0);
        auto wait = kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id),
                          QStringLiteral("--show-output")});
        QVERIFY2(wait.exitCode == 0, qPrintable(wait.out + wait.err));
        QVERIFY(wait.out.contains(QStringLiteral("Epoch 1/1")));
        auto run = m_ws->client().run(id);
        QVERIFY(!run["external_id"].get<std::string>().empty()); // the Slurm job id
        QVERIFY2(run["node"] == "c1" || run["node"] == "c2", run["node"].dump().c_str());
        auto metrics = m_ws->client().get("/api/v1/runs/" + std::to_string(id) + "/metrics");
        QVERIFY(metrics.size() >= 5);
        // Its system metrics were sampled on the node, by the supervisor the batch script ran it under.
        QVERIFY2(wait.out.contains(QStringLiteral("kiln: system metrics every 1 s on ")),
                 qPrintable(wait.out));
        std::map<std::string, Json> byKey;
        for (const auto& m : metrics)
            byKey[m["key"].get<std::string>()] = m;
        QVERIFY2(byKey.count("sys/cpu") && byKey.count("sys/rss_mb") && byKey.count("sys/peak_rss_mb"),
                 metrics.dump().c_str());
        QVERIFY(byKey["sys/cpu"]["count"].get<int>() >= 1);
        QVERIFY2(byKey["sys/peak_rss_mb"]["max"].get<double>() > 20, byKey["sys/peak_rss_mb"].dump().c_str());
        QVERIFY(byKey["sys/cpu"]["max"].get<double>() > 0.1);
        qInfo("slurm submit -> Running: %.0f ms",
              (run["started"].get<double>() - run["created"].get<double>()) * 1000);
    }

    void failingScriptEndsFailedWithItsStatus() {
        const int id = submit(QStringLiteral("fail.py"), {});
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 1);
        auto run = m_ws->client().run(id);
        QCOMPARE(run["status"].get<std::string>(), std::string("Failed"));
        QCOMPARE(run["exit_code"].get<int>(), 3);
        QVERIFY(QString::fromStdString(run["error"].get<std::string>())
                    .contains(QStringLiteral("the answer is not 42")));
    }

    void cancelStopsARunningJob() {
        const int id = submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("60")});
        for (int i = 0;
             i < 600 && m_ws->client().get("/api/v1/runs/" + std::to_string(id) + "/logs")["lines"].empty();
             ++i)
            QTest::qWait(50);
        QTRY_COMPARE_WITH_TIMEOUT(m_ws->client().run(id)["status"].get<std::string>(), std::string("Running"),
                                  10000);
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("cancel"), QString::number(id)}).exitCode, 0);
        QTRY_COMPARE_WITH_TIMEOUT(m_ws->client().run(id)["status"].get<std::string>(),
                                  std::string("Canceled"), 30000);
    }

    void eightRunsSpreadOverBothNodes() {
        // Held until all eight run at once (2 nodes x 4 CPUs), however slow the submits are.
        QTemporaryDir gate;
        const QString release = gate.path() + QStringLiteral("/release");
        QList<int> ids;
        for (int i = 0; i < 8; ++i)
            ids << submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("0.5"),
                                                      QStringLiteral("--until"), release});
        for (int id : ids)
            QTRY_COMPARE_WITH_TIMEOUT(m_ws->client().run(id)["status"].get<std::string>(),
                                      std::string("Running"), 60000);
        QFile(release).open(QIODevice::WriteOnly);
        std::set<std::string> nodes;
        for (int id : ids) {
            QVERIFY(id > 0);
            QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
            nodes.insert(m_ws->client().run(id)["node"].get<std::string>());
        }
        QVERIFY2(nodes.count("c1") && nodes.count("c2"), "the runs should use both nodes");
    }
};

QTEST_GUILESS_MAIN(TestSlurmE2e)
#include "test_slurm_e2e.moc"
