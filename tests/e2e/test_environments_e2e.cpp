// Environments through the real CLI, kilnd and pip: a conda-style file whose pip list names a wheel the
// test builds into a local folder; the run imports it; the next run reuses the build; two runs needing
// a new environment at once build it once; pip's own error fails a run; bad YAML and bad names are
// refused at create.
#include "api/Client.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTest>

using namespace Kiln;

static void write(const QString& path, const QByteArray& text) {
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

class TestEnvironmentsE2e : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QString m_wheels;
    QString m_src;

    Test::CliResult kiln(const QStringList& args) { return m_ws->kiln(args); }
    QString envFile(const QString& name, const QByteArray& text) {
        const auto path = m_tmp.path() + QLatin1Char('/') + name;
        write(path, text);
        return path;
    }
    std::pair<int, QString> runWith(const QString& env) {
        auto sub = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                         QStringLiteral("env"), QStringLiteral("--source"), m_src, QStringLiteral("--script"),
                         QStringLiteral("use.py"), QStringLiteral("--env"), env, QStringLiteral("--json")});
        if (sub.exitCode != 0)
            return {-1, sub.err};
        auto wait = kiln({QStringLiteral("run"), QStringLiteral("wait"),
                          QString::number(sub.json()["id"].get<int>()), QStringLiteral("--show-output")});
        return {wait.exitCode, wait.out + wait.err};
    }

private Q_SLOTS:
    void initTestCase() {
        m_ws = std::make_unique<Test::Workspace>();
        // A tiny package, built into a local wheel folder (no index anywhere).
        const auto pkg = m_tmp.path() + QStringLiteral("/pkg");
        write(
            pkg + QStringLiteral("/setup.py"),
            "from setuptools import setup\nsetup(name='kilnhello', version='1.0', packages=['kilnhello'])\n");
        write(pkg + QStringLiteral("/kilnhello/__init__.py"),
              "def greet():\n    return 'hello from a local wheel'\n");
        m_wheels = m_tmp.path() + QStringLiteral("/wheels");
        QProcess pip;
        pip.start(QStringLiteral("/usr/bin/python3"),
                  {QStringLiteral("-m"), QStringLiteral("pip"), QStringLiteral("wheel"),
                   QStringLiteral("--no-index"), QStringLiteral("--no-build-isolation"),
                   QStringLiteral("--no-deps"), QStringLiteral("-w"), m_wheels, pkg});
        QVERIFY(pip.waitForFinished(120000));
        QVERIFY2(pip.exitCode() == 0, pip.readAllStandardError().constData());
        m_src = m_tmp.path() + QStringLiteral("/src");
        write(m_src + QStringLiteral("/use.py"),
              "import os, sys\nimport kilnhello\nimport numpy\nprint(kilnhello.greet(), 'GREETING=' + "
              "os.environ.get('GREETING', ''), "
              "'numpy', numpy.__version__, 'python', sys.executable)\n");
    }
    void cleanupTestCase() { m_ws.reset(); }

    void buildsOnceAndRunsImportIt() {
        const auto yml =
            envFile(QStringLiteral("hello.yml"), "name: hello\nchannels:\n  - defaults\ndependencies:\n  - "
                                                 "python=3\n  - pip:\n    - kilnhello==1.0\n");
        auto create =
            kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                  QStringLiteral("hello"), QStringLiteral("--conda-file"), yml,
                  QStringLiteral("--find-links"), m_wheels, QStringLiteral("--no-index"),
                  QStringLiteral("--var"), QStringLiteral("GREETING=hi"), QStringLiteral("--json")});
        QVERIFY2(create.exitCode == 0, qPrintable(create.err));
        QCOMPARE(create.json()["environment"]["version"].get<int>(), 1);
        QCOMPARE(create.json()["environment"]["spec"]["pip"][0].get<std::string>(),
                 std::string("kilnhello==1.0"));

        auto [code, out] = runWith(QStringLiteral("hello"));
        QVERIFY2(code == 0, qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("kiln: building environment")));
        QVERIFY(out.contains(QStringLiteral("Successfully installed kilnhello-1.0")));
        QVERIFY(out.contains(
            QStringLiteral("hello from a local wheel GREETING=hi numpy"))); // Debian's numpy seen too

        auto [code2, out2] = runWith(QStringLiteral("hello:1"));
        QVERIFY2(code2 == 0, qPrintable(out2));
        QVERIFY(out2.contains(QStringLiteral("reusing the cached build")));
        QVERIFY(!out2.contains(QStringLiteral("building environment")));
        auto show = kiln({QStringLiteral("env"), QStringLiteral("show"), QStringLiteral("hello"),
                          QStringLiteral("--json")})
                        .json();
        QVERIFY(show["built"].get<bool>());
        QCOMPARE(show["runs"].size(), std::size_t(2));
    }

    void concurrentRunsBuildItOnce() {
        const auto req = envFile(QStringLiteral("req.txt"), "# a comment\nkilnhello\n");
        QCOMPARE(kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                       QStringLiteral("twice"), QStringLiteral("--requirements"), req,
                       QStringLiteral("--find-links"), m_wheels, QStringLiteral("--no-index")})
                     .exitCode,
                 0);
        QList<int> ids;
        for (int i = 0; i < 2; ++i) {
            auto sub = kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("env"), QStringLiteral("--source"), m_src,
                             QStringLiteral("--script"), QStringLiteral("use.py"), QStringLiteral("--env"),
                             QStringLiteral("twice"), QStringLiteral("--json")});
            QCOMPARE(sub.exitCode, 0);
            ids << sub.json()["id"].get<int>();
        }
        int builds = 0;
        for (int id : ids) {
            auto wait = kiln({QStringLiteral("run"), QStringLiteral("wait"), QString::number(id),
                              QStringLiteral("--show-output")});
            QVERIFY2(wait.exitCode == 0, qPrintable(wait.out + wait.err));
            builds += wait.out.count(QStringLiteral("Successfully installed kilnhello"));
        }
        QCOMPARE(builds, 1);
    }

    void pipErrorsFailTheRunAndLeaveNoCacheEntry() {
        const auto req = envFile(QStringLiteral("bad.txt"), "no-such-package-kiln==9.9\n");
        QCOMPARE(kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                       QStringLiteral("broken"), QStringLiteral("--requirements"), req,
                       QStringLiteral("--find-links"), m_wheels, QStringLiteral("--no-index")})
                     .exitCode,
                 0);
        auto [code, out] = runWith(QStringLiteral("broken"));
        QCOMPARE(code, 1);
        QVERIFY2(out.contains(QStringLiteral("No matching distribution found for no-such-package-kiln==9.9")),
                 qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("environment build failed")));
        auto show = kiln({QStringLiteral("env"), QStringLiteral("show"), QStringLiteral("broken"),
                          QStringLiteral("--json")})
                        .json();
        QVERIFY(!show["built"].get<bool>());
        QDir envs(m_ws->path() + QStringLiteral("/envs"));
        QVERIFY(!envs.exists(QString::fromStdString(show["spec_hash"].get<std::string>())));
    }

    void badSpecsAreRefusedAtCreate() {
        const auto yml =
            envFile(QStringLiteral("broken.yml"), "name: x\ndependencies:\n  - pip:\n    - [unclosed\n");
        auto r = kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                       QStringLiteral("x"), QStringLiteral("--conda-file"), yml});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(
                     QStringLiteral("environment file, line 5, column 1: end of sequence flow not found")),
                 qPrintable(r.err));
        const auto wrongType =
            envFile(QStringLiteral("wrong.yml"), "dependencies:\n  - numpy\nchannels: 5\n");
        r = kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                  QStringLiteral("x"), QStringLiteral("--conda-file"), wrongType});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("line 3, column 11: 'channels' must be a list")),
                 qPrintable(r.err));
        const auto conda =
            envFile(QStringLiteral("conda.yml"), "dependencies:\n  - python=3\n  - cudatoolkit=11\n");
        QCOMPARE(kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"),
                       QStringLiteral("cuda"), QStringLiteral("--conda-file"), conda})
                     .exitCode,
                 0);
        auto [code, out] = runWith(QStringLiteral("cuda"));
        QCOMPARE(code, 1);
        QVERIFY2(out.contains(QStringLiteral("cudatoolkit=11")), qPrintable(out));
        for (const auto& name :
             {QStringLiteral("a/b"), QStringLiteral(".."), QString(10000, u'e'), QStringLiteral("ctl\x01")}) {
            auto bad = kiln({QStringLiteral("env"), QStringLiteral("create"), QStringLiteral("--name"), name,
                             QStringLiteral("--python"), QStringLiteral("/usr/bin/python3")});
            QCOMPARE(bad.exitCode, 2);
            QVERIFY(bad.err.contains(QStringLiteral("environment name")));
        }
        auto unknown =
            kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                  QStringLiteral("env"), QStringLiteral("--source"), m_src, QStringLiteral("--script"),
                  QStringLiteral("use.py"), QStringLiteral("--env"), QStringLiteral("nope")});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY(unknown.err.contains(QStringLiteral("environment nope does not exist")));
    }
};

QTEST_GUILESS_MAIN(TestEnvironmentsE2e)
#include "test_environments_e2e.moc"
