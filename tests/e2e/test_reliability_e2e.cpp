// Losing nothing: kill -9 of kilnd while three runs train (one ends while it is away), kill -9 of a training
// process, and a run logging faster than the server's rate limit (429 + Retry-After, the client waits and
// sends again). All against a real kilnd and real Python training processes.
#include "api/Client.h"
#include "TestSupport.h"

#include <csignal>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>
#include <set>

using namespace Kiln;

class TestReliabilityE2e : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_scripts;

    static std::int64_t submit(Test::Workspace& ws, const QString& dir, const QString& script,
                               const QStringList& args) {
        auto r = ws.kiln(QStringList{QStringLiteral("run"), QStringLiteral("submit"),
                                     QStringLiteral("--experiment"), QStringLiteral("reliability"),
                                     QStringLiteral("--source"), dir, QStringLiteral("--script"), script,
                                     QStringLiteral("--json"), QStringLiteral("--")} +
                         args);
        if (r.exitCode != 0)
            qWarning() << r.err;
        return r.exitCode == 0 ? r.json()["id"].get<std::int64_t>() : 0;
    }
    static bool waitFor(Test::Workspace& ws, std::int64_t id, const std::string& status, int ms = 60000) {
        for (int waited = 0; waited < ms; waited += 50) {
            try {
                if (ws.client().run(id)["status"] == status)
                    return true;
            } catch (const Api::ClientError&) { // kilnd still starting
            }
            QTest::qWait(50);
        }
        return false;
    }
    // Every output line of the run, checked to hold "line 0" .. "line n-1" exactly once each, then "done n".
    static bool allLinesOnce(Test::Workspace& ws, std::int64_t id, int n) {
        auto logs = ws.kiln({QStringLiteral("run"), QStringLiteral("logs"), QString::number(id)});
        std::multiset<int> seen;
        for (const auto& line : logs.out.split(u'\n', Qt::SkipEmptyParts)) {
            auto m = QRegularExpression(QStringLiteral("^line (\\d+)$")).match(line);
            if (m.hasMatch())
                seen.insert(m.captured(1).toInt());
        }
        if (static_cast<int>(seen.size()) != n || !logs.out.contains(QStringLiteral("done %1").arg(n)))
            return false;
        for (int i = 0; i < n; ++i)
            if (seen.count(i) != 1)
                return false;
        return true;
    }

private Q_SLOTS:
    void initTestCase() {
        m_scripts = Test::sourceWith(m_tmp, QStringLiteral("scripts"),
                                     {QStringLiteral("steady.py"), QStringLiteral("flood.py")});
    }

    void killingKilndWhileThreeRunsTrainLosesNothing() {
        const QStringList args = {QStringLiteral("--max-concurrent"), QStringLiteral("4")};
        Test::Workspace ws(args);
        // A prints only and ends while kilnd is away; B and C log a point and a line every 10 ms for 5 s.
        const auto a =
            submit(ws, m_scripts, QStringLiteral("steady.py"),
                   {QStringLiteral("--seconds"), QStringLiteral("1.5"), QStringLiteral("--no-metrics")});
        const auto b = submit(ws, m_scripts, QStringLiteral("steady.py"),
                              {QStringLiteral("--seconds"), QStringLiteral("5")});
        const auto c = submit(ws, m_scripts, QStringLiteral("steady.py"),
                              {QStringLiteral("--seconds"), QStringLiteral("5")});
        for (auto id : {a, b, c})
            QVERIFY(waitFor(ws, id, "Running"));
        QTest::qWait(700);
        ws.killServer();    // kill -9
        QTest::qWait(2500); // A ends; B and C keep logging into their clients' buffers
        ws.startServer(args);
        for (auto id : {a, b, c})
            QVERIFY2(waitFor(ws, id, "Completed"), qPrintable(QString::number(id)));
        // Every line of every run, exactly once, across the crash.
        QVERIFY(allLinesOnce(ws, a, 150));
        QVERIFY(allLinesOnce(ws, b, 500));
        QVERIFY(allLinesOnce(ws, c, 500));
        // Every point: those acknowledged before the crash and those buffered while kilnd was down.
        for (auto id : {b, c}) {
            auto h = ws.client().get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=tick");
            const auto steps = h["series"]["steps"].get<std::vector<std::int64_t>>();
            QCOMPARE(steps.size(), std::size_t(500));
            QCOMPARE(std::set<std::int64_t>(steps.begin(), steps.end()).size(), std::size_t(500));
        }
        // The run that ended while kilnd was down kept its outputs.
        bool result = false;
        for (const auto& f : ws.client().get("/api/v1/runs/" + std::to_string(a) + "/files"))
            result |= f["path"] == "outputs/result.txt";
        QVERIFY(result);
    }

    void killingTheTrainingProcessFailsTheRunNamingTheSignal() {
        Test::Workspace ws;
        const auto id = submit(ws, m_scripts, QStringLiteral("steady.py"),
                               {QStringLiteral("--seconds"), QStringLiteral("30")});
        QVERIFY(waitFor(ws, id, "Running"));
        // The script's pid, as the run's supervisor recorded it.
        auto findChildFile = [&] {
            QDirIterator it(ws.path() + QStringLiteral("/runs/") + QString::number(id), {QStringLiteral("child.json")},
                            QDir::Files, QDirIterator::Subdirectories);
            return it.hasNext() ? it.next() : QString();
        };
        QTRY_VERIFY_WITH_TIMEOUT(!findChildFile().isEmpty(), 10000);
        const QString childFile = findChildFile();
        QFile f(childFile);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto pid = Json::parse(f.readAll().toStdString())["pid"].get<int>();
        QTest::qWait(300); // some output first
        QCOMPARE(::kill(pid, SIGKILL), 0);
        QVERIFY(waitFor(ws, id, "Failed", 30000));
        auto run = ws.client().run(id);
        QCOMPARE(run["signal"].get<int>(), SIGKILL);
        const auto error = QString::fromStdString(run["error"].get<std::string>());
        QVERIFY2(error.contains(QStringLiteral("SIGKILL")), qPrintable(error));
        QVERIFY2(error.contains(QRegularExpression(QStringLiteral("line \\d+"))),
                 qPrintable(error)); // its last lines
    }

    void aRunOverTheRateLimitIsSlowedNotTruncated() {
        Test::Workspace ws({QStringLiteral("--max-points-per-second"), QStringLiteral("4000")});
        const auto id = submit(ws, m_scripts, QStringLiteral("flood.py"),
                               {QStringLiteral("--points"), QStringLiteral("12000")});
        QVERIFY(waitFor(ws, id, "Completed", 120000));
        auto run = ws.client().run(id);
        QVERIFY2(run["rate_limited"].get<int>() > 0, run.dump().c_str()); // kilnd did answer 429...
        auto h = ws.client().get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=x");
        const auto values = h["series"]["values"].get<std::vector<double>>();
        QCOMPARE(values.size(), std::size_t(12000)); // ...and every point arrived, once, in order
        for (std::size_t i = 0; i < values.size(); ++i)
            QCOMPARE(values[i], double(i));
    }
};

QTEST_GUILESS_MAIN(TestReliabilityE2e)
#include "test_reliability_e2e.moc"
