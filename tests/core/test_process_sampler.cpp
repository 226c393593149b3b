// The run supervisor's view of a process tree (core/runs/ProcessSampler), on real processes: a child that
// burns a core, then holds 200 MB and writes 5 MB; a grandchild is counted with it; an ended tree is empty.
// And its view of GPUs (core/runs/GpuSampler), against the NVML stand-in library the tests build.
#include "runs/GpuSampler.h"
#include "runs/ProcessSampler.h"

#include <QProcess>
#include <QScopeGuard>
#include <QTest>

#include <thread>

using Kiln::Runs::GpuSampler;
using Kiln::Runs::ProcessSampler;

class TestProcessSampler : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void followsATreeAsItWorks() {
        // Phase 1 (1.5 s): a busy loop. Phase 2: 200 MB touched, 5 MB written, a sleeping grandchild; then it
        // waits for its stdin to close.
        QProcess p;
        p.start(QStringLiteral("python3"),
                {QStringLiteral("-c"),
                 QStringLiteral("import os, subprocess, sys, time\n"
                                "end = time.time() + 1.5\n"
                                "while time.time() < end: pass\n"
                                "block = bytearray(200 * 1024 * 1024)\n"
                                "for i in range(0, len(block), 4096): block[i] = 1\n"
                                "with open(os.devnull, 'wb') as f: f.write(b'x' * 5 * 1024 * 1024)\n"
                                "child = subprocess.Popen(['sleep', '30'])\n"
                                "print('ready', flush=True)\n"
                                "sys.stdin.read()\n"
                                "child.kill()\n")});
        QVERIFY(p.waitForStarted());
        ProcessSampler sampler(static_cast<pid_t>(p.processId()));
        auto first = sampler.sample();
        QCOMPARE(first.pids.size(), std::size_t(1));
        QCOMPARE(first.cpuCores, 0.0); // no previous sample to compare with
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        auto busy = sampler.sample();
        // About one core (tolerant: this machine is shared).
        QVERIFY2(busy.cpuCores > 0.3 && busy.cpuCores < 1.5, qPrintable(QString::number(busy.cpuCores)));
        // User and system time together: where the clock cannot be read in user space (some virtual
        // machines), the loop's time.time() calls are system calls and much of the busy second counts as
        // system time.
        QVERIFY2(busy.cpuUserSeconds + busy.cpuSystemSeconds > 0.3,
                 qPrintable(QStringLiteral("user %1 s, system %2 s")
                                .arg(busy.cpuUserSeconds)
                                .arg(busy.cpuSystemSeconds)));
        QVERIFY(busy.cpuUserSeconds > 0);
        QVERIFY(busy.threads >= 1);
        QVERIFY(busy.openFiles >= 3);

        QVERIFY(p.waitForReadyRead(30000));
        QVERIFY(p.readAll().contains("ready"));
        auto holding = sampler.sample();
        QCOMPARE(holding.pids.size(), std::size_t(2)); // the grandchild too
        QVERIFY2(holding.rssBytes > 200ll * 1024 * 1024, qPrintable(QString::number(holding.rssBytes)));
        QVERIFY(holding.peakRssBytes >= holding.rssBytes);
        QVERIFY2(holding.writeBytes >= 5ll * 1024 * 1024, qPrintable(QString::number(holding.writeBytes)));
        QVERIFY(holding.readBytes > 0);

        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        auto ended = sampler.sample();
        QVERIFY(ended.pids.empty());
        QCOMPARE(ended.rssBytes, 0);
    }

    // GPUs through NVML, read from the STAND-IN library (tests/standin: no GPU on this machine), acting as
    // the drivers Kiln meets do: the _v3 process list in 24-byte entries; R535's in 32-byte ones (which a
    // caller expecting 24 misreads, and whose buffer the driver overruns); the versioned detail list of
    // R550 and later; and each with 30 more processes on the GPU than a first guess has room for.
    void readsGpusThroughNvml_data() {
        QTest::addColumn<QByteArray>("mode");
        for (const char* mode : {"", "r535", "detail", "r535,many", "detail,many", "many"})
            QTest::newRow(*mode ? mode : "v3") << QByteArray(mode);
    }
    void readsGpusThroughNvml() {
        QFETCH(QByteArray, mode);
        qputenv("KILN_NVML_STANDIN_MODE", mode);
        auto unset = qScopeGuard([] { qunsetenv("KILN_NVML_STANDIN_MODE"); });
        qputenv("KILN_NVML_LIBRARY", KILN_NVML_STANDIN);
        std::string why;
        auto gpus = GpuSampler::load(why);
        QVERIFY2(gpus, why.c_str());
        QCOMPARE(gpus->count(), 2u);
        QProcess child; // the stand-in puts this process's children on GPU 0
        child.start(QStringLiteral("sleep"), {QStringLiteral("30")});
        QVERIFY(child.waitForStarted());
        const auto pid = static_cast<pid_t>(child.processId());
        auto readings = gpus->read({pid});
        QCOMPARE(readings.size(), std::size_t(2));
        QCOMPARE(readings[0].index, 0u);
        QVERIFY(readings[0].used);
        QCOMPARE(readings[0].runMemoryMb, 1536.0); // pid 1's 999 MiB on the same GPU is not the run's
        QCOMPARE(readings[0].utilization, 73.0);
        QCOMPARE(readings[0].temperatureC, 64.0);
        QCOMPARE(readings[0].powerW, 187.5);
        QVERIFY(!readings[1].used);
        QCOMPARE(readings[1].runMemoryMb, 0.0);
        // Another tree: the GPU is not its.
        readings = gpus->read({pid + 100000});
        QVERIFY(!readings[0].used);
        QCOMPARE(readings[0].runMemoryMb, 0.0);
        child.kill();
        child.waitForFinished();

        // No library, or one that is not NVML: no sampler, and a reason a user can act on.
        qputenv("KILN_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
        QVERIFY(!GpuSampler::load(why));
        QVERIFY2(why.find("no NVIDIA driver library (/nonexistent/libnvidia-ml.so.1)") != std::string::npos,
                 why.c_str());
        qputenv("KILN_NVML_LIBRARY", "libm.so.6");
        QVERIFY(!GpuSampler::load(why));
        QVERIFY2(why.find("lacks the NVML functions") != std::string::npos, why.c_str());
        qunsetenv("KILN_NVML_LIBRARY");
    }
};

QTEST_GUILESS_MAIN(TestProcessSampler)
#include "test_process_sampler.moc"
