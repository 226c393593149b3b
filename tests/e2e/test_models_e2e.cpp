// The model registry through the real `kiln` CLI and kilnd: versions and lineage, registration guards,
// verified downloads of models and run folders (folder, zip, tar.gz), a corrupted blob, unsafe names from
// the server, and a download resumed after the connection drops (through a real TCP proxy that cuts it).
#include "api/Client.h"
#include "TestSupport.h"
#include "transfer/Download.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTest>
#include <QThread>

#include <csignal>

#include <set>
#include <thread>

using namespace Kiln;

class TestModelsE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QString m_source;
    std::int64_t m_runA = 0, m_runB = 0;

    Test::CliResult kiln(const QStringList& args) { return m_ws->kiln(args); }
    std::int64_t runModel(int seed, int exitCode = 0, qint64 size = 3000000) {
        auto r =
            kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                  QStringLiteral("models"), QStringLiteral("--source"), m_source, QStringLiteral("--script"),
                  QStringLiteral("model.py"), QStringLiteral("--json"), QStringLiteral("--"),
                  QStringLiteral("--seed"), QString::number(seed), QStringLiteral("--exit-code"),
                  QString::number(exitCode), QStringLiteral("--size"), QString::number(size)});
        if (r.exitCode != 0)
            return 0;
        const auto id = r.json()["id"].get<std::int64_t>();
        kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id)});
        return id;
    }
    Json runFiles(std::int64_t id) {
        return kiln({QStringLiteral("run"), QStringLiteral("files"), QString::number(id),
                     QStringLiteral("--json")})
            .json();
    }
    static int blobCount(const QString& ws) {
        int n = 0;
        QDirIterator it(ws + QStringLiteral("/blobs"), QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            it.next();
            ++n;
        }
        return n;
    }

private Q_SLOTS:
    void initTestCase() {
        m_ws = std::make_unique<Test::Workspace>();
        m_source = Test::sourceWith(m_tmp, QStringLiteral("src"), {QStringLiteral("model.py")});
        m_runA = runModel(1);
        m_runB = runModel(2);
        QVERIFY(m_runA > 0 && m_runB > 0);
        QCOMPARE(m_ws->client().run(m_runB)["status"].get<std::string>(), std::string("Completed"));
    }
    void cleanupTestCase() { m_ws.reset(); }

    void registeringTwiceMakesVersionsWithLineage() {
        const int blobsBefore = blobCount(m_ws->path());
        auto v1 = kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                        QString::number(m_runA), QStringLiteral("--name"), QStringLiteral("fashion"),
                        QStringLiteral("--path"), QStringLiteral("outputs/model"), QStringLiteral("--tag"),
                        QStringLiteral("stage=dev"), QStringLiteral("--description"),
                        QStringLiteral("first try"), QStringLiteral("--json")});
        QVERIFY2(v1.exitCode == 0, qPrintable(v1.err));
        auto v2 = kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                        QString::number(m_runB), QStringLiteral("--name"), QStringLiteral("fashion"),
                        QStringLiteral("--path"), QStringLiteral("outputs/model"), QStringLiteral("--json")});
        QVERIFY2(v2.exitCode == 0, qPrintable(v2.err));
        QCOMPARE(v1.json()["version"].get<int>(), 1);
        QCOMPARE(v2.json()["version"].get<int>(), 2);
        // The model's bytes are the run's blobs: registering stored nothing new.
        QCOMPARE(blobCount(m_ws->path()), blobsBefore);

        auto show1 = kiln({QStringLiteral("model"), QStringLiteral("show"), QStringLiteral("fashion:1"),
                           QStringLiteral("--json")})
                         .json();
        auto show2 = kiln({QStringLiteral("model"), QStringLiteral("show"), QStringLiteral("fashion"),
                           QStringLiteral("--json")})
                         .json();
        QCOMPARE(show2["version"].get<int>(), 2); // no version: the latest
        QCOMPARE(show1["lineage"]["run"]["id"].get<std::int64_t>(), m_runA);
        QCOMPARE(show2["lineage"]["run"]["id"].get<std::int64_t>(), m_runB);
        QCOMPARE(show1["lineage"]["run"]["experiment"].get<std::string>(), std::string("models"));
        QCOMPARE(show1["lineage"]["snapshot"].get<std::string>(),
                 m_ws->client().run(m_runA)["snapshot"].get<std::string>());
        QCOMPARE(show1["lineage"]["metrics"]["loss"].get<double>(), 1.0);
        QCOMPARE(show2["lineage"]["metrics"]["loss"].get<double>(), 0.5);
        QCOMPARE(show1["tags"]["stage"].get<std::string>(), std::string("dev"));
        QCOMPARE(show1["description"].get<std::string>(), std::string("first try"));
        QCOMPARE(show1["framework"].get<std::string>(), std::string("numpy"));
        // Files are named relative to the registered folder and hash like the run's files.
        std::map<std::string, std::string> runHashes;
        for (const auto& f : runFiles(m_runA))
            runHashes[f["path"].get<std::string>()] = f["sha256"].get<std::string>();
        QCOMPARE(show1["files"].size(), std::size_t(2));
        for (const auto& f : show1["files"])
            QCOMPARE(f["sha256"].get<std::string>(),
                     runHashes.at("outputs/model/" + f["path"].get<std::string>()));
        // The run knows what was registered from it.
        QCOMPARE(m_ws->client().run(m_runA)["models"][0]["name"].get<std::string>(), std::string("fashion"));

        // One file can be a model too, under its own name.
        auto single =
            kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                  QString::number(m_runA), QStringLiteral("--name"), QStringLiteral("single"),
                  QStringLiteral("--path"), QStringLiteral("outputs/single.txt"), QStringLiteral("--json")});
        QVERIFY2(single.exitCode == 0, qPrintable(single.err));
        QCOMPARE(single.json()["files"][0]["path"].get<std::string>(), std::string("single.txt"));

        auto list = kiln({QStringLiteral("model"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        QCOMPARE(list.size(), std::size_t(2));
        QCOMPARE(list[0]["name"].get<std::string>(), std::string("fashion"));
        QCOMPARE(list[0]["latest_version"].get<int>(), 2);

        // The models an experiment registers to (what the studio proposes), newest first; they follow a
        // rename.
        auto ofExperiment = m_ws->client().get("/api/v1/models?experiment=models");
        QCOMPARE(ofExperiment.size(), std::size_t(2));
        QCOMPARE(ofExperiment[0]["name"].get<std::string>(), std::string("single"));
        QVERIFY(m_ws->client().get("/api/v1/models?experiment=nothing-here").empty());
        m_ws->client().request("PATCH", "/api/v1/experiments/models", {{"name", "models-renamed"}});
        QCOMPARE(m_ws->client().get("/api/v1/models?experiment=models-renamed").size(), std::size_t(2));
        m_ws->client().request("PATCH", "/api/v1/experiments/models-renamed", {{"name", "models"}});
    }

    void editingAndArchivingAVersion() {
        auto up = kiln({QStringLiteral("model"), QStringLiteral("update"), QStringLiteral("fashion:2"),
                        QStringLiteral("--description"), QStringLiteral("overfit"), QStringLiteral("--tag"),
                        QStringLiteral("reviewed=no"), QStringLiteral("--archive")});
        QVERIFY2(up.exitCode == 0, qPrintable(up.err));
        auto v2 = kiln({QStringLiteral("model"), QStringLiteral("show"), QStringLiteral("fashion:2"),
                        QStringLiteral("--json")})
                      .json();
        QCOMPARE(v2["archived"].get<bool>(), true);
        QCOMPARE(v2["description"].get<std::string>(), std::string("overfit"));
        QCOMPARE(v2["tags"]["reviewed"].get<std::string>(), std::string("no"));
        // An archived version is no longer what "latest" means.
        auto latest = kiln({QStringLiteral("model"), QStringLiteral("show"), QStringLiteral("fashion"),
                            QStringLiteral("--json")})
                          .json();
        QCOMPARE(latest["version"].get<int>(), 1);
        QVERIFY(kiln({QStringLiteral("model"), QStringLiteral("update"), QStringLiteral("fashion:2"),
                      QStringLiteral("--unarchive")})
                    .exitCode == 0);
    }

    void registrationRefusesBadInputAndUnfinishedRuns() {
        const auto failed = runModel(3, 1);
        QVERIFY(failed > 0);
        QCOMPARE(m_ws->client().run(failed)["status"].get<std::string>(), std::string("Failed"));
        auto reg = [&](const QString& run, const QString& name, const QString& path, bool force = false) {
            QStringList args{QStringLiteral("model"),  QStringLiteral("register"),
                             QStringLiteral("--run"),  run,
                             QStringLiteral("--name"), name,
                             QStringLiteral("--path"), path};
            if (force)
                args << QStringLiteral("--force");
            return kiln(args);
        };
        auto notDone =
            reg(QString::number(failed), QStringLiteral("fashion"), QStringLiteral("outputs/model"));
        QCOMPARE(notDone.exitCode, 2);
        QVERIFY2(notDone.err.contains(QStringLiteral("not Completed")), qPrintable(notDone.err));
        for (const auto& [run, name, path, wanted] :
             {std::tuple{QStringLiteral("999"), QStringLiteral("x"), QStringLiteral("outputs/model"),
                         QStringLiteral("no such run")},
              std::tuple{QString::number(m_runA), QStringLiteral("x"), QStringLiteral("../../etc/passwd"),
                         QStringLiteral("without '..'")},
              std::tuple{QString::number(m_runA), QStringLiteral("x"), QStringLiteral("/etc/passwd"),
                         QStringLiteral("without '..'")},
              std::tuple{QString::number(m_runA), QStringLiteral("a/b"), QStringLiteral("outputs/model"),
                         QStringLiteral("model name")},
              std::tuple{QString::number(m_runA), QStringLiteral(".."), QStringLiteral("outputs/model"),
                         QStringLiteral("model name")},
              std::tuple{QString::number(m_runA), QStringLiteral("x"), QStringLiteral("outputs/nothing"),
                         QStringLiteral("no file or folder")}}) {
            auto r = reg(run, name, path);
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(wanted), qPrintable(r.err));
        }
        // Nothing was created by any of that.
        auto list = kiln({QStringLiteral("model"), QStringLiteral("list"), QStringLiteral("--json")}).json();
        QCOMPARE(list.size(), std::size_t(2));
        QCOMPARE(list[0]["versions"].get<int>(), 2);
        auto forced =
            reg(QString::number(failed), QStringLiteral("fashion"), QStringLiteral("outputs/model"), true);
        QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
        QVERIFY(forced.out.contains(QStringLiteral("fashion:3")));
    }

    void downloadsMatchTheOriginalsInEveryFormat() {
        QTemporaryDir out;
        const auto dest = [&](const QString& n) { return out.filePath(n); };
        auto model = kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("fashion:1"),
                           QStringLiteral("--dest"), dest(QStringLiteral("model"))});
        QVERIFY2(model.exitCode == 0, qPrintable(model.err));
        auto folder =
            kiln({QStringLiteral("run"), QStringLiteral("download"), QString::number(m_runA),
                  QStringLiteral("outputs/model"), QStringLiteral("--dest"), dest(QStringLiteral("run"))});
        QVERIFY2(folder.exitCode == 0, qPrintable(folder.err));
        const auto modelTree = Test::fileHashes(dest(QStringLiteral("model")));
        QCOMPARE(modelTree.size(), std::size_t(2));
        QCOMPARE(Test::fileHashes(dest(QStringLiteral("run")) + QStringLiteral("/model")), modelTree);
        // Against the hashes kilnd took from the files the run wrote.
        for (const auto& f : runFiles(m_runA)) {
            const auto path = QString::fromStdString(f["path"].get<std::string>());
            if (path.startsWith(QStringLiteral("outputs/model/")))
                QCOMPARE(modelTree.at(path.mid(14)),
                         QByteArray::fromStdString(f["sha256"].get<std::string>()));
        }
        // The weights are the bytes the script wrote (random.Random(1).randbytes(3000000)).
        QProcess py;
        py.start(QStringLiteral("python3"),
                 {QStringLiteral("-c"),
                  QStringLiteral("import random,hashlib;print(hashlib.sha256(random.Random(1)."
                                 "randbytes(3000000)).hexdigest())")});
        QVERIFY(py.waitForFinished(30000));
        QCOMPARE(modelTree.at(QStringLiteral("weights.npz")), py.readAllStandardOutput().trimmed());

        for (const auto& format : {QStringLiteral("zip"), QStringLiteral("tar.gz")}) {
            auto a = kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("fashion:1"),
                           QStringLiteral("--dest"), dest(QStringLiteral("archives")),
                           QStringLiteral("--format"), format, QStringLiteral("--json")});
            QVERIFY2(a.exitCode == 0, qPrintable(a.err));
            const auto archive = QString::fromStdString(a.json()["written"].get<std::string>());
            QCOMPARE(archive, dest(QStringLiteral("archives/fashion-1.") + format));
            const auto unpacked = dest(QStringLiteral("unpacked-") + format);
            QProcess unpack;
            unpack.start(
                QStringLiteral("python3"),
                {QStringLiteral("-c"),
                 QStringLiteral("import shutil,sys; shutil.unpack_archive(sys.argv[1], sys.argv[2])"),
                 archive, unpacked});
            QVERIFY(unpack.waitForFinished(30000));
            QCOMPARE(unpack.exitCode(), 0);
            QCOMPARE(Test::fileHashes(unpacked + QStringLiteral("/fashion-1")), modelTree);
        }
        // No staging leftovers anywhere.
        QDirIterator it(out.path(), {QStringLiteral("*kiln*")}, QDir::AllEntries | QDir::Hidden,
                        QDirIterator::Subdirectories);
        QVERIFY2(!it.hasNext(), qPrintable(it.hasNext() ? it.next() : QString()));
    }

    void clientRefusesUnsafeNamesFromTheServer() {
        QTemporaryDir out;
        const auto file = runFiles(m_runA)[0];
        for (const auto& name : {std::string("../escape.txt"), std::string("/tmp/absolute.txt"),
                                 std::string("a/../../b.txt"), std::string("")}) {
            Transfer::RemoteFile f{name, file["sha256"].get<std::string>(), file["size"].get<std::int64_t>(),
                                   Transfer::fileUrl("/api/v1/runs/" + std::to_string(m_runA) + "/files",
                                                     file["path"].get<std::string>())};
            const auto dest = out.filePath(QStringLiteral("d")).toStdString();
            bool refused = false;
            try {
                Transfer::download(m_ws->client(), {f}, dest);
            } catch (const Api::ClientError& e) {
                refused = std::string(e.what()).find("refusing") != std::string::npos;
            }
            QVERIFY2(refused, name.c_str());
            QVERIFY(!QFile::exists(out.filePath(QStringLiteral("d"))));
            QVERIFY(!QFile::exists(out.filePath(QStringLiteral("escape.txt"))));
        }
    }

    void aCanceledDownloadLeavesNothing() {
        auto version = m_ws->client().get("/api/v1/models/fashion/versions/1");
        auto files = Transfer::remoteFiles(version["files"], "/api/v1/models/fashion/versions/1/files");
        QTemporaryDir out;
        for (auto format : {Transfer::Format::Folder, Transfer::Format::Zip}) {
            Transfer::Options options;
            options.format = format;
            options.window = 256 << 10; // several ranges, so the cancel lands mid-file
            int calls = 0;
            options.onProgress = [&](const Transfer::Progress& p) { return ++calls < 2 || p.bytesDone == 0; };
            const auto dest = out.filePath(format == Transfer::Format::Folder ? QStringLiteral("folder")
                                                                              : QStringLiteral("m.zip"));
            QString error;
            try {
                Transfer::download(m_ws->client(), files, dest.toStdString(), options);
            } catch (const Api::ClientError& e) {
                error = QString::fromUtf8(e.what());
            }
            QCOMPARE(error, QStringLiteral("download canceled"));
            QVERIFY(QDir(out.path()).isEmpty(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot));
        }
    }

    // Two runs' model folders in one download: large files go on two lanes (two hashing threads); the result
    // is the same bytes, and a bad file or a cancel on either lane leaves nothing behind.
    void severalLargeFilesAreFetchedOnTwoLanesAllOrNothing() {
        std::vector<Transfer::RemoteFile> files;
        std::map<QString, QByteArray> expected;
        for (auto [run, prefix] :
             {std::pair{m_runA, std::string("a/")}, std::pair{m_runB, std::string("b/")}})
            for (const auto& f : runFiles(run)) {
                const auto path = f["path"].get<std::string>();
                if (path.rfind("outputs/model/", 0) != 0)
                    continue;
                files.push_back({prefix + path.substr(14), f["sha256"].get<std::string>(),
                                 f["size"].get<std::int64_t>(),
                                 Transfer::fileUrl("/api/v1/runs/" + std::to_string(run) + "/files", path)});
                expected[QString::fromStdString(files.back().path)] =
                    QByteArray::fromStdString(files.back().sha256);
            }
        QCOMPARE(files.size(), std::size_t(4));
        QTemporaryDir out;
        Transfer::Options options;
        options.window = 256 << 10; // each weights file (3 MB) is a dozen ranges: a lane of its own
        std::set<std::thread::id> hashers;
        std::int64_t lastDone = 0;
        bool monotonic = true;
        options.onProgress = [&](const Transfer::Progress& p) {
            hashers.insert(std::this_thread::get_id());
            monotonic = monotonic && p.bytesDone >= lastDone && p.bytesDone <= p.bytesTotal;
            lastDone = p.bytesDone;
            return true;
        };
        const auto dest = out.filePath(QStringLiteral("both"));
        auto result = Transfer::download(m_ws->client(), files, dest.toStdString(), options);
        QCOMPARE(Test::fileHashes(dest), expected);
        QCOMPARE(result.files, std::int64_t(4));
        QCOMPARE(lastDone, result.bytes);
        QVERIFY(monotonic);
        QCOMPARE(hashers.size(), std::size_t(2));

        // b/weights.npz is listed with another hash (as if its blob were damaged): the error names it, and
        // neither lane leaves a file (the other lane's are verified and staged, then removed).
        auto damaged = files;
        for (auto& f : damaged)
            if (f.path == "b/weights.npz")
                f.sha256 = files.front().sha256 == f.sha256 ? std::string(64, 'a') : files.front().sha256;
        QString error;
        try {
            Transfer::download(m_ws->client(), damaged, out.filePath(QStringLiteral("bad")).toStdString(),
                               options);
        } catch (const Api::ClientError& e) {
            error = QString::fromUtf8(e.what());
        }
        QVERIFY2(error.startsWith(QStringLiteral("b/weights.npz does not match its SHA-256")),
                 qPrintable(error));
        QVERIFY(!QFile::exists(out.filePath(QStringLiteral("bad"))));

        // Canceled halfway: nothing left either.
        options.onProgress = [&](const Transfer::Progress& p) { return p.bytesDone < p.bytesTotal / 2; };
        error.clear();
        try {
            Transfer::download(m_ws->client(), files, out.filePath(QStringLiteral("half")).toStdString(),
                               options);
        } catch (const Api::ClientError& e) {
            error = QString::fromUtf8(e.what());
        }
        QCOMPARE(error, QStringLiteral("download canceled"));
        QVERIFY(!QFile::exists(out.filePath(QStringLiteral("half"))));
        QCOMPARE(QDir(out.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{QStringLiteral("both")});
    }

    // Ctrl-C during `kiln model download` cancels it and leaves nothing; what a download killed outright
    // leaves (its staging folder) is removed by the next download into that folder.
    void anInterruptedDownloadLeavesNothing() {
        const auto run = runModel(3, 0, 80000000);
        QVERIFY(run > 0);
        QCOMPARE(kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                       QString::number(run), QStringLiteral("--name"), QStringLiteral("big"),
                       QStringLiteral("--path"), QStringLiteral("outputs/model")})
                     .exitCode,
                 0);
        QTemporaryDir out;
        const auto dest = out.filePath(QStringLiteral("big"));
        const auto startDownload = [&](QProcess& p) {
            p.start(Test::binDir() + QStringLiteral("/kiln"),
                    {QStringLiteral("--workspace"), m_ws->path(), QStringLiteral("model"),
                     QStringLiteral("download"), QStringLiteral("big"), QStringLiteral("--dest"), dest});
            QVERIFY(p.waitForStarted());
            // The staging folder appears as the download starts.
            QDeadlineTimer deadline(30000);
            while (!deadline.hasExpired() &&
                   QDir(dest).isEmpty(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot))
                QThread::usleep(500);
            QVERIFY(!deadline.hasExpired());
        };
        {
            QProcess p;
            startDownload(p);
            ::kill(static_cast<pid_t>(p.processId()), SIGINT);
            QVERIFY(p.waitForFinished(60000));
            const auto err = QString::fromUtf8(p.readAllStandardError());
            QCOMPARE(p.exitStatus(), QProcess::NormalExit);
            QCOMPARE(p.exitCode(), 2);
            QVERIFY2(err.contains(QStringLiteral("download interrupted: nothing was written")),
                     qPrintable(err));
            QVERIFY2(!QFile::exists(dest), qPrintable(dest));
        }
        {
            QProcess p;
            startDownload(p);
            p.kill(); // SIGKILL: nothing can clean up
            QVERIFY(p.waitForFinished(60000));
        }
        const auto left = QDir(dest).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
        QCOMPARE(left.size(), 1);
        QVERIFY2(left[0].startsWith(QStringLiteral(".kiln-download-")), qPrintable(left[0]));
        auto again = kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("big"),
                           QStringLiteral("--dest"), dest});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        QCOMPARE(QDir(dest).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 (QStringList{QStringLiteral("variables"), QStringLiteral("weights.npz")}));
    }

    void downloadResumesAfterTheConnectionDrops() {
        // A real TCP proxy in front of kilnd cuts the answers of the first two connections (the download's
        // two range requests in flight: one of them carries the first 8 MB of the biggest file) after 1 MB.
        QProcess proxy;
        const auto port = QString::fromStdString(m_ws->url()).section(QLatin1Char(':'), -1);
        proxy.start(QStringLiteral("python3"), {QStringLiteral(KILN_TEST_DATA "/drop_proxy.py"), port,
                                                QString::number(1 << 20), QStringLiteral("2")});
        QVERIFY(proxy.waitForReadyRead(10000));
        const auto proxyPort = proxy.readLine().trimmed();
        Api::Client viaProxy("http://127.0.0.1:" + proxyPort.toStdString(), m_ws->token());
        auto version = m_ws->client().get("/api/v1/models/fashion/versions/1");
        auto files = Transfer::remoteFiles(version["files"], "/api/v1/models/fashion/versions/1/files");
        std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.size > b.size; }); // big first
        QTemporaryDir out;
        auto result = Transfer::download(viaProxy, files, out.filePath(QStringLiteral("m")).toStdString());
        proxy.kill();
        proxy.waitForFinished();
        QVERIFY(result.resumes >= 1);
        QCOMPARE(result.bytes, version["total_size"].get<std::int64_t>());
        QTemporaryDir direct;
        QCOMPARE(kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("fashion:1"),
                       QStringLiteral("--dest"), direct.path()})
                     .exitCode,
                 0);
        QCOMPARE(Test::fileHashes(out.filePath(QStringLiteral("m"))), Test::fileHashes(direct.path()));
    }

    void corruptedBlobIsDetectedAndNothingIsWritten() {
        auto single = kiln({QStringLiteral("model"), QStringLiteral("show"), QStringLiteral("single"),
                            QStringLiteral("--json")})
                          .json();
        const auto hash = QString::fromStdString(single["files"][0]["sha256"].get<std::string>());
        QFile blob(m_ws->path() + QStringLiteral("/blobs/") + hash.left(2) + QLatin1Char('/') + hash);
        QFile::setPermissions(blob.fileName(), QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(blob.open(QIODevice::ReadWrite));
        auto bytes = blob.readAll();
        bytes[0] = static_cast<char>(bytes[0] ^ 0x20);
        blob.seek(0);
        blob.write(bytes);
        blob.close();
        QTemporaryDir out;
        for (const auto& format : {QStringLiteral("folder"), QStringLiteral("zip")}) {
            const auto dest = out.filePath(format);
            auto r = kiln({QStringLiteral("model"), QStringLiteral("download"), QStringLiteral("single"),
                           QStringLiteral("--dest"), dest, QStringLiteral("--format"), format});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(QStringLiteral("SHA-256")) && r.err.contains(QStringLiteral("damaged")),
                     qPrintable(r.err));
            QVERIFY2(!QFile::exists(dest) ||
                         QDir(dest).isEmpty(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                     qPrintable(dest));
        }
    }
};

QTEST_GUILESS_MAIN(TestModelsE2e)
#include "test_models_e2e.moc"
