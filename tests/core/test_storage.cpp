// Storage building blocks: schema migrations, the content-addressed blob store, snapshots, path safety
// and URL decoding used by the server's routing.
#include "api/Http.h"
#include "runs/RunStore.h"
#include "runs/Snapshot.h"
#include "store/BlobStore.h"
#include "store/Database.h"
#include "store/Schema.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <filesystem>
#include <fstream>
#include <QTemporaryDir>
#include <QTest>

namespace fs = std::filesystem;
using namespace Kiln;

static void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

class TestStorage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void databaseIsMigratedToTheLatestSchema() {
        QTemporaryDir dir;
        const fs::path file = dir.path().toStdString() + "/kiln.db";
        {
            Store::Database db(file);
            QCOMPARE(db.schemaVersion(), static_cast<int>(Store::schemaMigrations().size()));
            auto lock = db.lock();
            auto st = db.prepare("PRAGMA journal_mode");
            QVERIFY(st.step());
            QCOMPARE(QString::fromStdString(st.text(0)), QStringLiteral("wal"));
        }
        // Reopening does not migrate again (and keeps data).
        Store::Database again(file);
        QCOMPARE(again.schemaVersion(), static_cast<int>(Store::schemaMigrations().size()));
    }

    void refusesANewerSchema() {
        QTemporaryDir dir;
        const fs::path file = dir.path().toStdString() + "/kiln.db";
        {
            Store::Database db(file);
            db.exec("PRAGMA user_version=999");
        }
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, Store::Database db(file));
    }

    void blobsAreStoredOnceByContent() {
        QTemporaryDir dir;
        Store::BlobStore blobs(dir.path().toStdString() + "/blobs");
        const fs::path a = dir.path().toStdString() + "/a.txt", b = dir.path().toStdString() + "/b.txt";
        write(a, "same bytes");
        write(b, "same bytes");
        const auto ha = blobs.putFile(a), hb = blobs.putFile(b);
        QCOMPARE(ha, hb);
        QCOMPARE(ha, Util::sha256Hex("same bytes"));
        QVERIFY(blobs.has(ha));
        QCOMPARE(Util::readFile(blobs.pathOf(ha)), std::string("same bytes"));
        QVERIFY_THROWS_EXCEPTION(UserError, blobs.putVerified("other bytes", ha));
        QVERIFY(!blobs.has(Util::sha256Hex("other bytes")));
        QVERIFY_THROWS_EXCEPTION(UserError, blobs.pathOf("../../etc/passwd"));
    }

    void snapshotIsDeterministicAndSkipsOutputs() {
        QTemporaryDir dir;
        const fs::path src = dir.path().toStdString() + "/src";
        write(src / "train.py", "print('hi')\n");
        write(src / "lib" / "util.py", "X = 1\n");
        write(src / "outputs" / "model.bin", "old output");
        write(src / ".git" / "HEAD", "ref");
        write(src / "__pycache__" / "x.pyc", "cache");
        const auto snap = Runs::Snapshot::scan(src);
        QCOMPARE(snap.files.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(snap.files[0].path), QStringLiteral("lib/util.py"));
        QCOMPARE(QString::fromStdString(snap.files[1].path), QStringLiteral("train.py"));
        QCOMPARE(Runs::Snapshot::scan(src).hash(), snap.hash());
        write(src / "train.py", "print('changed')\n");
        QVERIFY(Runs::Snapshot::scan(src).hash() != snap.hash());
        // A manifest round-trips, and hostile manifests are refused.
        QCOMPARE(Runs::Snapshot::fromManifest(snap.manifest()).hash(), snap.hash());
        Json evil = {{"files", {{{"path", "../escape.py"}, {"sha256", std::string(64, 'a')}, {"size", 1}}}}};
        QVERIFY_THROWS_EXCEPTION(UserError, Runs::Snapshot::fromManifest(evil));
        evil["files"][0]["path"] = "/etc/passwd";
        QVERIFY_THROWS_EXCEPTION(UserError, Runs::Snapshot::fromManifest(evil));
        evil["files"][0]["path"] = "ok.py";
        evil["files"][0]["sha256"] = "not-a-hash";
        QVERIFY_THROWS_EXCEPTION(UserError, Runs::Snapshot::fromManifest(evil));
    }

    void safeRelativePaths() {
        QCOMPARE(Util::safeRelativePath("outputs/model/w.npz").value(), std::string("outputs/model/w.npz"));
        for (const char* bad :
             {"../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "", "a\\b"})
            QVERIFY2(!Util::safeRelativePath(bad), bad);
        QVERIFY(!Util::safeRelativePath(std::string("a\0b", 3)));
        QVERIFY(!Util::safeRelativePath("a\nb"));
    }

    void urlDecodingCatchesEncodedTraversal() {
        auto seg = Api::splitPath("/api/v1/runs/1/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd");
        QCOMPARE(seg.size(), std::size_t(6));
        QCOMPARE(QString::fromStdString(seg[5]), QStringLiteral("../../etc/passwd"));
        QVERIFY(!Util::safeRelativePath(seg[5]));
        auto q = Api::parseQuery("key=train%2Floss&x=a+b&empty");
        QCOMPARE(QString::fromStdString(q["key"]), QStringLiteral("train/loss"));
        QCOMPARE(QString::fromStdString(q["x"]), QStringLiteral("a b"));
        QVERIFY(q.count("empty"));
        QCOMPARE(QString::fromStdString(Api::percentDecode("%zz%4")), QStringLiteral("%zz%4"));
    }

    void runStoreKeepsLogOffsetsWithLines() {
        QTemporaryDir dir;
        Store::Database db(dir.path().toStdString() + "/kiln.db");
        Runs::RunStore runs(db);
        Runs::NewRun n;
        n.experiment = "exp";
        n.script = "train.py";
        n.snapshot = std::string(64, 'a');
        n.tokenHash = "";
        const auto id = runs.createRun(n);
        QCOMPARE(QString::fromStdString(runs.run(id)->name), QStringLiteral("exp #%1").arg(id));
        runs.appendLogs(id, "output", {"one", "two"}, 8);
        QCOMPARE(runs.logOffset(id, "output"), 8);
        QCOMPARE(runs.logsAfter(id, 0, 10).size(), std::size_t(2));
        const auto first = runs.logsAfter(id, 0, 1).front().id;
        QCOMPARE(QString::fromStdString(runs.logsAfter(id, first, 10).front().line), QStringLiteral("two"));
        auto before = runs.run(id)->statusSeq;
        auto after = runs.transition(id, Runs::RunStatus::Running);
        QVERIFY(after.statusSeq > before);
        QVERIFY(runs.run(id)->status == Runs::RunStatus::Running);
    }
};

QTEST_GUILESS_MAIN(TestStorage)
#include "test_storage.moc"
