// Sweeps end to end: sweep files through the real CLI, kilnd's controller, real trial processes (the
// objective script in tests/data/sweep logs `score`, climbing towards a known optimum), on local compute and
// on the real Slurm test cluster; cancel, kill -9 and bad input.
#include "api/Client.h"
#include "TestSupport.h"

#include <cmath>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <set>

using namespace Kiln;

class TestSweepsE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    int m_files = 0;

    Test::CliResult kiln(const QStringList& args, int timeoutMs = 300000) {
        return m_ws->kiln(args, timeoutMs);
    }
    // A sweep file of the objective script with `settings` (YAML lines) after the common ones.
    QString sweepFile(const QString& settings) {
        const QString path = m_tmp.filePath(QStringLiteral("sweep%1.yml").arg(++m_files));
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(QStringLiteral("experiment: objective\n"
                               "source: " KILN_TEST_DATA "/sweep\n"
                               "script: objective.py\n"
                               "primary_metric: {name: score, goal: maximize}\n"
                               "parameters:\n"
                               "  --x: uniform(-2, 2)\n"
                               "  --y: choice(-1, 0, 1)\n")
                    .toUtf8() +
                settings.toUtf8());
        return path;
    }
    std::int64_t submit(const QString& file) {
        auto r = kiln({QStringLiteral("sweep"), QStringLiteral("submit"), QStringLiteral("--config"), file,
                       QStringLiteral("--json")});
        if (r.exitCode != 0)
            qWarning("%s", qPrintable(r.err));
        return r.exitCode == 0 ? r.json()["id"].get<std::int64_t>() : 0;
    }
    Json show(std::int64_t id) { return m_ws->client().get("/api/v1/sweeps/" + std::to_string(id)); }
    int wait(std::int64_t id) {
        return kiln({QStringLiteral("sweep"), QStringLiteral("wait"), QString::number(id)}).exitCode;
    }
    static double objective(const Json& params, int epochs) {
        const double x = params["x"].get<double>(), y = params["y"].get<double>();
        return -(x - 0.3) * (x - 0.3) - (y + 1) * (y + 1) - 1.0 / epochs;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_ws = std::make_unique<Test::Workspace>(
            QStringList{QStringLiteral("--max-concurrent"), QStringLiteral("4")});
    }
    void cleanupTestCase() { m_ws.reset(); }

    void randomSweepRunsTwelveTrialsThreeAtATime() {
        const auto id =
            submit(sweepFile(QStringLiteral("arguments: [--epochs, 6]\nsampling: random\nseed: 7\n"
                                            "max_total_trials: 12\nmax_concurrent_trials: 3\n")));
        QVERIFY(id > 0);
        QCOMPARE(wait(id), 0);
        auto s = show(id);
        QCOMPARE(s["status"].get<std::string>(), std::string("Completed"));
        QCOMPARE(s["trials"].size(), std::size_t(12));
        QCOMPARE(s["counts"]["completed"].get<int>(), 12);
        std::set<std::string> distinct;
        std::vector<std::pair<double, double>> spans;
        double best = -1e300;
        for (const auto& t : s["trials"]) {
            const auto& p = t["params"];
            QVERIFY2(p["x"].get<double>() >= -2 && p["x"].get<double>() <= 2, p.dump().c_str());
            QVERIFY2(p["y"] == -1 || p["y"] == 0 || p["y"] == 1, p.dump().c_str());
            QVERIFY(distinct.insert(p.dump()).second);
            // The values reached the script as arguments: its score is the objective at exactly these values.
            QVERIFY2(std::abs(t["metric"].get<double>() - objective(p, 6)) < 1e-9, t.dump().c_str());
            auto run = m_ws->client().run(t["run"].get<std::int64_t>());
            QCOMPARE(run["sweep"].get<std::int64_t>(), id);
            QCOMPARE(run["status"].get<std::string>(), std::string("Completed"));
            spans.emplace_back(run["dispatched"].get<double>(), run["ended"].get<double>());
            best = std::max(best, t["metric"].get<double>());
        }
        QCOMPARE(s["best"]["metric"].get<double>(), best);
        for (const auto& [start, end] : spans) {
            int overlapping = 0;
            for (const auto& [s2, e2] : spans)
                overlapping += s2 <= start && start < e2;
            QVERIFY2(overlapping <= 3, qPrintable(QStringLiteral("%1 trials at once").arg(overlapping)));
        }
        // The CLI's views.
        auto list = kiln({QStringLiteral("sweep"), QStringLiteral("list")});
        QVERIFY2(list.out.contains(QStringLiteral("12/12")), qPrintable(list.out));
        auto text = kiln({QStringLiteral("sweep"), QStringLiteral("show"), QString::number(id)});
        QVERIFY2(text.out.contains(QStringLiteral("12/12 trials done: 12 completed")), qPrintable(text.out));
        // Each trial shows the values swept; the run's other params (a script's other arguments, here one
        // logged by hand) only with --all.
        m_ws->client().post("/api/v1/runs/" + std::to_string(s["trials"][0]["run"].get<std::int64_t>()) +
                                "/params",
                            {{"params", {{"data_folder", "/elsewhere"}}}});
        text = kiln({QStringLiteral("sweep"), QStringLiteral("show"), QString::number(id)});
        QVERIFY2(text.out.count(QStringLiteral("x=")) == 13 && text.out.count(QStringLiteral(" y=")) == 13 &&
                     !text.out.contains(QStringLiteral("data_folder")),
                 qPrintable(text.out)); // 12 trials and the best
        auto all = kiln(
            {QStringLiteral("sweep"), QStringLiteral("show"), QString::number(id), QStringLiteral("--all")});
        QVERIFY2(all.out.count(QStringLiteral("data_folder=/elsewhere")) == 1, qPrintable(all.out));
    }

    void trialsThatNeverLogTheMetricSaySo() {
        // The primary metric is one the script never logs (it logs `score`).
        const QString path = m_tmp.filePath(QStringLiteral("silent.yml"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("experiment: silent\nsource: " KILN_TEST_DATA "/sweep\nscript: objective.py\n"
                "arguments: [--epochs, 2, --pause, 0.01]\nprimary_metric: {name: accuracy, goal: maximize}\n"
                "parameters:\n  --x: choice(0.1, 0.2)\nsampling: grid\nmax_total_trials: 2\n"
                "max_concurrent_trials: 2\n");
        f.close();
        const auto id = submit(path);
        QVERIFY(id > 0);
        QCOMPARE(wait(id), 0);
        const auto s = show(id);
        QCOMPARE(s["counts"]["completed"].get<int>(), 2); // they ran, and logged score
        for (const auto& t : s["trials"])
            QVERIFY(!m_ws->client()
                         .get("/api/v1/runs/" + std::to_string(t["run"].get<std::int64_t>()) + "/metrics")
                         .empty());
        auto text = kiln({QStringLiteral("sweep"), QStringLiteral("show"), QString::number(id)});
        QVERIFY2(text.out.count(QStringLiteral("never logged accuracy")) == 2 &&
                     text.out.contains(QStringLiteral("2 trials ended without logging accuracy")),
                 qPrintable(text.out));
    }

    void banditStopsHopelessTrialsWithAReason() {
        // Slow epochs (0.4 s) so the policy acts while trials still run.
        const auto id = submit(sweepFile(
            QStringLiteral("arguments: [--epochs, 6, --pause, 0.4]\nseed: 11\nmax_total_trials: "
                           "8\nmax_concurrent_trials: 4\n"
                           "early_termination: {policy: bandit, slack_amount: 0.5, delay_evaluation: 2}\n")));
        QVERIFY(id > 0);
        QCOMPARE(wait(id), 0);
        auto s = show(id);
        QCOMPARE(s["trials"].size(), std::size_t(8));
        int stopped = 0;
        for (const auto& t : s["trials"]) {
            if (t["status"] != "Canceled")
                continue;
            ++stopped;
            const auto reason = t["stop_reason"].get<std::string>();
            QVERIFY2(reason.rfind("bandit: ", 0) == 0 && reason.find("below the best") != std::string::npos,
                     reason.c_str());
            QVERIFY2(t["reports"].get<int>() < 6, t.dump().c_str()); // it did not train to the end
            QVERIFY2(t["metric"].get<double>() < s["best"]["metric"].get<double>() - 0.5, t.dump().c_str());
        }
        QVERIFY2(stopped >= 1, s.dump().c_str());
        QCOMPARE(s["counts"]["stopped_early"].get<int>(), stopped);
        QCOMPARE(s["status"].get<std::string>(), std::string("Completed"));
    }

    void policiesJudgeEveryLiveTrialAgainstLaterBests() {
        // Four trials side by side whose score is their q at every interval, the worse ones started first (by
        // up to 1.2 s of a 2.4 s run): they reach each interval before the better ones. HyperDrive judges
        // every live trial at each interval against the values all trials have there, whenever they were
        // reported; so the verdicts are the arithmetic's alone, the same in every sweep.
        struct Case {
            const char* policy;
            const char* q;                 // the values of q (each with r = 1 and 2 when `twice`)
            bool twice;                    // two trials of each q
            std::multiset<double> stopped; // the q of the trials stopped early
        };
        const std::vector<Case> cases = {
            // bandit, slack 0.1: stop where q < 1.0 / 1.1 = 0.909.
            {"{policy: bandit, slack_factor: 0.1}", "1.0, 0.95, 0.85, 0.7", false, {0.85, 0.7}},
            // truncation 25 %: floor(4 * 0.25) = 1 trial, the lowest (then floor(3 * 0.25) = 0).
            {"{policy: truncation_selection, truncation_percentage: 25}",
             "1.0, 0.95, 0.85, 0.7",
             false,
             {0.7}},
            // median of the four running averages: (0.8 + 1.0) / 2 = 0.9 (of the two left, 1.0: no more).
            {"{policy: median_stopping}", "1.0, 0.8", true, {0.8, 0.8}},
        };
        for (const auto& c : cases) {
            const QString path = m_tmp.filePath(QStringLiteral("fixed%1.yml").arg(++m_files));
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QStringLiteral(
                        "experiment: fixed-curves\nsource: " KILN_TEST_DATA "/sweep\n"
                        "script: fixed_curve.py\narguments: [--epochs, 8, --pause, 0.3, --stagger, 4]\n"
                        "sampling: grid\nparameters:\n  --q: choice(%2)\n%3"
                        "primary_metric: {name: score, goal: maximize}\n"
                        "max_total_trials: 4\nmax_concurrent_trials: 4\nearly_termination: %1\n")
                        .arg(QLatin1String(c.policy), QLatin1String(c.q),
                             c.twice ? QStringLiteral("  --r: choice(1, 2)\n") : QString())
                        .toUtf8());
            f.close();
            const auto id = submit(path);
            QVERIFY(id > 0);
            QCOMPARE(wait(id), 0);
            const auto s = show(id);
            std::multiset<double> stopped;
            for (const auto& t : s["trials"]) {
                const double q = t["params"]["q"].get<double>();
                if (t["status"] == "Canceled") {
                    stopped.insert(q);
                    QVERIFY2(t["reports"].get<int>() < 8, t.dump().c_str()); // stopped before its end
                } else {
                    QVERIFY2(t["status"] == "Completed", t.dump().c_str());
                }
            }
            QVERIFY2(stopped == c.stopped, (std::string(c.policy) + ": " + s.dump()).c_str());
        }
    }

    void cancelEndsTheSweepAndItsTrials() {
        const QString hold = m_tmp.filePath(QStringLiteral("never"));
        // Submitted as a script would: the id alone on stdout (ID=$(kiln sweep submit ...)), the rest said.
        const auto plain =
            kiln({QStringLiteral("sweep"), QStringLiteral("submit"), QStringLiteral("--config"),
                  sweepFile(QStringLiteral("arguments: [--until, %1]\nmax_total_trials: 6\n"
                                           "max_concurrent_trials: 2\n")
                                .arg(hold))});
        QVERIFY2(plain.exitCode == 0, qPrintable(plain.err));
        bool number = false;
        const std::int64_t id = plain.out.trimmed().toLongLong(&number);
        QVERIFY2(number && id > 0, qPrintable(plain.out));
        QVERIFY2(plain.err.contains(QStringLiteral("sweep %1 submitted: up to 6 trials").arg(id)),
                 qPrintable(plain.err));
        QTRY_VERIFY_WITH_TIMEOUT(show(id)["counts"]["running"].get<int>() == 2, 30000);
        auto c = kiln({QStringLiteral("sweep"), QStringLiteral("cancel"), QString::number(id)});
        QCOMPARE(c.exitCode, 0);
        QCOMPARE(wait(id), 1);
        Json s;
        QTRY_VERIFY_WITH_TIMEOUT((s = show(id), s["counts"]["canceled"].get<int>() == 2), 30000);
        QCOMPARE(s["status"].get<std::string>(), std::string("Canceled"));
        QCOMPARE(s["cancel_by"].get<std::string>(), std::string("the user"));
        for (const auto& t : s["trials"])
            QCOMPARE(t["stop_reason"].get<std::string>(), std::string("the user"));
        // Both trials' ends were seen (above); no trial started in the room they left. The controller takes
        // a sweep's steps one after another, and each tells the sweep's change feed: a step asked for now (a
        // second cancel) answers after any step that could still have started a trial.
        const auto feed = "/api/v1/sweeps/" + std::to_string(id) + "/changes";
        const auto before = m_ws->client().get(feed + "?timeout_ms=0")["version"].get<std::int64_t>();
        QCOMPARE(kiln({QStringLiteral("sweep"), QStringLiteral("cancel"), QString::number(id)}).exitCode, 0);
        const auto after =
            m_ws->client()
                .get(feed + "?version=" + std::to_string(before) + "&timeout_ms=30000")["version"]
                .get<std::int64_t>();
        QVERIFY2(after > before, "the controller did not look at the canceled sweep again");
        QCOMPARE(show(id)["trials"].size(), std::size_t(2));
    }

    void aSweepSurvivesKill9() {
        const auto id = submit(sweepFile(QStringLiteral("arguments: [--epochs, 4, --pause, 0.3]\nseed: 3\n"
                                                        "max_total_trials: 6\nmax_concurrent_trials: 2\n")));
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(show(id)["counts"]["running"].get<int>() >= 1, 30000);
        m_ws->killServer();
        QTest::qWait(500);
        m_ws->startServer({QStringLiteral("--max-concurrent"), QStringLiteral("4")});
        QCOMPARE(wait(id), 0);
        auto s = show(id);
        QCOMPARE(s["trials"].size(), std::size_t(6)); // exactly the limit: nothing lost, nothing doubled
        QCOMPARE(s["counts"]["completed"].get<int>(), 6);
        std::set<std::string> distinct;
        for (const auto& t : s["trials"])
            QVERIFY(distinct.insert(t["params"].dump()).second);
    }

    void badSweepsAreRefusedAndChangeNothing() {
        const auto before = m_ws->client().get("/api/v1/sweeps").size();
        auto typo = kiln({QStringLiteral("sweep"), QStringLiteral("submit"), QStringLiteral("--config"),
                          sweepFile(QStringLiteral("early_termination: {policy: bandit, slack_factor: 0.1}\n"
                                                   "max_total_trials: 4\nparameters2: 1\n"))});
        QCOMPARE(typo.exitCode, 2);
        QVERIFY2(typo.err.contains(
                     QStringLiteral("'parameters2' is not a sweep setting; did you mean 'parameters'?")),
                 qPrintable(typo.err));
        QVERIFY2(typo.err.contains(QStringLiteral(".yml:10:")), qPrintable(typo.err)); // its line
        auto compute = kiln({QStringLiteral("sweep"), QStringLiteral("submit"), QStringLiteral("--config"),
                             sweepFile(QStringLiteral("compute: nowhere\n"))});
        QCOMPARE(compute.exitCode, 2);
        QVERIFY2(compute.err.contains(QStringLiteral("unknown compute target: nowhere")),
                 qPrintable(compute.err));
        auto missing = kiln({QStringLiteral("sweep"), QStringLiteral("submit"), QStringLiteral("--config"),
                             m_tmp.filePath(QStringLiteral("no-such.yml"))});
        QCOMPARE(missing.exitCode, 2);
        QVERIFY2(missing.err.contains(QStringLiteral("cannot read the sweep file")), qPrintable(missing.err));
        auto& c = m_ws->client();
        QCOMPARE(c.raw("POST", "/api/v1/sweeps", "{not json").first, 400);
        QCOMPARE(c.raw("POST", "/api/v1/sweeps", "[]").first, 400);
        QCOMPARE(c.raw("GET", "/api/v1/sweeps/999").first, 404);
        QCOMPARE(c.raw("GET", "/api/v1/sweeps/../../etc/passwd").first, 404);
        QCOMPARE(c.raw("POST", "/api/v1/sweeps/999/cancel").first, 404);
        QCOMPARE(c.get("/api/v1/sweeps").size(), before);
    }

    void trialsFanOutOnSlurm() {
        const auto url = qEnvironmentVariable("SLURM_CI_REST_URL");
        if (url.isEmpty())
            KILN_SKIP_OR_FAIL(
                "no Slurm cluster (SLURM_CI_REST_URL unset); cmake/bootstrap.sh test starts one");
        auto create = kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                            QStringLiteral("cluster"), QStringLiteral("--type"), QStringLiteral("slurm"),
                            QStringLiteral("--slurm-url"), url, QStringLiteral("--slurm-token"),
                            qEnvironmentVariable("SLURM_CI_REST_TOKEN"), QStringLiteral("--partition"),
                            QStringLiteral("debug"), QStringLiteral("--max-nodes"), QStringLiteral("8")});
        QVERIFY2(create.exitCode == 0, qPrintable(create.err));
        const auto id =
            submit(sweepFile(QStringLiteral("compute: cluster\narguments: [--epochs, 3, --pause, 1]\n"
                                            "max_total_trials: 4\nmax_concurrent_trials: 4\n")));
        QVERIFY(id > 0);
        QCOMPARE(wait(id), 0);
        auto s = show(id);
        QCOMPARE(s["counts"]["completed"].get<int>(), 4);
        std::vector<std::pair<double, double>> spans;
        for (const auto& t : s["trials"]) {
            auto run = m_ws->client().run(t["run"].get<std::int64_t>());
            QCOMPARE(run["compute"].get<std::string>(), std::string("cluster"));
            QVERIFY(!run["external_id"].get<std::string>().empty()); // a Slurm job
            spans.emplace_back(run["started"].get<double>(), run["ended"].get<double>());
        }
        int overlapping = 0; // the trials ran side by side as jobs on the cluster
        for (const auto& [start, end] : spans)
            for (const auto& [s2, e2] : spans)
                overlapping += s2 < start && start < e2;
        QVERIFY2(overlapping >= 1, "the trials ran one after another");
    }
};

QTEST_GUILESS_MAIN(TestSweepsE2e)
#include "test_sweeps_e2e.moc"
