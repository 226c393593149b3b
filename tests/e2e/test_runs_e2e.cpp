// Whole runs through the real `kiln` CLI, kilnd and training processes: the Fashion-MNIST sample to
// Completed with metrics, outputs and logs; a failing script; cancel; run-token scope; and a kill -9 of
// kilnd while a run trains.
#include "api/Client.h"
#include "TestSupport.h"

#include <csignal>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QTest>

using namespace Kiln;

class TestRunsE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QString m_scripts;

    std::int64_t submit(const QString& script, const QStringList& args, const QString& source = {}) {
        auto r = m_ws->kiln(QStringList{QStringLiteral("run"), QStringLiteral("submit"),
                                        QStringLiteral("--experiment"), QStringLiteral("e2e"),
                                        QStringLiteral("--source"), source.isEmpty() ? m_scripts : source,
                                        QStringLiteral("--script"), script, QStringLiteral("--json"),
                                        QStringLiteral("--")} +
                            args);
        if (r.exitCode != 0)
            qWarning() << r.err;
        return r.exitCode == 0 ? r.json()["id"].get<std::int64_t>() : 0;
    }
    Json show(std::int64_t id) {
        return m_ws
            ->kiln({QStringLiteral("run"), QStringLiteral("show"), QString::number(id),
                    QStringLiteral("--json")})
            .json();
    }
    bool waitFor(std::int64_t id, const std::string& status, int ms = 60000) {
        for (int waited = 0; waited < ms; waited += 50) {
            if (m_ws->client().run(id)["status"] == status)
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    // Whether slow.py has printed (the supervisor's own "kiln: ..." lines come before the script's).
    bool ticked(std::int64_t id) {
        const auto logs = m_ws->client().get("/api/v1/runs/" + std::to_string(id) + "/logs");
        for (const auto& l : logs["lines"])
            if (l["line"].get<std::string>().starts_with("tick "))
                return true;
        return false;
    }

private Q_SLOTS:
    void initTestCase() {
        m_ws = std::make_unique<Test::Workspace>(
            QStringList{QStringLiteral("--max-concurrent"), QStringLiteral("4")});
        m_scripts = Test::sourceWith(
            m_tmp, QStringLiteral("scripts"),
            {QStringLiteral("fail.py"), QStringLiteral("slow.py"), QStringLiteral("scope.py")});
    }
    void cleanupTestCase() { m_ws.reset(); }

    void sampleRunsToCompletedWithMetricsOutputsAndLogs() {
        const auto id = submit(QStringLiteral("train.py"),
                               {QStringLiteral("--limit"), QStringLiteral("2000"), QStringLiteral("--epochs"),
                                QStringLiteral("1")},
                               QStringLiteral(KILN_SAMPLE_DIR));
        QVERIFY(id > 0);
        auto wait = m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id),
                                QStringLiteral("--show-output")});
        QCOMPARE(wait.exitCode, 0);
        QVERIFY2(wait.out.contains(QStringLiteral("Epoch 1/1")), qPrintable(wait.out));
        QVERIFY(wait.out.contains(QStringLiteral("Saved the model")));

        auto run = show(id);
        QCOMPARE(run["status"].get<std::string>(), std::string("Completed"));
        QCOMPARE(run["exit_code"].get<int>(), 0);
        QCOMPARE(run["params"]["limit"].get<int>(), 2000);
        std::map<std::string, Json> metrics;
        for (const auto& k : run["metrics"])
            metrics[k["key"]] = k;
        QVERIFY(metrics.count("loss") && metrics["loss"]["count"].get<int>() >= 2);
        QVERIFY(metrics.count("test_accuracy"));
        const double acc = metrics["test_accuracy"]["last"].get<double>();
        QVERIFY2(acc > 0.5 && acc <= 1.0, qPrintable(QString::number(acc)));

        auto loss = m_ws->kiln({QStringLiteral("run"), QStringLiteral("metrics"), QString::number(id),
                                QStringLiteral("--key"), QStringLiteral("loss"), QStringLiteral("--json")});
        QCOMPARE(loss.exitCode, 0);
        QCOMPARE(loss.json()["series"]["values"].size(), metrics["loss"]["count"].get<std::size_t>());

        auto files = m_ws->kiln({QStringLiteral("run"), QStringLiteral("files"), QString::number(id),
                                 QStringLiteral("--json")})
                         .json();
        QStringList paths;
        for (const auto& f : files)
            paths << QString::fromStdString(f["path"].get<std::string>());
        QVERIFY2(paths.contains(QStringLiteral("outputs/model/weights.npz")), qPrintable(paths.join(u',')));
        QVERIFY(paths.contains(QStringLiteral("outputs/model/model.json")));
        QVERIFY(paths.contains(QStringLiteral("output.log")));

        QTemporaryDir dest;
        auto dl = m_ws->kiln({QStringLiteral("run"), QStringLiteral("download"), QString::number(id),
                              QStringLiteral("outputs/model"), QStringLiteral("--dest"), dest.path()});
        QCOMPARE(dl.exitCode, 0);
        QFile model(dest.path() + QStringLiteral("/model/model.json"));
        QVERIFY(model.open(QIODevice::ReadOnly));
        QCOMPARE(Json::parse(model.readAll().toStdString())["layers"][1].get<int>(), 300);
    }

    void runsAreFoundByQuery() {
        // Three runs of the objective (score climbs to -(x - 0.3)^2 - 1) with their x as a param, the way a
        // script's argv leaves it (text), in their own experiment.
        QList<std::int64_t> ids;
        for (const char* x : {"0.3", "-1", "0.1"}) {
            auto r = m_ws->kiln(
                {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                 QStringLiteral("query"), QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/sweep"),
                 QStringLiteral("--script"), QStringLiteral("objective.py"), QStringLiteral("--"),
                 QStringLiteral("--x"), QLatin1String(x), QStringLiteral("--epochs"), QStringLiteral("2"),
                 QStringLiteral("--pause"), QStringLiteral("0.01")});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
            ids << r.out.trimmed().toLongLong();
            m_ws->client().post("/api/v1/runs/" + std::to_string(ids.back()) + "/params",
                                {{"params", {{"x", x}}}});
        }
        for (auto id : ids)
            QVERIFY(waitFor(id, "Completed"));
        auto list = [&](const QStringList& extra) {
            auto r = m_ws->kiln(QStringList{QStringLiteral("run"), QStringLiteral("list"),
                                            QStringLiteral("--json"), QStringLiteral("--experiment"),
                                            QStringLiteral("query")} +
                                extra);
            QList<std::int64_t> out;
            if (r.exitCode == 0)
                for (const auto& run : r.json())
                    out << run["id"].get<std::int64_t>();
            return out;
        };
        // Best first by the last score; x = 0.3 ends at -1.5, x = 0.1 at -1.54, x = -1 at -3.19.
        QCOMPARE(list({QStringLiteral("--order-by"), QStringLiteral("metrics.score desc")}),
                 QList<std::int64_t>({ids[0], ids[2], ids[1]}));
        QCOMPARE(list({QStringLiteral("--filter"), QStringLiteral("metrics.score > -1.52 or params.x < -0.5"),
                       QStringLiteral("--order-by"), QStringLiteral("params.x")}),
                 QList<std::int64_t>({ids[1], ids[0]}));
        QCOMPARE(list({QStringLiteral("--filter"), QStringLiteral("max(metrics.score) < -2"),
                       QStringLiteral("--limit"), QStringLiteral("1")}),
                 QList<std::int64_t>({ids[1]}));
        // A listing row carries its metrics' summary; the total comes in a header, whatever the page.
        const auto [page, total] = m_ws->client().queryRuns("experiment=query&limit=1&order_by=params.x");
        QCOMPARE(total, std::int64_t(3));
        QCOMPARE(page.size(), std::size_t(1));
        QCOMPARE(page[0]["metrics"]["score"]["count"].get<int>(), 2);
        QVERIFY(page[0]["metrics"]["score"]["max"].get<double>() ==
                page[0]["metrics"]["score"]["last"].get<double>());
        QVERIFY(!m_ws->client().queryRuns("experiment=query&metrics=0").first[0].contains("metrics"));
        // (The runs' own system samples, sys/..., are columns too when the supervisor took one.)
        const auto columns = m_ws->client().get("/api/v1/runs/columns?experiment=query");
        Json logged = Json::array();
        for (const auto& m : columns["metrics"])
            if (!m.get<std::string>().starts_with("sys/"))
                logged.push_back(m);
        QVERIFY2(logged == Json({"score"}) && columns["params"] == Json({"x"}), columns.dump().c_str());
        // For people: the listing shows the fields it is ordered and filtered by, each in a column.
        auto table = m_ws->kiln({QStringLiteral("run"), QStringLiteral("list"),
                                 QStringLiteral("--experiment"), QStringLiteral("query"),
                                 QStringLiteral("--order-by"), QStringLiteral("metrics.score desc"),
                                 QStringLiteral("--filter"), QStringLiteral("params.x > -2")});
        QVERIFY2(table.exitCode == 0, qPrintable(table.err));
        const auto rows = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(rows.size() == 4 && rows[0].contains(QStringLiteral("metrics.score")) &&
                     rows[0].contains(QStringLiteral("params.x")) &&
                     rows[1].startsWith(QString::number(ids[0])) &&
                     rows[1].contains(QStringLiteral(" 0.3 ")) && rows[1].contains(QStringLiteral(" -1.5")),
                 qPrintable(table.out));
        // Booleans are true/false: starred runs, and a word that is neither is refused with where it is.
        QCOMPARE(
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("star"), QString::number(ids[2])}).exitCode, 0);
        QCOMPARE(list({QStringLiteral("--filter"), QStringLiteral("starred = true")}),
                 QList<std::int64_t>({ids[2]}));
        QCOMPARE(list({QStringLiteral("--filter"), QStringLiteral("starred = false"),
                       QStringLiteral("--order-by"), QStringLiteral("id")}),
                 QList<std::int64_t>({ids[0], ids[1]}));
        auto neither = m_ws->kiln({QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--filter"),
                                   QStringLiteral("starred = yes")});
        QVERIFY2(neither.exitCode == 2 && neither.err.contains(QStringLiteral(
                                              "starred is true or false; 'yes' at column 11 is neither")),
                 qPrintable(neither.err));
        // One metric: a summary (first, last, min, max with their steps), every point with --all.
        auto summary = m_ws->kiln({QStringLiteral("run"), QStringLiteral("metrics"), QString::number(ids[1]),
                                   QStringLiteral("--key"), QStringLiteral("score")});
        QVERIFY2(summary.exitCode == 0 && summary.out.startsWith(QStringLiteral("score: 2 points\n")) &&
                     summary.out.contains(QStringLiteral("  first  ")) &&
                     summary.out.contains(QStringLiteral("  max    ")) &&
                     summary.err.contains(QStringLiteral("--all")),
                 qPrintable(summary.out + summary.err));
        auto every = m_ws->kiln({QStringLiteral("run"), QStringLiteral("metrics"), QString::number(ids[1]),
                                 QStringLiteral("--key"), QStringLiteral("score"), QStringLiteral("--all")});
        QCOMPARE(every.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 3); // a header and 2 points
        // Errors in the words typed: the option, and what was given.
        auto limit = m_ws->kiln({QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--limit"),
                                 QStringLiteral("abc")});
        QVERIFY2(limit.exitCode == 2 && limit.err.contains(QStringLiteral("--limit must be an integer")) &&
                     limit.err.contains(QStringLiteral("(you typed --limit abc)")),
                 qPrintable(limit.err));
        auto nodes =
            m_ws->kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                        QStringLiteral("pool"), QStringLiteral("--max-nodes"), QStringLiteral("0")});
        QVERIFY2(nodes.exitCode == 2 && nodes.err.contains(QStringLiteral("--max-nodes must be an integer")),
                 qPrintable(nodes.err));
        auto partition =
            m_ws->kiln({QStringLiteral("compute"), QStringLiteral("create"), QStringLiteral("--name"),
                        QStringLiteral("pool"), QStringLiteral("--partition"), QStringLiteral("p")});
        QVERIFY2(partition.exitCode == 2 && partition.err.contains(QStringLiteral("no setting --partition")),
                 qPrintable(partition.err));
        QVERIFY(m_ws->client().get("/api/v1/compute").dump().find("\"pool\"") == std::string::npos);
        // A typo: exit 2 and the reason, pointing at it.
        auto bad = m_ws->kiln({QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--filter"),
                               QStringLiteral("metrics.score > -1 adn params.x = 1")});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(QLatin1String("expected 'and', 'or' or the end at column 20, found 'adn'")),
                 qPrintable(bad.err));
        bad = m_ws->kiln({QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--order-by"),
                          QStringLiteral("score")});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(QLatin1String("unknown field 'score' at column 1: write metrics.score")),
                 qPrintable(bad.err));
    }

    void runsAreManagedFromTheCommandLine() {
        auto kiln = [&](const QStringList& args) { return m_ws->kiln(args); };
        auto run = [&](std::int64_t id) { return m_ws->client().run(id); };
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("managed"),
                                             {QStringLiteral("model.py"), QStringLiteral("slow.py")});
        auto submit = [&](const QString& script, const QStringList& args = {}) {
            auto r = kiln(QStringList{QStringLiteral("run"), QStringLiteral("submit"),
                                      QStringLiteral("--experiment"), QStringLiteral("managed"),
                                      QStringLiteral("--source"), source, QStringLiteral("--script"), script,
                                      QStringLiteral("--")} +
                          args);
            return r.exitCode == 0 ? r.out.trimmed().toLongLong() : 0;
        };
        const auto kept =
            submit(QStringLiteral("model.py"), {QStringLiteral("--size"), QStringLiteral("1000")});
        const auto doomed =
            submit(QStringLiteral("model.py"), {QStringLiteral("--seed"), QStringLiteral("77"),
                                                QStringLiteral("--size"), QStringLiteral("400000")});
        const auto live = submit(QStringLiteral("slow.py"));
        QVERIFY(kept && doomed && live);
        QVERIFY(waitFor(kept, "Completed") && waitFor(doomed, "Completed") && waitFor(live, "Running"));

        // Rename, tag, untag, note, star: each shows in the run.
        const auto id = QString::number(kept);
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("rename"), id, QStringLiteral("baseline v2")})
                     .exitCode,
                 0);
        auto tagged = kiln({QStringLiteral("run"), QStringLiteral("tag"), id, QStringLiteral("stage=dev"),
                            QStringLiteral("reviewed=")});
        QCOMPARE(tagged.exitCode, 0);
        QCOMPARE(tagged.out.trimmed(),
                 QStringLiteral("run %1: tags stage=dev, reviewed=").arg(id)); // confirmed
        QCOMPARE(
            kiln({QStringLiteral("run"), QStringLiteral("untag"), id, QStringLiteral("reviewed")}).exitCode,
            0);
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("note"), id, QStringLiteral("**Best so far**")})
                     .exitCode,
                 0);
        const auto starred = kiln({QStringLiteral("run"), QStringLiteral("star"), id});
        QCOMPARE(starred.exitCode, 0);
        QCOMPARE(starred.out.trimmed(), QStringLiteral("run %1 starred").arg(id));
        auto r = run(kept);
        QCOMPARE(r["name"].get<std::string>(), std::string("baseline v2"));
        QVERIFY2(r["tags"] == Json({{"stage", "dev"}}), r["tags"].dump().c_str());
        QCOMPARE(r["note"].get<std::string>(), std::string("**Best so far**"));
        QVERIFY(r["starred"].get<bool>());
        // A typo is refused and changes nothing.
        auto bad = kiln({QStringLiteral("run"), QStringLiteral("tag"), id, QStringLiteral("=dev")});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(QLatin1String("a tag is KEY=VALUE")), qPrintable(bad.err));
        // A KEY alone is not a tag (the help says KEY=VALUE): refused, naming it.
        bad = kiln({QStringLiteral("run"), QStringLiteral("tag"), id, QStringLiteral("stage")});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(QLatin1String("not 'stage'")), qPrintable(bad.err));
        QVERIFY(run(kept)["tags"] == Json({{"stage", "dev"}}));

        // A model registered from it: the run cannot be deleted, and the message says which model.
        QCOMPARE(kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"), id,
                       QStringLiteral("--name"), QStringLiteral("managed-mlp"), QStringLiteral("--path"),
                       QStringLiteral("outputs/model")})
                     .exitCode,
                 0);
        bad = kiln({QStringLiteral("run"), QStringLiteral("delete"), id, QStringLiteral("--yes")});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(QLatin1String("model managed-mlp:1 was registered from it")),
                 qPrintable(bad.err));
        // Nor can a live one; nor any without --yes when no one is at a terminal to ask.
        bad = kiln({QStringLiteral("run"), QStringLiteral("delete"), QString::number(live),
                    QStringLiteral("--yes")});
        QVERIFY2(bad.exitCode == 2 && bad.err.contains(QLatin1String("cancel it first")),
                 qPrintable(bad.err));
        bad = kiln({QStringLiteral("run"), QStringLiteral("delete"), QString::number(doomed)});
        QVERIFY2(bad.exitCode == 2 && bad.err.contains(QLatin1String("add --yes")), qPrintable(bad.err));
        QVERIFY(run(doomed)["status"] == "Completed");

        // Archived: out of listings unless asked for.
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("archive"), id}).exitCode, 0);
        auto listed = [&](const QStringList& extra) {
            QList<std::int64_t> ids;
            for (const auto& x :
                 kiln(QStringList{QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--json"),
                                  QStringLiteral("--experiment"), QStringLiteral("managed")} +
                      extra)
                     .json())
                ids << x["id"].get<std::int64_t>();
            return ids;
        };
        QCOMPARE(listed({}), QList<std::int64_t>({live, doomed}));
        QCOMPARE(listed({QStringLiteral("--archived")}), QList<std::int64_t>({live, doomed, kept}));
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("unarchive"), id}).exitCode, 0);
        QCOMPARE(listed({}), QList<std::int64_t>({live, doomed, kept}));

        // Deleting an ended run frees the files only it had: its 400 kB model is gone from the blob store.
        // (Files touched in the last second of its end or since are kept for `kiln workspace gc`.)
        const double ended = run(doomed)["ended"].get<double>();
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentMSecsSinceEpoch() / 1000.0 > ended + 3, 10000);
        const auto blobsBefore = Test::folderBytes(m_ws->path() + QStringLiteral("/blobs"));
        auto deleted = kiln({QStringLiteral("run"), QStringLiteral("delete"), QString::number(doomed),
                             QStringLiteral("--yes"), QStringLiteral("--json")});
        QVERIFY2(deleted.exitCode == 0, qPrintable(deleted.err));
        QVERIFY2(deleted.json()["bytes_freed"].get<std::int64_t>() >= 400000, qPrintable(deleted.out));
        QVERIFY(blobsBefore - Test::folderBytes(m_ws->path() + QStringLiteral("/blobs")) >= 400000);
        const auto gone = m_ws->client().raw("GET", "/api/v1/runs/" + std::to_string(doomed));
        QCOMPARE(gone.first, 404);
        QVERIFY(!QDir(m_ws->path() + QStringLiteral("/runs/") + QString::number(doomed)).exists());
        // The kept run's files (shared source, its model) are all still there.
        QCOMPARE(kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("managed-mlp"),
                       QStringLiteral("--dest"), m_tmp.filePath(QStringLiteral("dl"))})
                     .exitCode,
                 0);
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("again"), id}).exitCode, 0);

        // Experiments: renamed (its runs follow) and archived.
        QCOMPARE(kiln({QStringLiteral("experiment"), QStringLiteral("rename"), QStringLiteral("managed"),
                       QStringLiteral("managed-2")})
                     .exitCode,
                 0);
        QCOMPARE(run(kept)["experiment"].get<std::string>(), std::string("managed-2"));
        bad = kiln({QStringLiteral("experiment"), QStringLiteral("rename"), QStringLiteral("managed-2"),
                    QStringLiteral("e2e")});
        QVERIFY2(bad.exitCode == 2 && bad.err.contains(QLatin1String("exists already")), qPrintable(bad.err));
        QCOMPARE(kiln({QStringLiteral("experiment"), QStringLiteral("archive"), QStringLiteral("managed-2")})
                     .exitCode,
                 0);
        const auto experiments =
            kiln({QStringLiteral("experiment"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        for (const auto& e : experiments)
            QVERIFY(e["name"] != "managed-2");
        QVERIFY(m_ws->client().queryRuns("experiment=managed-2").second == 0);
        QVERIFY(m_ws->client().queryRuns("experiment=managed-2&archived=1").second == 3);
        QCOMPARE(
            kiln({QStringLiteral("experiment"), QStringLiteral("unarchive"), QStringLiteral("managed-2")})
                .exitCode,
            0);
        QCOMPARE(kiln({QStringLiteral("run"), QStringLiteral("cancel"), QString::number(live)}).exitCode, 0);
    }

    void failingScriptEndsFailedWithItsStatusAndLastLines() {
        const auto id = submit(QStringLiteral("fail.py"), {});
        auto wait = m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)});
        QCOMPARE(wait.exitCode, 1);
        QVERIFY(wait.err.contains(QStringLiteral("Failed")));
        auto run = show(id);
        QCOMPARE(run["status"].get<std::string>(), std::string("Failed"));
        QCOMPARE(run["exit_code"].get<int>(), 3);
        const auto error = QString::fromStdString(run["error"].get<std::string>());
        QVERIFY2(error.contains(QStringLiteral("exited with status 3")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("the answer is not 42")), qPrintable(error));
    }

    void cancelStopsARunningScript() {
        const auto id =
            submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("60")});
        QVERIFY(waitFor(id, "Running"));
        // Wait for its output so we know the script itself is up.
        QTRY_VERIFY_WITH_TIMEOUT(ticked(id), 20000);
        auto cancel = m_ws->kiln({QStringLiteral("run"), QStringLiteral("cancel"), QString::number(id)});
        QCOMPARE(cancel.exitCode, 0);
        QVERIFY(waitFor(id, "Canceled", 20000));
        auto run = show(id);
        QCOMPARE(run["signal"].get<int>(), SIGTERM);
        // What it logged before the cancel is kept, as are its logs/ files.
        auto logs = m_ws->kiln({QStringLiteral("run"), QStringLiteral("logs"), QString::number(id)});
        QVERIFY(logs.out.contains(QStringLiteral("tick 0")));
        QVERIFY(logs.out.contains(QStringLiteral("[logs/progress.txt] progress 0")));
    }

    void cancelEscalatesToSigkill() {
        const auto id = submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("60"),
                                                           QStringLiteral("--ignore-term")});
        QTRY_VERIFY_WITH_TIMEOUT(ticked(id), 20000); // up, its SIGTERM handler set
        m_ws->client().post("/api/v1/runs/" + std::to_string(id) + "/cancel", Json::object());
        QVERIFY(waitFor(id, "Canceled", 30000));
        QCOMPARE(m_ws->client().run(id)["signal"].get<int>(), SIGKILL);
    }

    void runTokensReachOnlyTheirOwnRun() {
        const auto id = submit(QStringLiteral("scope.py"), {});
        auto wait = m_ws->kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id),
                                QStringLiteral("--show-output")});
        QCOMPARE(wait.exitCode, 0);
        QVERIFY2(wait.out.contains(QStringLiteral("own-metrics 200")), qPrintable(wait.out));
        QVERIFY(wait.out.contains(QStringLiteral("other-metrics 403")));
        QVERIFY(wait.out.contains(QStringLiteral("list-runs 403")));
        QVERIFY(wait.out.contains(QStringLiteral("shutdown 403")));
        QVERIFY(m_ws->client().health()["ok"].get<bool>());
    }

    void runAgainRepeatsTheRunFromItsSnapshot() {
        QTemporaryDir src;
        const auto dir = Test::sourceWith(src, QStringLiteral("again"), {QStringLiteral("slow.py")});
        const auto id =
            submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("0.3")}, dir);
        QVERIFY(waitFor(id, "Completed"));
        QVERIFY(QFile::remove(dir + QStringLiteral("/slow.py"))); // the folder changed since: no matter
        auto again = m_ws->kiln(
            {QStringLiteral("run"), QStringLiteral("again"), QString::number(id), QStringLiteral("--json")});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        const auto copy = again.json()["id"].get<std::int64_t>();
        QVERIFY(copy != id);
        QVERIFY(waitFor(copy, "Completed"));
        const auto a = m_ws->client().run(id), b = m_ws->client().run(copy);
        for (const char* field : {"snapshot", "script", "args", "compute", "experiment", "source_path"})
            QVERIFY2(a[field] == b[field], field);
        QVERIFY(a["source_path"].get<std::string>().ends_with("/again")); // where it came from, both
        QCOMPARE(
            m_ws->kiln({QStringLiteral("run"), QStringLiteral("again"), QStringLiteral("99999")}).exitCode,
            2);
    }

    void runsSurviveKillingKilnd() {
        const auto id = submit(QStringLiteral("slow.py"), {QStringLiteral("--seconds"), QStringLiteral("4")});
        QVERIFY(waitFor(id, "Running"));
        QTest::qWait(1000);
        m_ws->killServer();
        QTest::qWait(1000); // the script keeps logging into the void (the client buffers and retries)
        m_ws->startServer({QStringLiteral("--max-concurrent"), QStringLiteral("4")});
        QVERIFY(waitFor(id, "Completed", 30000));
        auto logs = m_ws->kiln({QStringLiteral("run"), QStringLiteral("logs"), QString::number(id)});
        // Every line the script printed, across the restart, exactly once.
        const auto lines = logs.out.split(u'\n', Qt::SkipEmptyParts);
        const int ticks =
            static_cast<int>(lines.filter(QRegularExpression(QStringLiteral("^tick \\d+$"))).size());
        QVERIFY2(ticks >= 10, qPrintable(logs.out));
        QVERIFY(logs.out.contains(QStringLiteral("tick %1").arg(ticks - 1)));
        QVERIFY(logs.out.contains(QStringLiteral("done after %1 ticks").arg(ticks)));
        // Every metric point too: the client buffered them while kilnd was down.
        auto values = m_ws->client().get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=value");
        QCOMPARE(values["series"]["values"].size(), static_cast<std::size_t>(ticks));
        auto files = m_ws->client().get("/api/v1/runs/" + std::to_string(id) + "/files");
        bool result = false;
        for (const auto& f : files)
            result |= f["path"] == "outputs/result.txt";
        QVERIFY(result);
    }
};

QTEST_GUILESS_MAIN(TestRunsE2e)
#include "test_runs_e2e.moc"
