// Datasets through the real CLI and kilnd: versions without duplicated storage, URL registration from a
// local HTTP server (including a 404 and a dropped connection), and a run training on a mounted dataset
// that it cannot modify.
#include "api/Client.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTest>

using namespace Kiln;

static const QString kFashion = QStringLiteral("/usr/share/datasets/fashion-mnist");

static qint64 folderSize(const QString& dir) {
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

class TestDatasetsE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QProcess m_http;
    QString m_base;

    Test::CliResult kiln(const QStringList& args) { return m_ws->kiln(args); }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(QDir(kFashion).exists(), "Debian's dataset-fashion-mnist must be installed");
        m_ws = std::make_unique<Test::Workspace>();
        // Files for the HTTP server.
        QDir().mkpath(m_tmp.path() + QStringLiteral("/www"));
        for (const auto& name : {QStringLiteral("a.bin"), QStringLiteral("b.bin")}) {
            QFile f(m_tmp.path() + QStringLiteral("/www/") + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(300000, name[0].toLatin1()));
        }
        m_http.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(KILN_TEST_DATA "/http_fixture.py"),
                                                          m_tmp.path() + QStringLiteral("/www")});
        QVERIFY(m_http.waitForReadyRead(10000));
        m_base = QStringLiteral("http://127.0.0.1:%1/").arg(QString::fromUtf8(m_http.readLine()).trimmed());
    }
    void cleanupTestCase() {
        m_http.kill();
        m_http.waitForFinished();
        m_ws.reset();
    }

    void versionsShareStorage() {
        auto first = kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                           QStringLiteral("fashion-mnist"), QStringLiteral("--path"), kFashion,
                           QStringLiteral("--json")});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(first.json()["dataset"]["version"].get<int>(), 1);
        const auto blobs = folderSize(m_ws->path() + QStringLiteral("/blobs"));
        QVERIFY(blobs >= 29000000);

        // Identical content again: reported, not duplicated, with or without --new-version.
        for (const auto& extra : {QStringList{}, QStringList{QStringLiteral("--new-version")}}) {
            auto again = kiln(QStringList{QStringLiteral("dataset"), QStringLiteral("register"),
                                          QStringLiteral("--name"), QStringLiteral("fashion-mnist"),
                                          QStringLiteral("--path"), kFashion} +
                              extra);
            QCOMPARE(again.exitCode, 0);
            QVERIFY2(again.out.contains(QStringLiteral("already registered as fashion-mnist version 1")),
                     qPrintable(again.out));
        }

        // Other content under the same name needs --new-version; then v2 shares the unchanged files.
        const QString changed = m_tmp.path() + QStringLiteral("/changed");
        QDir().mkpath(changed);
        for (const auto& f : QDir(kFashion).entryList(QDir::Files))
            QVERIFY(QFile::copy(kFashion + QLatin1Char('/') + f, changed + QLatin1Char('/') + f));
        QFile extra(changed + QStringLiteral("/README.txt"));
        QVERIFY(extra.open(QIODevice::WriteOnly));
        extra.write("Fashion-MNIST, with a note\n");
        extra.close();
        auto refused = kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                             QStringLiteral("fashion-mnist"), QStringLiteral("--path"), changed});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains(QStringLiteral("--new-version")), qPrintable(refused.err));
        auto v2 = kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                        QStringLiteral("fashion-mnist"), QStringLiteral("--path"), changed,
                        QStringLiteral("--new-version"), QStringLiteral("--json")});
        QCOMPARE(v2.exitCode, 0);
        QCOMPARE(v2.json()["dataset"]["version"].get<int>(), 2);
        QCOMPARE(v2.json()["dataset"]["file_count"].get<int>(), 5);
        QVERIFY(folderSize(m_ws->path() + QStringLiteral("/blobs")) - blobs < 1000);

        auto show = kiln({QStringLiteral("dataset"), QStringLiteral("show"),
                          QStringLiteral("fashion-mnist:1"), QStringLiteral("--json")});
        QCOMPARE(show.json()["files"].size(), std::size_t(4));
        QCOMPARE(show.json()["files"][0]["path"].get<std::string>(),
                 std::string("t10k-images-idx3-ubyte.gz"));
        QCOMPARE(show.json()["files"][0]["size"].get<qint64>(),
                 QFileInfo(kFashion + QStringLiteral("/t10k-images-idx3-ubyte.gz")).size());

        QTemporaryDir dest;
        auto dl = kiln({QStringLiteral("dataset"), QStringLiteral("download"),
                        QStringLiteral("fashion-mnist:2"), QStringLiteral("--dest"), dest.path()});
        QCOMPARE(dl.exitCode, 0);
        QFile readme(dest.path() + QStringLiteral("/README.txt"));
        QVERIFY(readme.open(QIODevice::ReadOnly));
        QCOMPARE(readme.readAll(), QByteArray("Fashion-MNIST, with a note\n"));
    }

    void badNamesAreRefused() {
        const QStringList names = {QStringLiteral("a/b"),  QStringLiteral(".."),
                                   QStringLiteral("x..y"), QStringLiteral("tab\there"),
                                   QString(10000, u'n'),   QStringLiteral("-dash")};
        for (const auto& name : names) {
            auto r = kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                           name, QStringLiteral("--path"), kFashion});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(QStringLiteral("dataset name")), qPrintable(r.err.left(200)));
        }
        QCOMPARE(m_ws->client().get("/api/v1/datasets").size(), std::size_t(1));
    }

    void aRegistrationResumesAfterKilndIsKilled() {
        // A registration downloading slowly when kilnd is killed -9: the restarted kilnd resumes it under the
        // same job id (a client following it goes on), and it ends registered, once.
        {
            QFile f(m_tmp.path() + QStringLiteral("/www/slow.bin"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(2 << 20, 's')); // 32 pieces, 50 ms apart: about 1.6 s
        }
        auto& c = m_ws->client();
        auto started =
            c.post("/api/v1/datasets",
                   {{"name", "slow"}, {"sources", {{{"url", m_base.toStdString() + "slow/slow.bin"}}}}});
        const auto job = started["job"].get<std::int64_t>();
        const auto path = "/api/v1/jobs/" + std::to_string(job);
        QTRY_VERIFY_WITH_TIMEOUT(c.get(path)["progress"].value("bytes_done", 0) > 0, 10000);
        m_ws->killServer();
        m_ws->startServer();
        auto& again = m_ws->client();
        QTRY_COMPARE_WITH_TIMEOUT(again.get(path)["state"].get<std::string>(), std::string("succeeded"),
                                  30000);
        QFile log(m_ws->path() + QStringLiteral("/kilnd.log"));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(
            log.readAll().contains(QStringLiteral("resuming job %1 (dataset-register)").arg(job).toUtf8()));
        const auto versions = again.get("/api/v1/datasets/slow")["versions"];
        QCOMPARE(versions.size(), std::size_t(1));
        QCOMPARE(versions[0]["total_size"].get<std::int64_t>(), std::int64_t(2 << 20));
        // A job id nobody made is still a 404; an ended job from before the restart is still there.
        QCOMPARE(again.raw("GET", "/api/v1/jobs/999999").first, 404);
        m_ws->stopServer();
        m_ws->startServer();
        QCOMPARE(m_ws->client().get(path)["state"].get<std::string>(), std::string("succeeded"));
    }

    void registersFromUrls() {
        auto ok =
            kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                  QStringLiteral("web"), QStringLiteral("--url"), m_base + QStringLiteral("a.bin"),
                  QStringLiteral("--url"), m_base + QStringLiteral("flaky/b.bin"), QStringLiteral("--json")});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        QCOMPARE(ok.json()["dataset"]["file_count"].get<int>(), 2);
        QCOMPARE(ok.json()["dataset"]["total_size"].get<int>(), 600000);

        for (const auto& bad : {QStringLiteral("missing/a.bin"), QStringLiteral("drop/a.bin")}) {
            auto r = kiln({QStringLiteral("dataset"), QStringLiteral("register"), QStringLiteral("--name"),
                           QStringLiteral("broken"), QStringLiteral("--url"),
                           m_base + QStringLiteral("b.bin"), QStringLiteral("--url"), m_base + bad});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(m_base + bad), qPrintable(r.err));
            QVERIFY(r.err.contains(bad.startsWith(u'm') ? QStringLiteral("404") : QStringLiteral("dropped")));
        }
        // A wrong expected hash is refused too.
        auto wrongHash = kiln({QStringLiteral("dataset"), QStringLiteral("register"),
                               QStringLiteral("--name"), QStringLiteral("broken"), QStringLiteral("--url"),
                               m_base + QStringLiteral("a.bin#sha256=") + QString(64, u'0')});
        QCOMPARE(wrongHash.exitCode, 2);
        QVERIFY(wrongHash.err.contains(QStringLiteral("SHA-256")));
        auto list =
            kiln({QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        for (const auto& d : list)
            QVERIFY(d["name"] != "broken");
    }

    void runTrainsOnAMountedDatasetItCannotChange() {
        auto sub = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                         QStringLiteral("ds"), QStringLiteral("--source"), QStringLiteral(KILN_SAMPLE_DIR),
                         QStringLiteral("--script"), QStringLiteral("train.py"), QStringLiteral("--json"),
                         QStringLiteral("--"), QStringLiteral("--data-folder"),
                         QStringLiteral("{dataset:fashion-mnist:1}"), QStringLiteral("--limit"),
                         QStringLiteral("1000"), QStringLiteral("--epochs"), QStringLiteral("1")});
        QCOMPARE(sub.exitCode, 0);
        const auto id = QString::number(sub.json()["id"].get<int>());
        auto wait =
            kiln({QStringLiteral("run"), QStringLiteral("wait"), id, QStringLiteral("--show-output")});
        QVERIFY2(wait.exitCode == 0, qPrintable(wait.out + wait.err));
        QVERIFY(wait.out.contains(QStringLiteral("mounted read-only")));
        auto run = kiln({QStringLiteral("run"), QStringLiteral("show"), id, QStringLiteral("--json")}).json();
        QCOMPARE(run["datasets"].size(), std::size_t(1));
        QCOMPARE(run["datasets"][0]["name"].get<std::string>(), std::string("fashion-mnist"));
        QCOMPARE(run["datasets"][0]["version"].get<int>(), 1);
        auto v1 = kiln({QStringLiteral("dataset"), QStringLiteral("show"), QStringLiteral("fashion-mnist:1"),
                        QStringLiteral("--json")})
                      .json();
        QCOMPARE(v1["runs"][0]["id"].get<int>(), id.toInt());

        // A script that tries to modify the mounted folder is refused by the file system.
        auto w =
            kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                  QStringLiteral("ds"), QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/scripts"),
                  QStringLiteral("--script"), QStringLiteral("write_dataset.py"), QStringLiteral("--json"),
                  QStringLiteral("--"), QStringLiteral("{dataset:fashion-mnist}")});
        QCOMPARE(w.exitCode, 0);
        auto out = kiln({QStringLiteral("run"), QStringLiteral("wait"),
                         QString::number(w.json()["id"].get<int>()), QStringLiteral("--show-output")});
        QVERIFY2(out.out.contains(QStringLiteral("write refused")), qPrintable(out.out));
        QVERIFY(out.out.contains(QStringLiteral("create refused")));
        QVERIFY(!out.out.contains(QStringLiteral("SUCCEEDED")));
        // And the stored dataset is intact.
        QTemporaryDir dest;
        QCOMPARE(kiln({QStringLiteral("dataset"), QStringLiteral("download"),
                       QStringLiteral("fashion-mnist:1"), QStringLiteral("--dest"), dest.path()})
                     .exitCode,
                 0);
        QCOMPARE(QFileInfo(dest.path() + QStringLiteral("/train-labels-idx1-ubyte.gz")).size(),
                 QFileInfo(kFashion + QStringLiteral("/train-labels-idx1-ubyte.gz")).size());
    }

    void aNewWorkspaceHasTheSampleData() {
        // The first command on a new workspace starts its kilnd and registers Debian's Fashion-MNIST files as
        // dataset fashion-mnist, saying so once; the README's {dataset:fashion-mnist} runs then work from
        // the command line (not only from the studio).
        QTemporaryDir fresh;
        const QString ws = fresh.filePath(QStringLiteral("ws"));
        const QStringList at = {QStringLiteral("--workspace"), ws};
        auto first = Test::runKiln(at + QStringList{QStringLiteral("dataset"), QStringLiteral("list")});
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        QVERIFY2(first.err.contains(QStringLiteral("registered the Fashion-MNIST sample")),
                 qPrintable(first.err));
        QVERIFY2(first.out.contains(QStringLiteral("fashion-mnist")), qPrintable(first.out));
        auto show =
            Test::runKiln(at + QStringList{QStringLiteral("dataset"), QStringLiteral("show"),
                                           QStringLiteral("fashion-mnist"), QStringLiteral("--json")});
        QVERIFY2(show.exitCode == 0, qPrintable(show.err));
        QCOMPARE(show.json()["file_count"].get<int>(), 4);
        // Restarted, it is not registered again, nor said again.
        QCOMPARE(Test::runKiln(at + QStringList{QStringLiteral("server"), QStringLiteral("stop")}).exitCode,
                 0);
        auto again = Test::runKiln(
            at + QStringList{QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--json")});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        QVERIFY2(!again.err.contains(QStringLiteral("Fashion-MNIST")), qPrintable(again.err));
        int latest = 0;
        for (const auto& d : again.json())
            if (d["name"] == "fashion-mnist")
                latest = d["latest_version"].get<int>();
        QCOMPARE(latest, 1); // one version: registered once
        Test::runKiln(at + QStringList{QStringLiteral("server"), QStringLiteral("stop")});
    }

    void missingDatasetFailsAtSubmit() {
        auto r = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                       QStringLiteral("ds"), QStringLiteral("--source"), QStringLiteral(KILN_SAMPLE_DIR),
                       QStringLiteral("--script"), QStringLiteral("train.py"), QStringLiteral("--"),
                       QStringLiteral("--data-folder"), QStringLiteral("{dataset:no-such-data}")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("dataset no-such-data does not exist")), qPrintable(r.err));
        // It names what there is and how to register one.
        QVERIFY2(r.err.contains(QStringLiteral("the workspace has: ")) &&
                     r.err.contains(QStringLiteral("fashion-mnist")) &&
                     r.err.contains(QStringLiteral("kiln dataset register --name no-such-data --path")),
                 qPrintable(r.err));
        r = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                  QStringLiteral("ds"), QStringLiteral("--source"), QStringLiteral(KILN_SAMPLE_DIR),
                  QStringLiteral("--script"), QStringLiteral("train.py"), QStringLiteral("--"),
                  QStringLiteral("{dataset:fashion-mnist:9}")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("version 9 does not exist")));
    }
};

QTEST_GUILESS_MAIN(TestDatasetsE2e)
#include "test_datasets_e2e.moc"
