// Dataset versions in the database, and the {dataset:...} references of run arguments.
#include "datasets/DatasetRef.h"
#include "datasets/DatasetStore.h"
#include "store/Database.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Kiln;
using Datasets::DatasetFile;

class TestDatasetStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void referencesInArguments() {
        auto refs = Datasets::findDatasetRefs("--data={dataset:mnist}/train,{dataset:cifar-10:3:download}");
        QCOMPARE(refs.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(refs[0].name), QStringLiteral("mnist"));
        QCOMPARE(refs[0].version, 0);
        QCOMPARE(QString::fromStdString(refs[0].mode), QStringLiteral("mount"));
        QCOMPARE(refs[0].pos, std::size_t(7));
        QCOMPARE(refs[0].length, std::string("{dataset:mnist}").size());
        QCOMPARE(refs[1].version, 3);
        QCOMPARE(QString::fromStdString(refs[1].mode), QStringLiteral("download"));
        QCOMPARE(Datasets::findDatasetRefs("{dataset:x:download}")[0].version, 0);
        QVERIFY(Datasets::findDatasetRefs("plain {data} argument").empty());
        for (const char* bad : {"{dataset:x", "{dataset:../etc}", "{dataset:x:0}", "{dataset:x:1:2}",
                                "{dataset:x:mount:1}", "{dataset:}", "{dataset:x:1:mount:extra}"})
            QVERIFY_THROWS_EXCEPTION(UserError, Datasets::findDatasetRefs(bad));
    }

    void names() {
        QVERIFY(Datasets::isValidName("fashion-mnist"));
        QVERIFY(Datasets::isValidName("v1.2_data"));
        for (const char* bad : {"", "../x", "a/b", "-a", ".hidden", "a..b", "tab\t", "spa ce"})
            QVERIFY2(!Datasets::isValidName(bad), bad);
        QVERIFY(!Datasets::isValidName(std::string(101, 'a')));
    }

    void versionsByContent() {
        QTemporaryDir dir;
        Store::Database db(dir.path().toStdString() + "/kiln.db");
        Datasets::DatasetStore store(db);
        const std::string h1(64, '1'), h2(64, '2');
        std::vector<DatasetFile> a = {{"b.txt", h2, 2, ""}, {"a.txt", h1, 1, ""}};
        std::vector<DatasetFile> reordered = {{"a.txt", h1, 1, "elsewhere"}, {"b.txt", h2, 2, ""}};
        auto v1 = store.registerVersion("d", "first", Json::object(), a, false);
        QVERIFY(v1.created);
        QCOMPARE(v1.version.version, 1);
        QCOMPARE(v1.version.totalSize, std::int64_t(3));
        // Same content in another order or from another source is the same version.
        auto same = store.registerVersion("d", "", Json::object(), reordered, true);
        QVERIFY(!same.created);
        QCOMPARE(same.version.version, 1);
        std::vector<DatasetFile> b = {{"a.txt", h2, 2, ""}};
        QVERIFY_THROWS_EXCEPTION(UserError, store.registerVersion("d", "", Json::object(), b, false));
        auto v2 = store.registerVersion("d", "second", Json::object(), b, true);
        QCOMPARE(v2.version.version, 2);
        QCOMPARE(store.version("d", 0)->version, 2);
        QCOMPARE(store.version("d", 1)->description, std::string("first"));
        QVERIFY(!store.version("d", 3));
        QCOMPARE(store.files(store.version("d", 1)->id).size(), std::size_t(2));
        QCOMPARE(store.list().size(), std::size_t(1));
        std::vector<DatasetFile> none;
        QVERIFY_THROWS_EXCEPTION(UserError, store.registerVersion("e", "", Json::object(), none, false));
    }
};

QTEST_GUILESS_MAIN(TestDatasetStore)
#include "test_dataset_store.moc"
