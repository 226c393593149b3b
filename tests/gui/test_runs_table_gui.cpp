// The workspace browser's runs table on the real main window, offscreen, over a real kilnd: it lists runs
// with their metrics and params as columns, sorts by a metric on the server, filters by an expression typed
// into the filter box (a typo is shown with the token it is at), remembers chosen columns, and pages
// through hundreds of runs as it scrolls.
#include "api/Client.h"
#include "app/MainWindow.h"
#include "GuiHelpers.h"
#include "runs/RunPage.h"
#include "runs/RunsTableModel.h"
#include "runs/RunTreeModel.h"
#include "TestSupport.h"
#include "workspace/WorkspaceBrowser.h"
#include "workspace/WorkspaceConnection.h"

#include <limits>
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QFont>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QTabBar>
#include <QTableView>
#include <QTabWidget>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>
#include <QTreeView>

using namespace Kiln;

class TestRunsTableGui : public QObject {
    Q_OBJECT
    std::unique_ptr<Test::Workspace> m_ws;
    QTemporaryDir m_tmp;
    QList<qint64> m_runs; // x = 0.3, -1, 0.1: last scores -1.5, -3.19, -1.54

    struct Window {
        Ui::MainWindow main;
        Ui::WorkspaceBrowser* browser = nullptr;
        Ui::RunsTableModel* model = nullptr;
        explicit Window(const QString& workspace)
            : main(workspace) {
            main.resize(1400, 850);
            main.show();
        }
    };
    static bool open(Window& w) {
        if (!QTest::qWaitForWindowActive(&w.main))
            return false;
        w.browser = w.main.findChild<Ui::WorkspaceBrowser*>();
        w.model = qobject_cast<Ui::RunsTableModel*>(w.browser->table()->model());
        return w.model != nullptr;
    }
    static void type(QLineEdit* edit, const QString& text) {
        edit->setFocus();
        QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(edit, Qt::Key_Delete);
        QTest::keyClicks(edit, text);
        QTest::keyClick(edit, Qt::Key_Return);
    }

private Q_SLOTS:
    void initTestCase() {
        m_ws = std::make_unique<Test::Workspace>(
            QStringList{QStringLiteral("--max-concurrent"), QStringLiteral("4")});
        for (const char* x : {"0.3", "-1", "0.1"}) {
            auto r = m_ws->kiln(
                {QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                 QStringLiteral("table"), QStringLiteral("--source"), QStringLiteral(KILN_TEST_DATA "/sweep"),
                 QStringLiteral("--script"), QStringLiteral("objective.py"), QStringLiteral("--"),
                 QStringLiteral("--x"), QLatin1String(x), QStringLiteral("--epochs"), QStringLiteral("2"),
                 QStringLiteral("--pause"), QStringLiteral("0.01")});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
            m_runs << r.out.trimmed().toLongLong();
            m_ws->client().post("/api/v1/runs/" + std::to_string(m_runs.back()) + "/params",
                                {{"params", {{"x", x}}}});
        }
        for (auto id : m_runs)
            QTRY_COMPARE_WITH_TIMEOUT(
                QString::fromStdString(m_ws->client().run(id)["status"].get<std::string>()),
                QStringLiteral("Completed"), Test::scaledMs(60000));
    }
    void cleanupTestCase() { m_ws.reset(); }

    void tableSortsFiltersAndOpensRuns() {
        Window w(m_ws->path());
        QVERIFY(open(w));
        QAbstractItemModelTester tester(w.model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(!w.browser->tableShown()); // the tree, to begin with
        QTest::mouseClick(w.browser->findChild<QToolButton*>(QStringLiteral("showRunTable")), Qt::LeftButton);
        QVERIFY(w.browser->tableShown());
        QTRY_VERIFY(w.browser->table()->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(w.model->rowCount(), 3, Test::scaledMs(20000));
        // Until columns are chosen: the runs' metrics and params join the attributes.
        QTRY_VERIFY2(w.model->columns().contains(QStringLiteral("metrics.score")) &&
                         w.model->columns().contains(QStringLiteral("params.x")),
                     qPrintable(w.model->columns().join(u',')));
        const int score = static_cast<int>(w.model->columns().indexOf(QStringLiteral("metrics.score")));
        const int x = static_cast<int>(w.model->columns().indexOf(QStringLiteral("params.x")));
        QCOMPARE(w.model->headerData(score, Qt::Horizontal).toString(), QStringLiteral("score"));
        QTRY_COMPARE(w.model->index(w.model->rowOfRun(m_runs[0]), score).data().toString(),
                     QStringLiteral("-1.5"));
        QCOMPARE(w.model->index(w.model->rowOfRun(m_runs[1]), x).data().toString(), QStringLiteral("-1"));
        QVERIFY(w.model->index(0, 0).data(Qt::DecorationRole).isValid()); // the status icon
        // The dock made room for the table.
        QVERIFY2(w.browser->width() > 600, qPrintable(QString::number(w.browser->width())));

        // A click on the score header sorts on the server; another, the other way.
        auto* header = w.browser->table()->horizontalHeader();
        auto clickHeader = [&](int column) {
            QTest::mouseClick(
                header->viewport(), Qt::LeftButton, {},
                QPoint(header->sectionViewportPosition(column) + header->sectionSize(column) / 2,
                       header->height() / 2));
        };
        auto order = [&] {
            QList<qint64> ids;
            for (int r = 0; r < w.model->rowCount(); ++r)
                ids << w.model->runAt(r);
            return ids;
        };
        clickHeader(score);
        QTRY_VERIFY(w.model->order().startsWith(QLatin1String("metrics.score")));
        const bool descending = w.model->order().endsWith(QLatin1String(" desc"));
        const QList<qint64> best = {m_runs[0], m_runs[2], m_runs[1]};
        const QList<qint64> worst = {m_runs[1], m_runs[2], m_runs[0]};
        QTRY_COMPARE(order(), descending ? best : worst);
        clickHeader(score);
        QTRY_COMPARE(order(), descending ? worst : best);
        Test::shot(&w.main, "runs-table");

        // An expression in the filter box filters the table.
        type(w.browser->filter(), QStringLiteral("metrics.score > -1.52 or params.x < -0.5"));
        QTRY_COMPARE(w.model->rowCount(), 2);
        QVERIFY(w.model->rowOfRun(m_runs[2]) < 0);
        QVERIFY(!w.browser->filterError()->isVisible());
        // A typo: shown with the token it is at; the table keeps its rows.
        type(w.browser->filter(), QStringLiteral("metrics.score > -1 adn params.x = 1"));
        QTRY_VERIFY(w.browser->filterError()->isVisible());
        const auto error = w.browser->filterError()->text();
        QVERIFY2(error.contains(QLatin1String("found 'adn'")) && error.contains(QLatin1String("<b>adn</b>")),
                 qPrintable(error));
        QCOMPARE(w.model->rowCount(), 2);
        Test::shot(w.browser, "runs-table-typo");
        // Words find runs by name, experiment, status or tags.
        type(w.browser->filter(), QStringLiteral("table completed"));
        QTRY_COMPARE(w.model->rowCount(), 3);
        QVERIFY(!w.browser->filterError()->isVisible());
        type(w.browser->filter(), QStringLiteral("nothing-like-this"));
        QTRY_COMPARE(w.model->rowCount(), 0);
        type(w.browser->filter(), QString());
        QTRY_COMPARE(w.model->rowCount(), 3);

        // The Columns menu adds a metric's maximum; the choice is remembered (next test).
        auto* menu = w.browser->columnsMenu();
        QMetaObject::invokeMethod(menu, "aboutToShow");
        auto* maxScore = menu->findChild<QAction*>(QStringLiteral("column:max(metrics.score)"));
        QVERIFY(maxScore);
        QVERIFY(!maxScore->isChecked());
        maxScore->trigger();
        QTRY_VERIFY(w.model->columns().contains(QStringLiteral("max(metrics.score)")));
        const int maxColumn =
            static_cast<int>(w.model->columns().indexOf(QStringLiteral("max(metrics.score)")));
        QCOMPARE(w.model->headerData(maxColumn, Qt::Horizontal).toString(), QStringLiteral("score (max)"));
        QTRY_COMPARE(w.model->index(w.model->rowOfRun(m_runs[0]), maxColumn).data().toString(),
                     QStringLiteral("-1.5"));

        // Enter on a row opens its run.
        const int row = w.model->rowOfRun(m_runs[2]);
        w.browser->table()->setFocus();
        w.browser->table()->setCurrentIndex(w.model->index(row, 1));
        QTest::keyClick(w.browser->table(), Qt::Key_Return);
        Ui::RunPage* page = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(page = w.main.findChild<Ui::RunPage*>(), Test::scaledMs(10000));
        QCOMPARE(page->runId(), m_runs[2]);
    }

    void managesRunsFromTheBrowser() {
        // A run a model was registered from, beside the three scored ones.
        auto r = m_ws->kiln({QStringLiteral("run"), QStringLiteral("submit"), QStringLiteral("--experiment"),
                             QStringLiteral("kept"), QStringLiteral("--source"),
                             QStringLiteral(KILN_TEST_DATA "/scripts"), QStringLiteral("--script"),
                             QStringLiteral("model.py"), QStringLiteral("--"), QStringLiteral("--size"),
                             QStringLiteral("1000")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto modelRun = r.out.trimmed().toLongLong();
        QTRY_COMPARE_WITH_TIMEOUT(
            QString::fromStdString(m_ws->client().run(modelRun)["status"].get<std::string>()),
            QStringLiteral("Completed"), Test::scaledMs(60000));
        QCOMPARE(m_ws->kiln({QStringLiteral("model"), QStringLiteral("register"), QStringLiteral("--run"),
                             QString::number(modelRun), QStringLiteral("--name"), QStringLiteral("kept-mlp"),
                             QStringLiteral("--path"), QStringLiteral("outputs/model")})
                     .exitCode,
                 0);

        Window w(m_ws->path());
        QVERIFY(open(w));
        QTRY_VERIFY_WITH_TIMEOUT(w.main.connection().state() == Ui::WorkspaceConnection::State::Connected,
                                 Test::scaledMs(20000));
        QVERIFY(w.browser->tableShown());
        type(w.browser->filter(), QStringLiteral("experiment = table"));
        QTRY_COMPARE_WITH_TIMEOUT(w.model->rowCount(), 3, Test::scaledMs(20000));
        auto* table = w.browser->table();
        const int nameColumn = static_cast<int>(w.model->columns().indexOf(QStringLiteral("name")));
        const int tagsColumn = static_cast<int>(w.model->columns().indexOf(QStringLiteral("tags")));
        auto select = [&](const QList<qint64>& ids) {
            table->clearSelection();
            for (auto id : ids) {
                const auto index = w.model->index(w.model->rowOfRun(id), nameColumn);
                table->selectionModel()->select(index,
                                                QItemSelectionModel::Select | QItemSelectionModel::Rows);
                table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
            }
        };

        // F2 renames the selected run.
        select({m_runs[0]});
        table->setFocus();
        QTest::keyClick(table, Qt::Key_F2);
        QInputDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = w.main.findChild<QInputDialog*>(QStringLiteral("renameRunDialog"))) &&
                    dialog->isVisible());
        auto* edit = dialog->findChild<QLineEdit*>();
        QTRY_COMPARE(edit->text(), QStringLiteral("table #1")); // the current name, to edit
        QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(edit, QStringLiteral("closest to 0.3"));
        QTest::keyClick(edit, Qt::Key_Return);
        QTRY_COMPARE(w.model->index(w.model->rowOfRun(m_runs[0]), nameColumn).data().toString(),
                     QStringLiteral("closest to 0.3"));

        // Tag two runs at once from the context menu.
        select({m_runs[0], m_runs[2]});
        QCOMPARE(w.browser->selectedRuns().size(), 2);
        auto* menu = w.browser->runMenu();
        QVERIFY(menu->findChild<QAction*>(QStringLiteral("runCompare")));
        menu->findChild<QAction*>(QStringLiteral("runAddTag"))->trigger();
        QTRY_VERIFY((dialog = w.main.findChild<QInputDialog*>(QStringLiteral("addTagDialog"))) &&
                    dialog->isVisible());
        QTest::keyClicks(dialog->findChild<QLineEdit*>(), QStringLiteral("stage=prod"));
        QTest::keyClick(dialog->findChild<QLineEdit*>(), Qt::Key_Return);
        for (auto id : {m_runs[0], m_runs[2]})
            QTRY_COMPARE(w.model->index(w.model->rowOfRun(id), tagsColumn).data().toString(),
                         QStringLiteral("stage=prod"));
        QCOMPARE(w.model->index(w.model->rowOfRun(m_runs[1]), tagsColumn).data().toString(), QString());

        // Archive both: they leave the table, and come back with "Show archived".
        select({m_runs[0], m_runs[2]});
        w.browser->runMenu()->findChild<QAction*>(QStringLiteral("runArchive"))->trigger();
        QTRY_COMPARE(w.model->rowCount(), 1);
        auto* archived = w.browser->findChild<QCheckBox*>(QStringLiteral("showArchived"));
        QTest::mouseClick(archived, Qt::LeftButton, {}, QPoint(8, archived->height() / 2));
        QTRY_COMPARE(w.model->rowCount(), 3);
        select({m_runs[0], m_runs[2]});
        auto* menu2 = w.browser->runMenu(); // (each call fills the menu anew)
        const auto deleteText = menu2->findChild<QAction*>(QStringLiteral("runDelete"))->text();
        QVERIFY2(deleteText.endsWith(QLatin1String("\tDel")), qPrintable(deleteText)); // its key, shown
        auto* unarchive = menu2->findChild<QAction*>(QStringLiteral("runArchive"));
        QCOMPARE(unarchive->text(), QStringLiteral("Un&archive"));
        unarchive->trigger();
        QTRY_VERIFY(!m_ws->client().run(m_runs[2])["archived"].get<bool>());

        // Del on the run a model came from: asked first, then refused, naming the model.
        type(w.browser->filter(), QStringLiteral("experiment = kept"));
        QTRY_COMPARE(w.model->rowCount(), 1);
        QTRY_VERIFY(w.model->runAt(0) == modelRun);
        select({modelRun});
        w.main.activateWindow(); // (the offscreen platform leaves no window active after a dialog)
        QVERIFY(QTest::qWaitForWindowActive(&w.main));
        table->setFocus();
        QTRY_VERIFY(table->hasFocus());
        QTest::keyClick(table, Qt::Key_Delete);
        QMessageBox* ask = nullptr;
        QTRY_VERIFY((ask = w.main.findChild<QMessageBox*>(QStringLiteral("deleteRunsDialog"))) &&
                    ask->isVisible());
        QCOMPARE(ask->defaultButton(), ask->button(QMessageBox::Cancel)); // Enter keeps the run
        QTest::mouseClick(ask->button(QMessageBox::Yes), Qt::LeftButton);
        QMessageBox* refused = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT(
            (refused = w.main.findChild<QMessageBox*>(QStringLiteral("runActionRefused"))) &&
                refused->isVisible(),
            Test::scaledMs(10000));
        QVERIFY2(refused->text().contains(QLatin1String("model kept-mlp:1 was registered from it")),
                 qPrintable(refused->text()));
        Test::shot(&w.main, "run-delete-refused");
        refused->accept();
        QCOMPARE(m_ws->client().run(modelRun)["status"].get<std::string>(), std::string("Completed"));

        // A note, written on the run page, rendered from Markdown.
        w.main.openRun(modelRun);
        Ui::RunPage* page = nullptr;
        QTRY_VERIFY(page = w.main.findChild<Ui::RunPage*>());
        auto* lower = page->findChild<QTabWidget*>(QStringLiteral("runLowerTabs"));
        QCOMPARE(lower->tabText(2), QStringLiteral("&Note"));
        QTest::mouseClick(lower->tabBar(), Qt::LeftButton, {}, lower->tabBar()->tabRect(2).center());
        auto* editNote = page->findChild<QPushButton*>(QStringLiteral("editNote"));
        QTRY_VERIFY(editNote->isVisible());
        QTest::mouseClick(editNote, Qt::LeftButton);
        auto* noteEdit = page->findChild<QPlainTextEdit*>(QStringLiteral("runNoteEdit"));
        QTRY_VERIFY(noteEdit->isVisible());
        QTest::keyClicks(noteEdit, QStringLiteral("Registered as **kept-mlp**."));
        QTest::keyClick(noteEdit, Qt::Key_Return, Qt::ControlModifier);
        QTRY_VERIFY(page->note()->isVisible());
        QTRY_COMPARE(page->note()->toPlainText().trimmed(), QStringLiteral("Registered as kept-mlp."));
        QVERIFY(page->note()->toHtml().contains(QLatin1String("font-weight:700")));
        Test::shot(page, "run-note");
        QCOMPARE(m_ws->client().run(modelRun)["note"].get<std::string>(),
                 std::string("Registered as **kept-mlp**."));
    }

    void pagesThroughManyRunsAndRemembersColumns() {
        // 450 runs of a script that ends at once, in their own experiment.
        const auto source = Test::sourceWith(m_tmp, QStringLiteral("quick"), {QStringLiteral("quick.sh")});
        Api::SubmitRequest request;
        request.experiment = "many";
        request.sourceDir = source.toStdString();
        request.script = "quick.sh";
        qint64 first = 0, last = 0;
        for (int i = 0; i < 450; ++i) {
            last = m_ws->client().submit(request)["id"].get<qint64>();
            if (!first)
                first = last;
        }

        Window w(m_ws->path());
        QVERIFY(open(w));
        QAbstractItemModelTester tester(w.model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(w.browser->tableShown()); // as it was left
        // Every experiment, with its true count; the column chosen for "all experiments" is back.
        auto* experiments = w.browser->experimentBox();
        QTRY_COMPARE_WITH_TIMEOUT(w.model->rowCount(), 454, Test::scaledMs(20000));
        QTRY_COMPARE_WITH_TIMEOUT(experiments->itemText(0), QStringLiteral("All experiments (454)"),
                                  Test::scaledMs(30000));
        QVERIFY(w.model->columns().contains(QStringLiteral("max(metrics.score)")));
        QVERIFY(w.model->total() == 454);

        // Choose "many" from the keyboard.
        const int many = experiments->findData(QStringLiteral("many"));
        QCOMPARE(experiments->itemText(many), QStringLiteral("many (450)"));
        experiments->setFocus();
        while (experiments->currentIndex() != many) {
            const int before = experiments->currentIndex();
            QTest::keyClick(experiments, before < many ? Qt::Key_Down : Qt::Key_Up);
            QVERIFY(experiments->currentIndex() != before);
        }
        // (Timeouts are generous: the machine is busy running the 450 runs meanwhile.)
        QTRY_COMPARE_WITH_TIMEOUT(w.model->rowCount(), 450, Test::scaledMs(30000));
        QVERIFY(!w.model->columns().contains(QStringLiteral("max(metrics.score)"))); // its own columns
        // Only the first page is fetched; scrolling to the end fetches the last, oldest run at the bottom.
        QTRY_COMPARE_WITH_TIMEOUT(w.model->runAt(0), last, Test::scaledMs(30000));
        QCOMPARE(w.model->runAt(449), qint64(0));
        w.browser->table()->scrollToBottom();
        QTRY_COMPARE_WITH_TIMEOUT(w.model->runAt(449), first, Test::scaledMs(30000));
        QVERIFY(w.model->runAt(250) == 0 || w.model->runAt(250) == last - 250); // (page 2 only if shown)

        // The runs end; the table follows (statuses and durations) without losing its place.
        QTRY_VERIFY_WITH_TIMEOUT(
            m_ws->client().queryRuns("experiment=many&filter=status%20%3D%20Completed&limit=1").second == 450,
            Test::scaledMs(120000));
        const int status = static_cast<int>(w.model->columns().indexOf(QStringLiteral("status")));
        QTRY_COMPARE_WITH_TIMEOUT(w.model->index(449, status).data().toString(), QStringLiteral("Completed"),
                                  Test::scaledMs(20000));
        QCOMPARE(w.model->rowCount(), 450);
    }

    // The tree, when the workspace has more runs than a refresh lists (here 100 of 454): experiments show
    // their true counts, and an experiment's older runs load as it is scrolled, in order, each once.
    void treeLoadsOlderRunsAsItIsScrolled() {
        // No run page comes back open: selecting its run would scroll the tree, and load it, on its own.
        QSettings().remove(QStringLiteral("window/openRuns"));
        Window w(m_ws->path());
        w.main.setTreeListing(100);
        QVERIFY(open(w));
        w.browser->showTable(false);
        auto& tree = w.main.runModel();
        auto experiment = [&](const char* name) {
            for (int e = 0; e < tree.rowCount(); ++e)
                if (tree.index(e, 0).data().toString() == QLatin1String(name))
                    return tree.index(e, 0);
            return QModelIndex();
        };
        QModelIndex many;
        QTRY_VERIFY_WITH_TIMEOUT((many = experiment("many")).isValid(), Test::scaledMs(20000));
        QCOMPARE(many.data().toString(), QStringLiteral("many"));
        const auto count = [&] {
            return tree.index(many.row(), Ui::RunTreeModel::StatusColumn).data().toString();
        };
        // The listing brought 100 of its runs; until the rest is loaded the row says how many there are.
        // (If the view already scrolled to their end, they may all be loaded by now: pages did that.)
        QTRY_VERIFY2_WITH_TIMEOUT(tree.rowCount(many) >= 100, qPrintable(count()), Test::scaledMs(20000));
        QVERIFY2(count().endsWith(QStringLiteral("of 450 run(s)")) || tree.rowCount(many) == 450,
                 qPrintable(count()));
        Test::shot(&w.main, "tree-partial");
        // Scroll to the end until every run is there.
        auto* view = w.browser->view();
        view->setFocus();
        for (int i = 0; i < 60 && tree.rowCount(many) < 450; ++i) {
            view->scrollToBottom();
            QTest::qWait(100);
        }
        QTRY_COMPARE_WITH_TIMEOUT(tree.rowCount(many), 450, Test::scaledMs(30000));
        QCOMPARE(tree.index(many.row(), Ui::RunTreeModel::StatusColumn).data().toString(),
                 QStringLiteral("450 run(s)"));
        qint64 previous = std::numeric_limits<qint64>::max();
        for (int r = 0; r < 450; ++r) { // newest first, each once
            const auto id = tree.index(r, 0, many).data(Ui::RunTreeModel::RunIdRole).toLongLong();
            QVERIFY2(id < previous,
                     qPrintable(QStringLiteral("row %1: %2 after %3").arg(r).arg(id).arg(previous)));
            previous = id;
        }
        // The other experiments' runs, none of them in the listing, loaded when they came into view.
        for (const auto& e : m_ws->client().get("/api/v1/experiments")) {
            const auto name = e["name"].get<std::string>();
            QTRY_COMPARE_WITH_TIMEOUT(tree.rowCount(experiment(name.c_str())),
                                      static_cast<int>(e["run_count"]), Test::scaledMs(20000));
        }
    }

    // Grouped by experiment (Columns > Group by): the runs come group after group, the experiment's column
    // first, naming each group in bold on its first row only; the choice is remembered.
    void groupsRunsByAField() {
        const auto experiments = m_ws->client().get("/api/v1/experiments"); // by name: kept, many, table
        {
            Window w(m_ws->path());
            QVERIFY(open(w));
            w.browser->showTable(true);
            QTRY_COMPARE_WITH_TIMEOUT(w.model->rowCount(), 454, Test::scaledMs(20000));
            auto* menu = w.browser->columnsMenu();
            QMetaObject::invokeMethod(menu, "aboutToShow");
            auto* byExperiment = menu->findChild<QAction*>(QStringLiteral("groupBy:experiment"));
            QVERIFY(byExperiment);
            byExperiment->trigger();
            QCOMPARE(w.model->groupBy(), QStringLiteral("experiment"));
            QCOMPARE(w.model->columns().first(), QStringLiteral("experiment"));
            int row = 0;
            for (const auto& e : experiments) {
                const auto name = QString::fromStdString(e["name"].get<std::string>());
                const int count = e["run_count"].get<int>();
                w.browser->table()->scrollTo(w.model->index(row + count - 1, 0));
                QTRY_COMPARE_WITH_TIMEOUT(w.model->index(row, 0).data().toString(), name,
                                          Test::scaledMs(20000));
                QVERIFY(w.model->index(row, 0).data(Qt::FontRole).value<QFont>().bold());
                if (count > 1) { // the group's other rows leave it out
                    QTRY_VERIFY_WITH_TIMEOUT(w.model->runAt(row + count - 1) != 0, Test::scaledMs(20000));
                    QCOMPARE(w.model->index(row + count - 1, 0).data().toString(), QString());
                    QCOMPARE(w.model->index(row + count - 1, 0).data(Qt::ToolTipRole).toString(), name);
                }
                row += count;
            }
            QCOMPARE(row, 454);
            Test::shot(&w.main, "runs-grouped");
        }
        // Remembered: a new window groups the same way; Nothing ungroups.
        Window w(m_ws->path());
        QVERIFY(open(w));
        QTRY_COMPARE(w.model->groupBy(), QStringLiteral("experiment"));
        QTRY_COMPARE_WITH_TIMEOUT(w.model->index(0, 0).data().toString(), QStringLiteral("kept"),
                                  Test::scaledMs(20000));
        auto* menu = w.browser->columnsMenu();
        QMetaObject::invokeMethod(menu, "aboutToShow");
        menu->findChild<QAction*>(QStringLiteral("groupBy:"))->trigger();
        QCOMPARE(w.model->groupBy(), QString());
        QTRY_COMPARE_WITH_TIMEOUT(w.model->runAt(0),
                                  m_ws->client().get("/api/v1/runs?limit=1")[0]["id"].get<qint64>(),
                                  Test::scaledMs(20000)); // newest first again
    }
};

int main(int argc, char** argv) {
    return Test::runGuiTest<TestRunsTableGui>(argc, argv);
}
#include "test_runs_table_gui.moc"
