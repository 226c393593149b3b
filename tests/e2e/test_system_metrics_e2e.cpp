// Per-run system metrics (core/runs/SystemMetrics.h), through the real CLI, kilnd and supervisor: a script
// that burns two cores for 3 s and then holds 300 MB is sampled as such, the samples stop when it ends, and a
// kilnd killed mid-run stores each sample once. GPUs: a machine without NVML records CPU and memory only and
// says so in one line; with the NVML STAND-IN library (tests/standin, this machine has no GPU) the run's GPU
// is sampled. Bad intervals are refused at submit.
#include "api/Client.h"
#include "api/Http.h"
#include "TestSupport.h"

#include <algorithm>
#include <QTest>
#include <thread>

using namespace Kiln;

namespace {

struct Series {
    std::vector<std::int64_t> steps;
    std::vector<double> times;
    std::vector<double> values;
};

Series history(Test::Workspace& ws, std::int64_t run, const std::string& key) {
    auto h = ws.client().get("/api/v1/runs/" + std::to_string(run) +
                             "/metrics/history?key=" + Api::percentEncode(key));
    const auto& s = h["series"];
    return {s["steps"].get<std::vector<std::int64_t>>(), s["timestamps"].get<std::vector<double>>(),
            s["values"].get<std::vector<double>>()};
}

double last(Test::Workspace& ws, std::int64_t run, const std::string& key) {
    auto s = history(ws, run, key);
    return s.values.empty() ? -1 : s.values.back();
}

QStringList keys(Test::Workspace& ws, std::int64_t run) {
    QStringList out;
    for (const auto& k : ws.client().get("/api/v1/runs/" + std::to_string(run) + "/metrics"))
        out << QString::fromStdString(k["key"].get<std::string>());
    return out;
}

QString output(Test::Workspace& ws, std::int64_t run) {
    QString text;
    const auto logs = ws.client().get("/api/v1/runs/" + std::to_string(run) + "/logs");
    for (const auto& l : logs["lines"])
        text += QString::fromStdString(l["line"].get<std::string>()) + QLatin1Char('\n');
    return text;
}

std::int64_t submit(Test::Workspace& ws, const QString& script, const QStringList& extra) {
    auto sub = ws.kiln(QStringList{QStringLiteral("run"), QStringLiteral("submit"),
                                   QStringLiteral("--experiment"), QStringLiteral("system"),
                                   QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/scripts"),
                                   QStringLiteral("--script"), script, QStringLiteral("--json")} +
                       extra);
    if (sub.exitCode != 0)
        qWarning("%s", qPrintable(sub.err));
    return sub.exitCode == 0 ? sub.json()["id"].get<std::int64_t>() : -1;
}

} // namespace

class TestSystemMetricsE2e : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aBusyThenLargeRunIsSampledAsSuch() {
        // No NVML here, whatever the machine has.
        qputenv("KILN_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
        Test::Workspace ws;
        const auto id = submit(ws, QStringLiteral("burn.py"),
                               {QStringLiteral("--system-interval"), QStringLiteral("0.5")});
        QVERIFY(id > 0);
        QCOMPARE(
            ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}, 120000).exitCode,
            0);
        const auto run = ws.client().run(id);
        QCOMPARE(run["system_interval"].get<double>(), 0.5);

        // Held against what the script measured of itself: its two workers' CPU time over the burn (about two
        // cores on a quiet machine; what a busy one leaves them otherwise, so that is what must be seen).
        const double burnStart = last(ws, id, "burn/start");
        const double burnEnd = last(ws, id, "burn/end");
        const double selfCores = last(ws, id, "burn/cpu_seconds") / (burnEnd - burnStart);
        QVERIFY2(selfCores > 0.2, qPrintable(QStringLiteral("the workers got %1 cores").arg(selfCores)));
        const auto cpu = history(ws, id, "sys/cpu");
        QVERIFY(cpu.values.size() >= 8);
        // Samples whose whole period lies inside the burn.
        std::vector<double> inside;
        for (std::size_t i = 1; i < cpu.values.size(); ++i)
            if (cpu.times[i - 1] >= burnStart && cpu.times[i] <= burnEnd)
                inside.push_back(cpu.values[i]);
        QVERIFY2(inside.size() >= 3, qPrintable(QString::number(inside.size())));
        double mean = 0;
        for (double v : inside)
            mean += v / static_cast<double>(inside.size());
        QVERIFY2(
            std::abs(mean - selfCores) < 0.35 && mean > 0.5 * selfCores, // (a starved machine gives less)
            qPrintable(QStringLiteral("sampled %1 cores, the workers measured %2").arg(mean).arg(selfCores)));
        // Then ~300 MB held (the interpreter's own ~10-30 MB on top).
        const double holdStart = last(ws, id, "hold/start");
        const double holdEnd = last(ws, id, "hold/end");
        const auto rss = history(ws, id, "sys/rss_mb");
        int held = 0;
        for (std::size_t i = 0; i < rss.values.size(); ++i) {
            if (rss.times[i] < holdStart + 0.1 || rss.times[i] > holdEnd)
                continue;
            ++held;
            QVERIFY2(rss.values[i] > 300 && rss.values[i] < 400, qPrintable(QString::number(rss.values[i])));
        }
        QVERIFY2(held >= 3, qPrintable(QString::number(held)));
        QVERIFY(last(ws, id, "sys/peak_rss_mb") > 300);
        const double meanCpu = last(ws, id, "sys/mean_cpu");
        QVERIFY2(meanCpu > 0.2 && meanCpu < selfCores, qPrintable(QString::number(meanCpu)));
        // Every sample inside the run's life, and none after it.
        QVERIFY(cpu.times.back() <= run["ended"].get<double>());
        QVERIFY(cpu.times.front() >= run["started"].get<double>() - 0.5);
        QCOMPARE(cpu.steps.front(), std::int64_t(0));
        QCOMPARE(cpu.steps.back(), static_cast<std::int64_t>(cpu.steps.size()) - 1);
        // None comes later either: over the same wait, a live run's samples do arrive (so the wait was long
        // enough for one to), the ended run's do not.
        const auto live = submit(ws, QStringLiteral("slow.py"),
                                 {QStringLiteral("--system-interval"), QStringLiteral("0.5"),
                                  QStringLiteral("--"), QStringLiteral("--seconds"), QStringLiteral("30")});
        QVERIFY(live > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!history(ws, live, "sys/cpu").values.empty(), Test::scaledMs(30000));
        const auto liveBefore = history(ws, live, "sys/cpu").values.size();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        QVERIFY2(history(ws, live, "sys/cpu").values.size() > liveBefore,
                 "the live run's samples stopped too");
        QCOMPARE(history(ws, id, "sys/cpu").values.size(), cpu.values.size());
        ws.client().post("/api/v1/runs/" + std::to_string(live) + "/cancel", Json::object());

        // No NVML: CPU, memory and I/O only, and one line saying so.
        const auto all = keys(ws, id);
        for (const auto& k : {"sys/cpu_user", "sys/cpu_system", "sys/rss_mb", "sys/read_mb_s",
                              "sys/write_mb_s", "sys/threads", "sys/open_files", "sys/processes"})
            QVERIFY2(all.contains(QLatin1String(k)), k);
        QVERIFY(
            std::none_of(all.begin(), all.end(), [](const QString& k) { return k.startsWith(u"sys/gpu"); }));
        const auto out = output(ws, id);
        QCOMPARE(out.count(QStringLiteral("no GPU readings")), 1);
        QVERIFY2(out.contains(QStringLiteral("no GPU readings: no NVIDIA driver library")), qPrintable(out));
        // The most a run used, as columns of the runs table (metrics' last values are queryable).
        auto found = ws.kiln({QStringLiteral("run"), QStringLiteral("list"), QStringLiteral("--filter"),
                              QStringLiteral("metrics.sys/peak_rss_mb > 300"), QStringLiteral("--json")});
        QCOMPARE(found.exitCode, 0);
        QCOMPARE(found.json().size(), std::size_t(1));
    }

    void theRunsGpuIsSampledThroughNvml() {
        qputenv("KILN_NVML_LIBRARY", KILN_NVML_STANDIN);
        Test::Workspace ws;
        const auto id = submit(ws, QStringLiteral("slow.py"),
                               {QStringLiteral("--system-interval"), QStringLiteral("0.2"),
                                QStringLiteral("--"), QStringLiteral("--seconds"), QStringLiteral("1.5")});
        QVERIFY(id > 0);
        QCOMPARE(ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
        // GPU 0 holds the run's process (1536 MiB) and another one that is not the run's; GPU 1 only the
        // other: only GPU 0 is the run's.
        QCOMPARE(last(ws, id, "sys/gpu0/util"), 73.0);
        QCOMPARE(last(ws, id, "sys/gpu0/mem_mb"), 1536.0);
        QCOMPARE(last(ws, id, "sys/gpu0/temp_c"), 64.0);
        QCOMPARE(last(ws, id, "sys/gpu0/power_w"), 187.5);
        const auto all = keys(ws, id);
        QVERIFY(
            std::none_of(all.begin(), all.end(), [](const QString& k) { return k.startsWith(u"sys/gpu1"); }));
        QVERIFY(all.contains(QStringLiteral("sys/cpu")));
        const auto out = output(ws, id);
        QVERIFY2(out.contains(QStringLiteral("with 2 GPUs through NVML")), qPrintable(out));
        QVERIFY(!out.contains(QStringLiteral("no GPU readings")));
    }

    void intervalsAreCheckedAndZeroRecordsNothing() {
        qputenv("KILN_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
        Test::Workspace ws;
        for (const auto* bad : {"0.1", "61", "-1", "abc", "1e999"}) {
            auto sub = ws.kiln({QStringLiteral("run"), QStringLiteral("submit"),
                                QStringLiteral("--experiment"), QStringLiteral("system"),
                                QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/scripts"),
                                QStringLiteral("--script"), QStringLiteral("quick.sh"),
                                QStringLiteral("--system-interval"), QLatin1String(bad)});
            QCOMPARE(sub.exitCode, 2);
            QVERIFY2(sub.err.contains(QStringLiteral("system")), qPrintable(sub.err));
        }
        QVERIFY(ws.client().get("/api/v1/runs").empty()); // nothing was created
        // The API refuses a non-number too.
        try {
            ws.client().post("/api/v1/runs", {{"experiment", "system"},
                                              {"script", "x.py"},
                                              {"system_interval", "1"},
                                              {"snapshot", {{"files", Json::array()}}}});
            QFAIL("a text interval was accepted");
        } catch (const Api::ClientError& e) {
            QCOMPARE(e.status(), 400);
            QVERIFY2(std::string(e.what()).find("system_interval") != std::string::npos, e.what());
        }
        const auto id = submit(ws, QStringLiteral("slow.py"),
                               {QStringLiteral("--system-interval"), QStringLiteral("0"),
                                QStringLiteral("--"), QStringLiteral("--seconds"), QStringLiteral("1.5")});
        QCOMPARE(ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
        QVERIFY(!output(ws, id).isEmpty()); // the run did write its output...
        const auto all = keys(ws, id);
        QVERIFY2(std::none_of(all.begin(), all.end(), [](const QString& k) { return k.startsWith(u"sys/"); }),
                 qPrintable(all.join(u',')));
        QVERIFY(!output(ws, id).contains(QStringLiteral("system metrics")));
        // Run again keeps the run's choice.
        auto again = ws.kiln(
            {QStringLiteral("run"), QStringLiteral("again"), QString::number(id), QStringLiteral("--json")});
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(again.json()["system_interval"].get<double>(), 0.0);
        QCOMPARE(ws.client().run(id)["system_interval"].get<double>(), 0.0);
    }

    void aKilledKilndStoresEachSampleOnce() {
        qputenv("KILN_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
        Test::Workspace ws;
        const auto id = submit(ws, QStringLiteral("slow.py"),
                               {QStringLiteral("--system-interval"), QStringLiteral("0.2"),
                                QStringLiteral("--"), QStringLiteral("--seconds"), QStringLiteral("4")});
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(history(ws, id, "sys/cpu").values.size() >= 3, Test::scaledMs(20000));
        ws.killServer();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // samples pile up meanwhile
        ws.startServer();
        QCOMPARE(ws.kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)}).exitCode, 0);
        const auto cpu = history(ws, id, "sys/cpu");
        // Steps 0..n-1, each once, in order: nothing lost across the restart, nothing stored twice.
        QVERIFY(cpu.steps.size() >= 12);
        for (std::size_t i = 0; i < cpu.steps.size(); ++i)
            QCOMPARE(cpu.steps[i], static_cast<std::int64_t>(i));
    }
};

QTEST_GUILESS_MAIN(TestSystemMetricsE2e)
#include "test_system_metrics_e2e.moc"
