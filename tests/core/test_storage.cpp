// Storage building blocks: schema migrations, the content-addressed blob store, snapshots, path safety
// and URL decoding used by the server's routing.
#include "api/Http.h"
#include "runs/RunState.h"
#include "runs/RunStore.h"
#include "runs/Snapshot.h"
#include "store/BlobStore.h"
#include "store/Database.h"
#include "store/Schema.h"
#include "util/Crypto.h"
#include "util/Error.h"
#include "util/FolderScan.h"
#include "util/Fs.h"
#include <map>
#include <sys/stat.h>

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
    // A queued run of experiment "exp" running train.py.
    static std::int64_t newRun(Runs::RunStore& runs) {
        Runs::NewRun n;
        n.experiment = "exp";
        n.script = "train.py";
        n.snapshot = std::string(64, 'a');
        return runs.createRun(n);
    }
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

    void snapshotsFollowIgnoreFilesAndKeepLinksInside() {
        QTemporaryDir dir;
        const fs::path src = dir.path().toStdString() + "/src";
        write(src / "train.py", "print('hi')\n");
        write(src / "data" / "big.bin", "ignored by pattern");
        write(src / "data" / "keep.bin", "re-included");
        write(src / "notes" / "scratch.tmp", "ignored anywhere");
        write(src / "lib" / "logs" / "util.py", "a logs folder below the top is source");
        write(src / ".venv" / "pyvenv.cfg", "home = /usr/bin");
        fs::create_directories(src / ".venv" / "bin");
        fs::create_symlink("/usr/bin/python3", src / ".venv" / "bin" / "python3"); // out of the folder
        fs::create_symlink("train.py", src / "main.py");                           // a file link inside
        fs::create_symlink("lib", src / "library");                                // a folder link inside
        fs::create_symlink("/etc/passwd", src / "passwd");                         // out: skipped
        fs::create_symlink("missing.py", src / "dangling.py");                     // nowhere: skipped
        write(src / ".kilnignore", "# comment\ndata/*.bin\n!data/keep.bin\n*.tmp\n");
        write(src / ".gitignore", "train.py\n"); // not read: .kilnignore wins
        const auto snap = Runs::Snapshot::scan(src);
        std::map<std::string, std::string> seen; // path -> link target ("" for a file)
        for (const auto& f : snap.files)
            seen[f.path] = f.link;
        const std::map<std::string, std::string> expected = {
            {".gitignore", ""}, {".kilnignore", ""},     {"data/keep.bin", ""}, {"lib/logs/util.py", ""},
            {"library", "lib"}, {"main.py", "train.py"}, {"train.py", ""}};
        QCOMPARE(seen, expected);
        // One warning lists the links that lead out.
        QCOMPARE(snap.warnings.size(), std::size_t(1));
        QVERIFY2(snap.warnings[0].find("dangling.py") != std::string::npos &&
                     snap.warnings[0].find("passwd") != std::string::npos,
                 snap.warnings[0].c_str());
        // Links round-trip through the manifest and come back as links.
        const auto again = Runs::Snapshot::fromManifest(snap.manifest());
        QCOMPARE(again.hash(), snap.hash());
        Store::BlobStore blobs(dir.path().toStdString() + "/blobs");
        for (const auto& f : snap.files)
            if (f.link.empty())
                blobs.putFile(f.source);
        const fs::path out = dir.path().toStdString() + "/out";
        again.materialize(blobs, out);
        QVERIFY(fs::is_symlink(out / "main.py"));
        QCOMPARE(Util::readFile(out / "main.py"), std::string("print('hi')\n"));
        QCOMPARE(Util::readFile(out / "library" / "logs" / "util.py"),
                 Util::readFile(src / "lib/logs/util.py"));
        // A manifest's link may not lead out of the folder.
        for (const char* target : {"../../x", "../../etc/passwd", "/etc/passwd", "a/../../../x", ""}) {
            Json evil = {{"files", {{{"path", "sub/link"}, {"link", target}}}}};
            QVERIFY_THROWS_EXCEPTION(UserError, Runs::Snapshot::fromManifest(evil));
        }
        Json fine = {{"files", {{{"path", "sub/link"}, {"link", "../train.py"}}}}};
        QCOMPARE(Runs::Snapshot::fromManifest(fine).files.size(), std::size_t(1));
        // .amlignore, then .gitignore, when there is no .kilnignore.
        fs::remove(src / ".kilnignore");
        QVERIFY(!Runs::Snapshot::scan(src).contains("train.py"));
        write(src / ".amlignore", "notes/\n");
        const auto aml = Runs::Snapshot::scan(src);
        QVERIFY(aml.contains("train.py") && aml.contains("data/big.bin") &&
                !aml.contains("notes/scratch.tmp"));
    }

    void ignoreRulesFollowGitignore() {
        Util::IgnoreRules rules;
        for (const char* line : {"/build", "*.log", "docs/**/*.pdf", "cache/", "!important.log", "a/b"})
            rules.add(line);
        QVERIFY(rules.ignored("build", true));
        QVERIFY(!rules.ignored("src/build", true)); // anchored to the top
        QVERIFY(rules.ignored("x/y/run.log", false));
        QVERIFY(!rules.ignored("important.log", false));
        QVERIFY(rules.ignored("docs/a/b/c.pdf", false));
        QVERIFY(rules.ignored("docs/c.pdf", false));
        QVERIFY(rules.ignored("deep/cache", true));
        QVERIFY(!rules.ignored("deep/cache", false)); // folders only
        QVERIFY(rules.ignored("a/b", false));
        QVERIFY(!rules.ignored("x/a/b", false));
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
        const auto id = newRun(runs);
        QCOMPARE(QString::fromStdString(runs.run(id)->name), QStringLiteral("exp #%1").arg(id));
        runs.appendLogs(id, "output", {"one", "two"}, 8);
        QCOMPARE(runs.logOffset(id, "output"), 8);
        QCOMPARE(runs.logsAfter(id, 0, 10).size(), std::size_t(2));
        const auto first = runs.logsAfter(id, 0, 1).front().id;
        QCOMPARE(QString::fromStdString(runs.logsAfter(id, first, 10).front().line), QStringLiteral("two"));
        auto before = runs.run(id)->statusSeq;
        auto after = runs.transition(id, Runs::RunStatus::Running);
        QVERIFY(after && after->statusSeq > before);
        QVERIFY(runs.run(id)->status == Runs::RunStatus::Running);
    }

    void theStateMachineRefusesIllegalMoves() {
        using S = Runs::RunStatus;
        QTemporaryDir dir;
        Store::Database db(dir.path().toStdString() + "/kiln.db");
        Runs::RunStore runs(db);
        const auto id = newRun(runs);
        // Queued cannot jump to Completed: refused, and nothing about the run changes.
        const auto seq = runs.run(id)->statusSeq;
        QVERIFY(!runs.transition(id, S::Completed, [](Runs::RunRecord& r) { r.error = "should not stick"; }));
        QVERIFY(runs.run(id)->status == S::Queued);
        QCOMPARE(runs.run(id)->statusSeq, seq);
        QVERIFY(runs.run(id)->error.empty());
        // The legal path, each move once.
        for (auto s : {S::Preparing, S::Running, S::Finalizing, S::Completed})
            QVERIFY2(runs.transition(id, s), Runs::toString(s).data());
        // Final states are final: no way back, not even to themselves.
        for (auto s :
             {S::Queued, S::Preparing, S::Running, S::Finalizing, S::Failed, S::Canceled, S::Completed})
            QVERIFY2(!runs.transition(id, s), Runs::toString(s).data());
        QVERIFY(runs.run(id)->status == S::Completed);
        // The table, as documented in RunState.h.
        QVERIFY(Runs::isLegalTransition(S::Running, S::Finalizing));
        QVERIFY(!Runs::isLegalTransition(S::Running, S::Completed));
        QVERIFY(!Runs::isLegalTransition(S::Queued, S::Completed));
        QVERIFY(!Runs::isLegalTransition(S::Failed, S::Completed));
        QVERIFY(!Runs::isLegalTransition(S::Canceled, S::Running));
    }

    void aTransitionIsACompareAndSet() {
        using S = Runs::RunStatus;
        QTemporaryDir dir;
        Store::Database db(dir.path().toStdString() + "/kiln.db");
        Runs::RunStore runs(db);
        const auto id = newRun(runs);
        // A cancel gets there first: the dispatcher's move from Queued no longer applies.
        const auto canceled = runs.requestCancel(id, "the test");
        QVERIFY(canceled && canceled->status == S::Canceled);
        QCOMPARE(canceled->cancelBy, std::string("the test"));
        QVERIFY(canceled->error.find("canceled by the test") != std::string::npos);
        QVERIFY(!runs.transition(id, S::Preparing, {}, S::Queued));
        QVERIFY(runs.run(id)->status == S::Canceled);

        // A cancel while Preparing is recorded on the run (not a move): whoever moves it next reads it in the
        // same transaction.
        const auto other = newRun(runs);
        QVERIFY(runs.transition(other, S::Preparing, {}, S::Queued));
        QVERIFY(!runs.transition(other, S::Preparing, {}, S::Queued)); // the second dispatcher loses
        const auto asked = runs.requestCancel(other, "the user");
        QVERIFY(asked->status == S::Preparing && asked->cancelRequested);
        const auto running = runs.transition(other, S::Running, {}, S::Preparing);
        QVERIFY(running && running->cancelRequested && running->cancelBy == "the user");
        // A second request keeps the first asker; one for an ended run changes nothing.
        QCOMPARE(runs.requestCancel(other, "someone else")->cancelBy, std::string("the user"));
        QVERIFY(runs.transition(other, S::Finalizing) && runs.transition(other, S::Canceled));
        const auto seq = runs.run(other)->statusSeq;
        QVERIFY(runs.requestCancel(other, "late")->status == S::Canceled);
        QCOMPARE(runs.run(other)->statusSeq, seq);
        QVERIFY(!runs.requestCancel(999999, "nobody"));
    }

    void theDatabaseIsOwnerOnly() {
        QTemporaryDir dir;
        const auto file = dir.path().toStdString() + "/kiln.db";
        {
            Store::Database db(file);
            Runs::RunStore runs(db);
            newRun(runs); // the WAL exists now
            for (const auto& f : {file, file + "-wal", file + "-shm"}) {
                struct stat st {};
                QCOMPARE(::stat(f.c_str(), &st), 0);
                QCOMPARE(st.st_mode & 0777, 0600u);
            }
        }
        // An older workspace's world-readable file is narrowed when opened.
        ::chmod(file.c_str(), 0644);
        Store::Database again(file);
        struct stat st {};
        QCOMPARE(::stat(file.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
    }
};

QTEST_GUILESS_MAIN(TestStorage)
#include "test_storage.moc"
