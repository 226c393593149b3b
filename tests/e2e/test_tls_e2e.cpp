// kilnd over TLS: a self-signed certificate made with openssl for 127.0.0.1; clients that know it (the
// CLI through a remote workspace config, the C++ client, a training script's Python client) connect and
// verify it; a client that does not know it, or speaks plain HTTP to it, is refused.
#include "api/Client.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTest>

using namespace Kiln;

class TestTlsE2e : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_cert, m_key;

private Q_SLOTS:
    void initTestCase() {
        m_cert = m_tmp.filePath(QStringLiteral("cert.pem"));
        m_key = m_tmp.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                       QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"),
                       QStringLiteral("1"), QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"),
                       QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1"),
                       QStringLiteral("-keyout"), m_key, QStringLiteral("-out"), m_cert});
        QVERIFY(openssl.waitForFinished(60000));
        QCOMPARE(openssl.exitCode(), 0);
    }

    void servesHttpsAndEveryClientVerifiesIt() {
        Test::Workspace ws({QStringLiteral("--tls-cert"), m_cert, QStringLiteral("--tls-key"), m_key});
        QVERIFY(QString::fromStdString(ws.url()).startsWith(QStringLiteral("https://127.0.0.1:")));
        // The C++ client with the certificate.
        Api::Client trusted(ws.url(), ws.token(), std::chrono::seconds(10), m_cert.toStdString());
        QVERIFY(trusted.health()["ok"].get<bool>());
        // Without it: the certificate is not trusted, nothing is exchanged.
        Api::Client stranger(ws.url(), ws.token(), std::chrono::seconds(10),
                             "/etc/ssl/certs/ca-certificates.crt");
        bool refused = false;
        try {
            stranger.health();
        } catch (const Api::ClientError& e) {
            refused = e.status() == 0;
        }
        QVERIFY(refused);
        // Plain HTTP to the TLS port gets no answer.
        auto plainUrl = ws.url();
        plainUrl.replace(0, 5, "http");
        Api::Client plain(plainUrl, ws.token(), std::chrono::seconds(5));
        refused = false;
        try {
            plain.health();
        } catch (const Api::ClientError&) {
            refused = true;
        }
        QVERIFY(refused);

        // The CLI through a remote workspace config naming the certificate; a run's script logs over TLS.
        QDir(m_tmp.path()).mkpath(QStringLiteral("project/.kiln"));
        QFile config(m_tmp.filePath(QStringLiteral("project/.kiln/config.json")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(QByteArray::fromStdString(
            Json{{"url", ws.url()}, {"token", ws.token()}, {"ca", m_cert.toStdString()}}.dump()));
        config.close();
        QTemporaryDir src;
        const auto scripts = Test::sourceWith(src, QStringLiteral("s"), {QStringLiteral("flood.py")});
        QProcess cli;
        cli.setWorkingDirectory(m_tmp.filePath(QStringLiteral("project")));
        cli.start(Test::binDir() + QStringLiteral("/kiln"),
                  {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                   QStringLiteral("tls"), QStringLiteral("--source"), scripts, QStringLiteral("--script"),
                   QStringLiteral("flood.py"), QStringLiteral("--json"), QStringLiteral("--"),
                   QStringLiteral("--points"), QStringLiteral("500")});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto id = Json::parse(cli.readAllStandardOutput().toStdString())["id"].get<std::int64_t>();
        for (int i = 0;
             i < 600 && trusted.run(id)["status"] != "Completed" && trusted.run(id)["status"] != "Failed";
             ++i)
            QTest::qWait(50);
        QCOMPARE(trusted.run(id)["status"].get<std::string>(), std::string("Completed"));
        auto h = trusted.get("/api/v1/runs/" + std::to_string(id) + "/metrics/history?key=x");
        QCOMPARE(h["series"]["values"].size(),
                 std::size_t(500)); // the Python client verified and sent them all

        // `workspace info` reaches it too: through the remote config, and as the local workspace's kilnd.
        QProcess info;
        info.setWorkingDirectory(m_tmp.filePath(QStringLiteral("project")));
        info.start(Test::binDir() + QStringLiteral("/kiln"),
                   {QStringLiteral("workspace"), QStringLiteral("info")});
        QVERIFY(info.waitForFinished(60000));
        const auto said = QString::fromUtf8(info.readAllStandardOutput() + info.readAllStandardError());
        QVERIFY2(info.exitCode() == 0, qPrintable(said));
        QVERIFY2(said.contains(QStringLiteral("Server:    ") + QString::fromStdString(ws.url()) +
                               QStringLiteral(" (kilnd ")) &&
                     said.contains(QStringLiteral("Experiments: 1")),
                 qPrintable(said));
        const auto local = ws.kiln({QStringLiteral("workspace"), QStringLiteral("info")});
        QVERIFY2(local.exitCode == 0 && local.out.contains(QStringLiteral("Experiments: 1")) &&
                     local.out.contains(QStringLiteral("(pid ")),
                 qPrintable(local.out + local.err));
        // A remote workspace whose kilnd does not answer says so, and fails.
        QFile gone(m_tmp.filePath(QStringLiteral("project/.kiln/config.json")));
        QVERIFY(gone.open(QIODevice::WriteOnly));
        gone.write(QByteArray::fromStdString(Json{
            {"url", "https://127.0.0.1:9"},
            {"token", ws.token()},
            {"ca", m_cert.toStdString()}}.dump()));
        gone.close();
        info.start(Test::binDir() + QStringLiteral("/kiln"),
                   {QStringLiteral("workspace"), QStringLiteral("info")});
        QVERIFY(info.waitForFinished(60000));
        const auto down = QString::fromUtf8(info.readAllStandardOutput());
        QVERIFY2(info.exitCode() == 1 && down.contains(QStringLiteral("https://127.0.0.1:9: not answering")),
                 qPrintable(down));
    }
};

QTEST_GUILESS_MAIN(TestTlsE2e)
#include "test_tls_e2e.moc"
