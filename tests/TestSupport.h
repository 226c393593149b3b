#pragma once
// Shared helpers for Kiln's tests: a temporary workspace served by a real kilnd process, and running the
// real `kiln` CLI.
#include "util/Json.h"

#include <map>
#include <memory>
#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <string>

namespace Kiln::Api {
class Client;
}

// Skips a test that cannot run on this machine, except under CI=true, where it fails instead: CI must run
// every test.
#define KILN_SKIP_OR_FAIL(why)                                                                               \
    do {                                                                                                     \
        if (qEnvironmentVariable("CI") == QLatin1String("true"))                                             \
            QFAIL(why);                                                                                      \
        QSKIP(why);                                                                                          \
    } while (false)

namespace Kiln::Test {

struct CliResult {
    int exitCode = -1;
    QString out;
    QString err;
    Json json() const; // parses `out`
};

// A fresh workspace in a temporary folder with its own kilnd (started through the same code path the CLI
// and studio use). The destructor shuts kilnd down and waits for it.
class Workspace final {
public:
    explicit Workspace(const QStringList& kilndArgs = {});
    ~Workspace();
    QString path() const { return m_dir.path(); }
    std::string url() const { return m_url; }
    std::string token() const { return m_token; }
    Api::Client& client();
    CliResult kiln(const QStringList& args, int timeoutMs = 120000) const;
    long kilndPid() const;
    void startServer(const QStringList& kilndArgs = {});
    void killServer(); // kill -9
    void stopServer();

private:
    QTemporaryDir m_dir;
    std::string m_url;
    std::string m_token;
    std::unique_ptr<Api::Client> m_client;
};

// A real small disk: a tmpfs of `megabytes` mounted on a temporary folder (needs root, as CI has), unmounted
// again by the destructor. fill() takes every free byte (in a file called "filler"), free() gives them back.
class SmallDisk final {
public:
    explicit SmallDisk(int megabytes);
    ~SmallDisk();
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    bool mounted() const { return m_mounted; }
    QString path() const { return m_dir.path(); }
    void fill();
    bool free();

private:
    QTemporaryDir m_dir;
    bool m_mounted = false;
};
// In a test function: a SmallDisk named `var`, or the test skips (fails under CI=true) without one.
#define KILN_SMALL_DISK(var, megabytes)                                                                      \
    Kiln::Test::SmallDisk var(megabytes);                                                                    \
    if (!var.mounted())                                                                                      \
    KILN_SKIP_OR_FAIL("cannot mount a tmpfs here (not root?): this full-disk test needs one")

CliResult runKiln(const QStringList& args, int timeoutMs = 120000);
// A wait's limit for this build: longer under the sanitizers (KILN_TEST_TIMEOUT_FACTOR), which run everything
// several times slower. Limits only: no test asserts a speed.
constexpr int scaledMs(int ms) {
    return ms * KILN_TEST_TIMEOUT_FACTOR;
}
QString binDir();
// Relative path -> hex SHA-256 of every file under `root` (to compare downloaded trees with originals).
std::map<QString, QByteArray> fileHashes(const QString& root);
// Writes a script fixture from tests/data/scripts into a fresh source folder; returns the folder.
QString sourceWith(const QTemporaryDir& parent, const QString& name, const QStringList& scripts);
// The bytes of the files under a folder.
qint64 folderBytes(const QString& dir);

} // namespace Kiln::Test

namespace Kiln::Test {
// A run that holds a live run token for a test to call kilnd with: tests/data/scripts/hold_token.py prints
// its token and waits until canceled. Fails the test (QVERIFY-style, returns id 0) if it does not start.
struct LiveRun {
    std::int64_t id = 0;
    std::string token;
};
LiveRun startTokenRun(Workspace& ws, const QTemporaryDir& parent);
// A TCP connection to 127.0.0.1:port (a raw socket, for tests that write HTTP by hand), or -1.
int connectLoopback(int port);
} // namespace Kiln::Test
