// Environment specs: conda-style YAML parsing with line/column errors, and normalisation (python=X.Y,
// pip lists, requirements files) into the spec whose hash keys the build cache.
#include "environments/EnvironmentSpec.h"
#include "util/Error.h"

#include <QTest>

using namespace Kiln;
using namespace Kiln::Environments;

class TestEnvironmentSpec : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesCondaFiles() {
        CondaFile f;
        YamlError e;
        QVERIFY(parseCondaYaml(
            "name: keras\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy\n  - pip:\n"
            "    - tensorflow==2.15\n    - azureml-defaults\n",
            f, e));
        QCOMPARE(QString::fromStdString(f.name), QStringLiteral("keras"));
        QCOMPARE(f.channels.size(), std::size_t(1));
        QCOMPARE(f.dependencies.size(), std::size_t(2));
        QCOMPARE(f.pip.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(f.pip[1]), QStringLiteral("azureml-defaults"));
    }

    void reportsWhereTheFileIsWrong_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("column");
        QTest::newRow("not a list") << "dependencies: numpy\n" << 1 << 15;
        QTest::newRow("unknown key") << "dependencies:\n  - a\nchanels:\n  - x\n" << 3 << 1;
        QTest::newRow("pip not a list") << "dependencies:\n  - pip: tensorflow\n" << 2 << 10;
        QTest::newRow("bad indentation") << "dependencies:\n  - a\n - b\n" << 3 << 2;
        QTest::newRow("tab") << "dependencies:\n\t- a\n" << 2 << 2;
    }
    void reportsWhereTheFileIsWrong() {
        QFETCH(QString, text);
        QFETCH(int, line);
        QFETCH(int, column);
        CondaFile f;
        YamlError e;
        QVERIFY(!parseCondaYaml(text.toStdString(), f, e));
        QVERIFY(!e.message.empty());
        QCOMPARE(e.line, line);
        QCOMPARE(e.column, column);
    }

    void normalisesRequests() {
        auto s = specFromRequest(
            {{"conda_yaml", "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - a==1\n"},
             {"requirements", "# comment\n  b>=2  \n\nc\n"},
             {"variables", {{"X", "1"}}},
             {"find_links", {"/wheels"}},
             {"docker_image", "python:3.11"}});
        QCOMPARE(QString::fromStdString(s.python), QStringLiteral("3.11"));
        QVERIFY(s.pip == (std::vector<std::string>{"a==1", "b>=2", "c"}));
        QVERIFY(s.condaDependencies.empty());
        // Variables and the docker image do not change the build.
        auto t = s;
        t.variables["Y"] = "2";
        t.dockerImage = "other";
        QCOMPARE(t.hash(), s.hash());
        t.pip.push_back("d");
        QVERIFY(t.hash() != s.hash());
        QVERIFY(Spec::fromJson(s.toJson()).toJson() == s.toJson());

        for (const Json& bad :
             {Json{{"requirements", "--index-url http://evil\n"}}, Json{{"variables", {{"1X", "a"}}}},
              Json{{"conda_yaml", "dependencies:\n  - python=3.9\n"}, {"python", "3.11"}}, Json::object(),
              Json{{"find_links", "notalist"}}})
            QVERIFY_THROWS_EXCEPTION(UserError, specFromRequest(bad));
    }
};

QTEST_GUILESS_MAIN(TestEnvironmentSpec)
#include "test_environment_spec.moc"
