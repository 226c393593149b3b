#include "TestSupport.h"
#include <QCryptographicHash>
#include <QDirIterator>

#include "api/Client.h"
#include "workspace/Workspace.h"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTest>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace Kiln::Test {

namespace {
// Every kilnd a test starts (here, through the CLI, or through the studio's own code) watches this process
// and stops with its runs when it ends (core/server/Daemon.cpp): a test that crashes or is killed leaves no
// kilnd holding ctest's pipes. (kiln_test_support is an OBJECT library, so this is in every test.)
const bool kDieWithTheTest = [] {
    qputenv("KILN_DIE_WITH_PID", QByteArray::number(static_cast<qint64>(::getpid())));
    return true;
}();
} // namespace

QString binDir() {
    return QStringLiteral(KILN_BIN_DIR);
}

Json CliResult::json() const {
    return Json::parse(out.toStdString());
}

CliResult runKiln(const QStringList& args, int timeoutMs) {
    QProcess p;
    p.start(binDir() + QStringLiteral("/kiln"), args);
    CliResult r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out");
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

Workspace::Workspace(const QStringList& kilndArgs) {
    if (!m_dir.isValid())
        qFatal("cannot create a temporary workspace");
    // A test's workspace begins empty: as if the sample dataset had been offered already (the marker
    // Workspace::ensureServer leaves). test_datasets_e2e checks the offer on a workspace of its own.
    QFile marker(m_dir.path() + QStringLiteral("/sample-dataset"));
    if (!marker.open(QIODevice::WriteOnly))
        qFatal("cannot write the sample marker");
    marker.close();
    startServer(kilndArgs);
}

void Workspace::startServer(const QStringList& kilndArgs) {
    m_client.reset();
    if (kilndArgs.isEmpty()) {
        auto info = Kiln::Workspace::ensureServer(m_dir.path().toStdString());
        m_url = info.url;
        m_token = info.token;
        return;
    }
    // Started by hand with extra flags, detached like ensureServer does.
    QStringList args = {QStringLiteral("--workspace"), m_dir.path()};
    args += kilndArgs;
    const auto before = Kiln::Workspace::readServerInfo(m_dir.path().toStdString());
    qint64 pid = 0;
    QProcess kilnd; // (its output to kilnd.log, as ensureServer does: never this test's pipes)
    kilnd.setProgram(binDir() + QStringLiteral("/kilnd"));
    kilnd.setArguments(args);
    kilnd.setStandardInputFile(QProcess::nullDevice());
    kilnd.setStandardOutputFile(m_dir.path() + QStringLiteral("/kilnd.log"), QIODevice::Append);
    kilnd.setStandardErrorFile(m_dir.path() + QStringLiteral("/kilnd.log"), QIODevice::Append);
    kilnd.startDetached(&pid);
    for (int i = 0; i < 500; ++i) {
        auto info = Kiln::Workspace::readServerInfo(m_dir.path().toStdString());
        if (info && info->pid == pid && Kiln::Workspace::runningServer(m_dir.path().toStdString())) {
            m_url = info->url;
            m_token = info->token;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    qFatal("kilnd did not start");
}

Workspace::~Workspace() {
    stopServer();
}

void Workspace::stopServer() {
    m_client.reset();
    runKiln({QStringLiteral("server"), QStringLiteral("stop"), QStringLiteral("--workspace"), m_dir.path()});
}

long Workspace::kilndPid() const {
    auto info = Kiln::Workspace::readServerInfo(m_dir.path().toStdString());
    return info ? info->pid : 0;
}

void Workspace::killServer() {
    const auto pid = kilndPid();
    m_client.reset();
    if (pid > 0) {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        for (int i = 0; i < 200 && ::kill(static_cast<pid_t>(pid), 0) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Api::Client& Workspace::client() {
    if (!m_client) {
        const auto info = Kiln::Workspace::readServerInfo(m_dir.path().toStdString());
        m_client = std::make_unique<Api::Client>(m_url, m_token, std::chrono::seconds(60),
                                                 info ? info->caFile : std::string());
    }
    return *m_client;
}

CliResult Workspace::kiln(const QStringList& args, int timeoutMs) const {
    return runKiln(QStringList{QStringLiteral("--workspace"), m_dir.path()} + args, timeoutMs);
}

SmallDisk::SmallDisk(int megabytes) {
    m_mounted = QProcess::execute(QStringLiteral("mount"),
                                  {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                                   QStringLiteral("size=%1m").arg(megabytes), QStringLiteral("kiln-test"),
                                   m_dir.path()}) == 0;
}

SmallDisk::~SmallDisk() {
    if (m_mounted)
        QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), m_dir.path()});
}

void SmallDisk::fill() {
    QFile filler(m_dir.path() + QStringLiteral("/filler"));
    if (!filler.open(QIODevice::Append | QIODevice::Unbuffered))
        return;
    const QByteArray chunk(64 << 10, 'f');
    while (filler.write(chunk) > 0) {
    }
    const QByteArray byte(1, 'f'); // the last partial chunk's worth
    while (filler.write(byte) > 0) {
    }
}

bool SmallDisk::free() {
    return QFile::remove(m_dir.path() + QStringLiteral("/filler"));
}

qint64 folderBytes(const QString& dir) {
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

QString sourceWith(const QTemporaryDir& parent, const QString& name, const QStringList& scripts) {
    const QString dir = parent.path() + QLatin1Char('/') + name;
    QDir().mkpath(dir);
    for (const auto& s : scripts)
        QFile::copy(QStringLiteral(KILN_TEST_DATA "/scripts/") + s, dir + QLatin1Char('/') + s);
    return dir;
}

std::map<QString, QByteArray> fileHashes(const QString& root) {
    std::map<QString, QByteArray> out;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const auto path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            out[QDir(root).relativeFilePath(path)] =
                QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
    }
    return out;
}

} // namespace Kiln::Test

namespace Kiln::Test {
int connectLoopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    return fd;
}

LiveRun startTokenRun(Workspace& ws, const QTemporaryDir& parent) {
    Api::SubmitRequest request;
    request.experiment = "tokens";
    request.sourceDir =
        sourceWith(parent, QStringLiteral("hold-token"), {QStringLiteral("hold_token.py")}).toStdString();
    request.script = "hold_token.py";
    LiveRun out;
    const auto id = ws.client().submit(request)["id"].get<std::int64_t>();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(scaledMs(60000));
    while (std::chrono::steady_clock::now() < deadline) {
        const auto logs = ws.client().get("/api/v1/runs/" + std::to_string(id) + "/logs");
        for (const auto& l : logs["lines"]) {
            const auto line = l["line"].get<std::string>();
            if (line.starts_with("token "))
                return {id, line.substr(6)};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return out;
}
} // namespace Kiln::Test
