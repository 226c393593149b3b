// Run queries (the runs table's server side): filter expressions over metrics, params, tags and attributes,
// numbers compared and sorted as numbers, runs missing a field sorted last, paging with a true total, and
// errors that point at the token that is wrong. Over a real SQLite file.
#include "metrics/MetricStore.h"
#include "runs/RunQuery.h"
#include "runs/RunStore.h"
#include "store/Database.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Kiln;

class TestRunQuery : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<Store::Database> m_db;
    std::unique_ptr<Runs::RunStore> m_runs;
    std::unique_ptr<Metrics::MetricStore> m_metrics;
    std::map<std::string, std::int64_t> m_ids; // run name -> id

    std::int64_t add(const std::string& experiment, const std::string& name, const Json& params,
                     const std::map<std::string, std::vector<double>>& metrics,
                     const Json& tags = Json::object()) {
        Runs::NewRun n;
        n.experiment = experiment;
        n.name = name;
        n.script = "train.py";
        n.snapshot = std::string(64, 'a');
        n.params = params;
        const auto id = m_runs->createRun(n);
        if (!tags.empty())
            m_runs->mergeJson(id, "tags", tags);
        Metrics::Columns points;
        for (const auto& [key, values] : metrics)
            for (std::size_t i = 0; i < values.size(); ++i)
                points.add(key, static_cast<std::int64_t>(i), 1.0, values[i]);
        if (points.size() > 0)
            m_metrics->ingest(id, points);
        m_ids[name] = id;
        return id;
    }

    // The names of the runs a query lists, in its order, joined by |.
    QString names(const std::string& filter, const std::string& order = {}, const std::string& text = {}) {
        Runs::RunQuery q;
        q.filter = filter;
        q.orderBy = order;
        q.text = text;
        QStringList out;
        for (const auto& r : m_runs->query(q).runs)
            out << QString::fromStdString(r.name);
        return out.join(QLatin1Char('|'));
    }

    // The error a filter gets: its message, column and length.
    std::tuple<QString, int, int> error(const std::string& filter, const std::string& order = {}) {
        Runs::RunQuery q;
        q.filter = filter;
        q.orderBy = order;
        try {
            m_runs->query(q);
        } catch (const Runs::QueryError& e) {
            return {QString::fromUtf8(e.what()), e.column, e.length};
        }
        return {QStringLiteral("no error"), 0, 0};
    }

private Q_SLOTS:
    void initTestCase() {
        m_db = std::make_unique<Store::Database>(m_dir.filePath(QStringLiteral("kiln.db")).toStdString());
        m_runs = std::make_unique<Runs::RunStore>(*m_db);
        m_metrics = std::make_unique<Metrics::MetricStore>(*m_db);
        // Learning rates as a sweep logs them (numbers) and as a script's argv leaves them (text).
        add("mnist", "a", {{"lr", 0.001}, {"batch", "64"}, {"opt", "adam"}}, {{"acc", {0.5, 0.91, 0.9}}},
            {{"stage", "prod"}});
        add("mnist", "b", {{"lr", "0.01"}, {"batch", "128"}, {"opt", "sgd"}}, {{"acc", {0.6, 0.8}}});
        add("mnist", "c", {{"lr", "0.1"}, {"batch", "9"}}, {{"acc", {0.95}}, {"loss", {0.3, 0.1}}});
        add("cifar", "d baseline", {{"lr", 0.05}}, {}); // no metrics yet
        add("cifar", "e", {{"lr", "fast"}, {"batch", "1024"}}, {{"acc", {0.7}}}, {{"stage", "dev"}});
    }

    void comparesNumbersAsNumbers() {
        QCOMPARE(names("params.lr < 0.01"), QStringLiteral("a"));
        QCOMPARE(names("params.lr <= 0.01"), QStringLiteral("b|a")); // "0.01" equals 0.01
        QCOMPARE(names("params.lr = 0.01"), QStringLiteral("b"));
        QCOMPARE(names("params.batch > 100"), QStringLiteral("e|b")); // not "9" > "100" as text
        QCOMPARE(names("params.lr = fast"), QStringLiteral("e"));
        QCOMPARE(names("params.opt = ADAM"), QStringLiteral("a")); // text equality ignores case
        // The last value, the minimum, the maximum.
        QCOMPARE(names("metrics.acc > 0.85"), QStringLiteral("c|a"));
        QCOMPARE(names("max(metrics.acc) > 0.905"), QStringLiteral("c|a"));
        QCOMPARE(names("max(metrics.acc) > 0.905 and metrics.acc < 0.905"), QStringLiteral("a"));
        QCOMPARE(names("min(metrics.loss) <= 0.1"), QStringLiteral("c"));
    }

    void combinesAndNegates() {
        QCOMPARE(names("metrics.acc > 0.85 and params.lr < 0.01"), QStringLiteral("a"));
        QCOMPARE(names("params.lr < 0.005 or params.lr > 0.09"), QStringLiteral("c|a"));
        QCOMPARE(names("(params.opt = sgd or params.opt = adam) and not metrics.acc > 0.85"),
                 QStringLiteral("b"));
        // A run without the field: never matches a comparison, always matches its negation and !=.
        QCOMPARE(names("not metrics.acc > 0"), QStringLiteral("d baseline"));
        QCOMPARE(names("tags.stage != prod"), QStringLiteral("e|d baseline|c|b"));
        QCOMPARE(names("experiment = cifar and name ~ BASE"), QStringLiteral("d baseline"));
        QCOMPARE(names("status = queued and params.batch ~ 12"), QStringLiteral("b"));
    }

    void findsWordsAnywhere() {
        QCOMPARE(names({}, {}, "base"), QStringLiteral("d baseline"));
        QCOMPARE(names({}, {}, "mnist"), QStringLiteral("c|b|a"));
        QCOMPARE(names({}, {}, "mnist prod"), QStringLiteral("a")); // every word, here one in a tag
        QCOMPARE(names({}, {}, "100%"), QString());                 // LIKE's wildcards are taken literally
    }

    void sortsNumbersAsNumbersAndMissingLast() {
        QCOMPARE(names({}, "metrics.acc desc"), QStringLiteral("c|a|b|e|d baseline"));
        QCOMPARE(names({}, "metrics.acc"), QStringLiteral("e|b|a|c|d baseline"));
        // "9" < "64" < "128" < "1024"; runs without a batch last.
        QCOMPARE(names({}, "params.batch"), QStringLiteral("c|a|b|e|d baseline"));
        // Numbers first, then text; ties: newest first.
        QCOMPARE(names({}, "params.lr desc"), QStringLiteral("c|d baseline|b|a|e"));
        QCOMPARE(names({}, "experiment, max(metrics.acc) desc"), QStringLiteral("e|d baseline|c|a|b"));
        QCOMPARE(names({}, "name DESC"), QStringLiteral("e|d baseline|c|b|a"));
    }

    void pagesWithATrueTotal() {
        Runs::RunQuery q;
        q.orderBy = "name";
        q.limit = 2;
        q.offset = 2;
        const auto page = m_runs->query(q);
        QCOMPARE(page.total, std::int64_t(5));
        QCOMPARE(page.runs.size(), std::size_t(2));
        QCOMPARE(page.runs[0].name, std::string("c"));
        q.experiment = "cifar";
        q.offset = 0;
        QCOMPARE(m_runs->query(q).total, std::int64_t(2));
    }

    void archivedRunsAreHiddenUnlessAskedFor() {
        const auto id = add("mnist", "old", Json::object(), {{"acc", {0.99}}});
        {
            auto lock = m_db->lock();
            m_db->prepare("UPDATE runs SET archived = 1 WHERE id = ?").bind(1, id).exec();
        }
        QCOMPARE(names("metrics.acc > 0.92"), QStringLiteral("c"));
        Runs::RunQuery q;
        q.filter = "metrics.acc > 0.92";
        q.archived = true;
        QCOMPARE(m_runs->query(q).total, std::int64_t(2));
        q.filter = "archived = 1";
        QCOMPARE(m_runs->query(q).total, std::int64_t(1));
    }

    void valuesAreBoundNotSpliced() {
        QCOMPARE(names("name = \"x' OR 1=1 --\""), QString());
        QCOMPARE(names("params.`lr') OR 1=1 --` = 1"), QString());
        QCOMPARE(names("name = 'd baseline'"), QStringLiteral("d baseline"));
    }

    void errorsPointAtTheWrongToken_data() {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("column");
        QTest::addColumn<int>("length");
        QTest::newRow("unknown field")
            << "accuracy > 0.9"
            << "unknown field 'accuracy' at column 1: write metrics.accuracy" << 1 << 8;
        QTest::newRow("no value") << "metrics.acc >"
                                  << "expected a value after metrics.acc > at column 14, found the end" << 14
                                  << 1;
        QTest::newRow("dangling and")
            << "metrics.acc > 0.5 and"
            << "expected a field (metrics.NAME, params.NAME, tags.NAME, or an attribute "
               "such as status) at column 22, found the end"
            << 22 << 1;
        QTest::newRow("no operator")
            << "params.lr 0.01"
            << "expected an operator (= != < <= > >= ~) after params.lr at column 11, found '0.01'" << 11
            << 4;
        QTest::newRow("a typo for and")
            << "metrics.acc > 0.5 adn params.lr < 1"
            << "expected 'and', 'or' or the end at column 19, found 'adn'" << 19 << 3;
        QTest::newRow("a metric is a number")
            << "metrics.acc > high"
            << "metrics.acc is a number; 'high' at column 15 is not" << 15 << 4;
        QTest::newRow("a status that is not")
            << "status = Compleeted"
            << "no status is called 'Compleeted' (at column 10)" << 10 << 10;
        QTest::newRow("unclosed string") << "name = 'abc"
                                         << "a string opened with ' is not closed at column 8" << 8 << 4;
        QTest::newRow("half an operator") << "params.lr ! 1"
                                          << "'!' is only half of an operator" << 11 << 1;
        QTest::newRow("unclosed paren") << "(status = Failed"
                                        << "expected ')' at column 17, found the end" << 17 << 1;
        QTest::newRow("a stray character") << "params.lr < 0.1;"
                                           << "unexpected ';' at column 16" << 16 << 1;
        QTest::newRow("not a time") << "created > 'yesterday'"
                                    << "'yesterday' at column 11 is not a time" << 11 << 11;
        QTest::newRow("empty key") << "params. = 1"
                                   << "a field needs a name after its prefix at column 1" << 1 << 7;
    }
    void errorsPointAtTheWrongToken() {
        QFETCH(QString, filter);
        QFETCH(QString, message);
        QFETCH(int, column);
        QFETCH(int, length);
        const auto [what, at, len] = error(filter.toStdString());
        QVERIFY2(what.startsWith(message), qPrintable(what));
        QCOMPARE(at, column);
        QCOMPARE(len, length);
    }

    void deepNestingIsRefusedNotOverflowed() {
        const std::string deep = std::string(5000, '(') + "status = Failed" + std::string(5000, ')');
        QVERIFY(
            std::get<0>(error(deep)).startsWith(QStringLiteral("the expression nests more than 64 deep")));
        std::string nots;
        for (int i = 0; i < 5000; ++i)
            nots += "not ";
        QVERIFY(
            std::get<0>(error(nots + "status = Failed")).startsWith(QStringLiteral("the expression nests")));
        QCOMPARE(names(std::string(10, '(') + "name = c" + std::string(10, ')')), QStringLiteral("c"));
    }

    void ordersHaveErrorsToo() {
        QVERIFY(std::get<0>(error({}, "metrics.acc sideways"))
                    .startsWith(QStringLiteral(
                        "expected ',', 'asc', 'desc' or the end at column 13, found 'sideways'")));
        QVERIFY(std::get<0>(error({}, "colour")).startsWith(QStringLiteral("unknown field 'colour'")));
    }

    void timesReadAsLocalDates() {
        QCOMPARE(names("created > '2000-01-01' and created < '2999-12-31 23:59'").count(QLatin1Char('|')) + 1,
                 5);
        QCOMPARE(names("created < '2000-01-01'"), QString());
        QCOMPARE(names("duration > 0"), QString()); // none started
    }

    void columnsNameWhatRunsUse() {
        const auto all = m_runs->columns({});
        QVERIFY2(all["params"] == Json({"batch", "lr", "opt"}), all["params"].dump().c_str());
        QVERIFY2(all["metrics"] == Json({"acc", "loss"}), all["metrics"].dump().c_str());
        QVERIFY2(all["tags"] == Json({"stage"}), all["tags"].dump().c_str());
        const auto cifar = m_runs->columns("cifar");
        QVERIFY2(cifar["metrics"] == Json({"acc"}), cifar["metrics"].dump().c_str());
        QVERIFY2(cifar["params"] == Json({"batch", "lr"}), cifar["params"].dump().c_str());
    }

    void summariesCarryLastMinMax() {
        const auto s = m_runs->metricSummaries({m_ids["a"], m_ids["d baseline"]});
        const auto& acc = s[std::to_string(m_ids["a"])]["acc"];
        QCOMPARE(acc["last"].get<double>(), 0.9);
        QCOMPARE(acc["min"].get<double>(), 0.5);
        QCOMPARE(acc["max"].get<double>(), 0.91);
        QCOMPARE(acc["count"].get<int>(), 3);
        QVERIFY(!s.contains(std::to_string(m_ids["d baseline"])));
    }

    void studioTellsExpressionsFromWords() {
        QVERIFY(Runs::looksLikeFilterExpression("metrics.acc>0.9"));
        QVERIFY(Runs::looksLikeFilterExpression("name ~ base"));
        QVERIFY(!Runs::looksLikeFilterExpression("baseline mnist"));
    }
};

QTEST_MAIN(TestRunQuery)
#include "test_run_query.moc"
