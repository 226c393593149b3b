// Sweeps' pure parts: HyperDrive's search-space expressions, the samplers, the early-termination policies
// (against curves whose verdicts are worked out by hand in the comments), and sweep files.
#include "sweeps/Policy.h"
#include "sweeps/SweepSpec.h"

#include <cmath>
#include <fstream>
#include <QTemporaryDir>
#include <QTest>
#include <set>

using namespace Kiln;
using namespace Kiln::Sweeps;

namespace {

SearchSpace space(const std::vector<std::pair<std::string, std::string>>& exprs) {
    SearchSpace s;
    for (const auto& [name, expr] : exprs)
        s.push_back({name, Distribution::parse(expr)});
    return s;
}

Curve curve(const std::vector<double>& values) {
    Curve c;
    c.values = values;
    for (std::size_t i = 0; i < values.size(); ++i)
        c.steps.push_back(static_cast<std::int64_t>(i) * 100);
    return c;
}

// The best value of a 30-trial sequential sweep of a 2-D quadratic (maximum 0 at x=0.3, y=-1).
double bestOfSweep(const std::string& method, std::uint64_t seed) {
    auto sampler = makeSampler(method, space({{"x", "uniform(-2, 2)"}, {"y", "uniform(-2, 2)"}}), seed);
    std::vector<Observation> done;
    double best = -1e300;
    for (int draw = 0; draw < 30; ++draw) {
        auto v = sampler->sample(draw, done, Goal::Maximize);
        const double x = (*v)["x"].get<double>(), y = (*v)["y"].get<double>();
        const double f = -(x - 0.3) * (x - 0.3) - (y + 1) * (y + 1);
        done.push_back({*v, f});
        best = std::max(best, f);
    }
    return best;
}

std::string show(const Json& j) {
    return j.dump();
}
std::string show(const std::optional<std::string>& s) {
    return s.value_or("(no stop)");
}
std::string show(const std::vector<Json>& v) {
    return Json(v).dump();
}
std::string show(const std::vector<std::size_t>& v) {
    return Json(v).dump();
}
std::string show(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : "none";
}
std::string show(const std::filesystem::path& p) {
    return p.string();
}
template <class T> std::string show(const T& v) {
    return Json(v).dump();
}

} // namespace

// QCOMPARE for the JSON values, optionals and vectors here: says what each side was.
#define SAME(actual, expected)                                                                               \
    do {                                                                                                     \
        const auto a_ = (actual);                                                                            \
        const decltype(a_) e_ = (expected);                                                                  \
        QVERIFY2(a_ == e_, ("got " + show(a_) + ", expected " + show(e_)).c_str());                          \
    } while (false)

class TestSweeps : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void expressionsMeanWhatHyperDriveMeans() {
        // loguniform(-6, -1) is exp(uniform(-6, -1)): 0.0025 to 0.37.
        auto lu = Distribution::parse("loguniform(-6, -1)");
        QVERIFY(std::abs(lu.at(0).get<double>() - std::exp(-6)) < 1e-12);
        QVERIFY(std::abs(lu.at(0.999999999).get<double>() - std::exp(-1)) < 1e-6);
        QVERIFY(std::abs(lu.at(0.5).get<double>() - std::exp(-3.5)) < 1e-12);
        // quniform(32, 256, 32) is round(uniform / 32) * 32: whole multiples of 32, as integers.
        auto qu = Distribution::parse("quniform(32, 256, 32)");
        SAME(qu.at(0.1), Json(64)); // 32 + 0.1 * 224 = 54.4 -> round(1.7) * 32
        QVERIFY(qu.at(0.1).is_number_integer());
        SAME(Distribution::parse("qloguniform(0, 4, 5)").at(0.5), Json(5)); // e^2 = 7.39 -> 5
        SAME(Distribution::parse("randint(5)").at(0.99), Json(4));
        SAME(Distribution::parse("randint(5)").at(0), Json(0));
        SAME(Distribution::parse("uniform(2, 4)").at(0.25), Json(2.5));
        // normal(mu, sigma) at u is mu + sigma * the standard normal's quantile: 0.975 -> 1.959964.
        QVERIFY(std::abs(Distribution::parse("normal(10, 2)").at(0.975).get<double>() - (10 + 2 * 1.959964)) <
                1e-5);
        QVERIFY(std::abs(Distribution::parse("lognormal(0, 1)").at(0.5).get<double>() - 1.0) < 1e-9);
        SAME(Distribution::parse("qnormal(0, 1, 2)").at(0.975), Json(2));    // 1.96 -> round(0.98) * 2
        SAME(Distribution::parse("qlognormal(0, 1, 1)").at(0.975), Json(7)); // e^1.96 = 7.1 -> 7
        // choice keeps numbers, quoted and bare words, and Python's range.
        auto c = Distribution::parse("choice(32, 0.5, 'adam', sgd)");
        SAME(c.choices(), (std::vector<Json>{32, 0.5, "adam", "sgd"}));
        SAME(Distribution::parse("choice(range(1, 4))").choices(), (std::vector<Json>{1, 2, 3}));
        SAME(Distribution::parse("choice(range(3))").choices(), (std::vector<Json>{0, 1, 2}));
        SAME(Distribution::parse("choice(range(10, 0, -5))").choices(), (std::vector<Json>{10, 5}));
    }

    void badExpressionsSayWhereTheyAreWrong() {
        auto columnOf = [](const std::string& text) {
            try {
                Distribution::parse(text);
            } catch (const SpaceError& e) {
                return std::make_pair(e.column, std::string(e.what()));
            }
            return std::make_pair(-1, std::string());
        };
        SAME(columnOf("uniform(1, x)").first, 12);
        QVERIFY(columnOf("uniform(1, x)").second.find("expected a number at column 12") != std::string::npos);
        SAME(columnOf("unifrom(1, 2)").first, 1);
        QVERIFY(columnOf("unifrom(1, 2)").second.find("unknown distribution 'unifrom'") != std::string::npos);
        SAME(columnOf("uniform(1, 2").first, 13);
        SAME(columnOf("uniform(1, 2) x").first, 15);
        QVERIFY(columnOf("uniform(1, 2, 3)").second.find("takes 2 numbers") != std::string::npos);
        QVERIFY(columnOf("uniform(3, 2)").second.find("low bound must be below") != std::string::npos);
        QVERIFY(columnOf("normal(0, 0)").second.find("sigma") != std::string::npos);
        QVERIFY(columnOf("quniform(0, 1, 0)").second.find("q must be above 0") != std::string::npos);
        QVERIFY(columnOf("randint(0)").first >= 0);
        QVERIFY(columnOf("choice()").first > 0);
        QVERIFY(columnOf("choice(range(0, 1, 0))").first > 0);
        QVERIFY(columnOf("choice(range(0, 100000000))").first > 0);
        QVERIFY(columnOf("").first > 0);
    }

    void gridEnumeratesTheProductExactlyOnce() {
        auto grid = makeSampler("grid", space({{"a", "choice(1, 2, 3)"}, {"b", "choice(x, y)"}}), 0);
        SAME(grid->size(), std::optional<std::int64_t>(6));
        std::set<std::string> seen;
        for (int i = 0; i < 6; ++i)
            QVERIFY(seen.insert(grid->sample(i, {}, Goal::Maximize)->dump()).second);
        SAME(seen.size(), std::size_t(6));
        QVERIFY(!grid->sample(6, {}, Goal::Maximize));
        QVERIFY(seen.count(Json{{"a", 3}, {"b", "y"}}.dump()));
        QVERIFY_THROWS_EXCEPTION(SpaceError, makeSampler("grid", space({{"a", "uniform(0, 1)"}}), 0));
        QVERIFY_THROWS_EXCEPTION(SpaceError, makeSampler("hyperband", space({{"a", "uniform(0, 1)"}}), 0));
    }

    void randomAndSobolStayInBoundsAndRepeatWithTheSeed() {
        const auto s =
            space({{"lr", "loguniform(-6, -1)"}, {"n", "quniform(32, 256, 32)"}, {"k", "choice(1, 2)"}});
        for (const char* method : {"random", "sobol"}) {
            auto a = makeSampler(method, s, 7), b = makeSampler(method, s, 7),
                 other = makeSampler(method, s, 8);
            int differ = 0;
            for (int i = 0; i < 200; ++i) {
                const auto v = *a->sample(i, {}, Goal::Maximize);
                SAME(v, *b->sample(i, {}, Goal::Maximize)); // the same seed, the same trials
                differ += v != *other->sample(i, {}, Goal::Maximize);
                const double lr = v["lr"].get<double>();
                QVERIFY2(lr >= std::exp(-6) && lr <= std::exp(-1), v.dump().c_str());
                const auto n = v["n"].get<std::int64_t>();
                QVERIFY2(n >= 32 && n <= 256 && n % 32 == 0, v.dump().c_str());
                QVERIFY(v["k"] == 1 || v["k"] == 2);
            }
            QVERIFY2(differ > 190, method); // another seed, other trials
        }
    }

    void logUniformIsUniformInLogSpace() {
        // 4000 random draws of loguniform(-6, -1): the logarithms fill [-6, -1] evenly (each of 10 bins holds
        // 400 +- 4 standard deviations), so the values themselves crowd towards 0.0025.
        auto r = makeSampler("random", space({{"lr", "loguniform(-6, -1)"}}), 42);
        std::vector<int> bins(10);
        for (int i = 0; i < 4000; ++i) {
            const double l = std::log((*r->sample(i, {}, Goal::Maximize))["lr"].get<double>());
            bins[std::min(9, static_cast<int>((l + 6) / 0.5))]++;
        }
        for (int b : bins)
            QVERIFY2(std::abs(b - 400) < 4 * std::sqrt(400 * 0.9), qPrintable(QString::number(b)));
    }

    void sobolCoversEvenly() {
        // 64 Sobol points on [0, 1): each eighth holds 8 +- 1 (a shifted net); 64 random ones rarely do.
        auto s = makeSampler("sobol", space({{"u", "uniform(0, 1)"}, {"v", "uniform(0, 1)"}}), 3);
        std::vector<int> bins(8);
        for (int i = 0; i < 64; ++i)
            bins[static_cast<std::size_t>((*s->sample(i, {}, Goal::Maximize))["u"].get<double>() * 8)]++;
        for (int b : bins)
            QVERIFY2(b >= 7 && b <= 9, qPrintable(QString::number(b)));
    }

    void bayesianBeatsRandomOnAQuadratic() {
        double bayes = 0, random = 0;
        for (std::uint64_t seed = 1; seed <= 8; ++seed) {
            bayes += bestOfSweep("bayesian", seed);
            random += bestOfSweep("random", seed);
        }
        qInfo("mean best of 30 trials over 8 seeds: bayesian %.4f, random %.4f", bayes / 8, random / 8);
        QVERIFY(bayes > random);
        QVERIFY(bayes / 8 > -0.1); // close to the optimum 0
    }

    void banditComparesWithTheBestAtTheSameInterval() {
        Policy p = Policy::fromJson({{"policy", "bandit"}, {"slack_factor", 0.1}});
        // At interval 2 the best is 0.86; 0.86 / 1.1 = 0.782, so 0.71 is out and 0.80 is in.
        std::vector<Curve> curves = {curve({0.5, 0.86}), curve({0.5, 0.71}), curve({0.4, 0.80})};
        SAME(
            evaluate(p, Goal::Maximize, curves, 1, 2),
            std::optional<std::string>("bandit: 0.71 is more than 10% worse than the best 0.86 at step 100"));
        QVERIFY(!evaluate(p, Goal::Maximize, curves, 2, 2));
        QVERIFY(!evaluate(p, Goal::Maximize, curves, 0, 2));
        // Minimizing a loss with slack_amount 0.2: the best at interval 1 is 1.0, so 1.3 is out, 1.15 is in.
        Policy a = Policy::fromJson({{"policy", "bandit"}, {"slack_amount", 0.2}});
        std::vector<Curve> losses = {curve({1.0}), curve({1.3}), curve({1.15})};
        SAME(evaluate(a, Goal::Minimize, losses, 1, 1),
             std::optional<std::string>("bandit: 1.3 is more than 0.2 above the best 1 at step 0"));
        QVERIFY(!evaluate(a, Goal::Minimize, losses, 2, 1));
        // At interval 1 the best is 0.5 and 0.5 / 1.1 = 0.4545: trial 2's 0.4 was already out then.
        SAME(evaluate(p, Goal::Maximize, curves, 2, 1),
             std::optional<std::string>("bandit: 0.4 is more than 10% worse than the best 0.5 at step 0"));
    }

    void policiesApplyAtIntervalsAfterTheDelay() {
        Policy p = Policy::fromJson({{"policy", "bandit"},
                                     {"slack_factor", 0.1},
                                     {"evaluation_interval", 2},
                                     {"delay_evaluation", 3}});
        std::vector<std::size_t> at;
        for (std::size_t n = 1; n <= 10; ++n)
            if (p.appliesAt(n))
                at.push_back(n);
        SAME(at, (std::vector<std::size_t>{4, 6, 8, 10})); // multiples of 2 that are >= 3
        Policy asha =
            Policy::fromJson({{"policy", "asha"}, {"reduction_factor", 3}, {"delay_evaluation", 2}});
        at.clear();
        for (std::size_t n = 1; n <= 60; ++n)
            if (asha.appliesAt(n))
                at.push_back(n);
        SAME(at, (std::vector<std::size_t>{2, 6, 18, 54})); // rungs 2 * 3^k
        // Off the schedule, nothing is judged however bad.
        std::vector<Curve> curves = {curve({1, 1, 1, 1}), curve({0, 0, 0, 0})};
        QVERIFY(!evaluate(p, Goal::Maximize, curves, 1, 3));
        QVERIFY(evaluate(p, Goal::Maximize, curves, 1, 4));
    }

    void medianStoppingComparesTheBestWithTheMedianOfRunningAverages() {
        Policy p = Policy::fromJson({{"policy", "median_stopping"}});
        // Running averages over intervals 1..3: A 2, B 3, C 0.5; their median is 2. C's best so far, 1, is
        // worse: stopped. A's best, 3, is not.
        std::vector<Curve> curves = {curve({1, 2, 3}), curve({2, 3, 4}), curve({0, 0.5, 1})};
        SAME(
            evaluate(p, Goal::Maximize, curves, 2, 3),
            std::optional<std::string>("median_stopping: the best so far, 1, is worse than the median 2 of 3 "
                                       "trials' running averages at step 200"));
        QVERIFY(!evaluate(p, Goal::Maximize, curves, 0, 3));
        // Alone, a trial is never worse than its own average.
        QVERIFY(!evaluate(p, Goal::Maximize, {curve({5, 1, 0})}, 0, 3));
    }

    void truncationStopsTheLowestShare() {
        Policy p = Policy::fromJson({{"policy", "truncation_selection"}, {"truncation_percentage", 25}});
        // Four trials at interval 1: floor(4 * 25%) = 1 is cut, the lowest (0.1).
        std::vector<Curve> four = {curve({0.1}), curve({0.2}), curve({0.3}), curve({0.4})};
        SAME(evaluate(p, Goal::Maximize, four, 0, 1),
             std::optional<std::string>(
                 "truncation_selection: 0.1 is in the lowest 25% of 4 trials at step 0"));
        QVERIFY(!evaluate(p, Goal::Maximize, four, 1, 1));
        // Minimizing, the largest value is the lowest performer.
        QVERIFY(evaluate(p, Goal::Minimize, four, 3, 1));
        // Three trials: floor(0.75) = 0, nobody is cut.
        std::vector<Curve> three = {curve({0.1}), curve({0.2}), curve({0.3})};
        QVERIFY(!evaluate(p, Goal::Maximize, three, 0, 1));
        // A young trial is judged on what the others had reached by the same interval: at interval 1 trial 0
        // (0.3) beats the 0.1 and 0.2 the others had then, although they went on to 0.9.
        std::vector<Curve> young = {curve({0.3}), curve({0.1, 0.9}), curve({0.2, 0.9}), curve({0.25, 0.9})};
        QVERIFY(!evaluate(p, Goal::Maximize, young, 0, 1));
    }

    void ashaKeepsTheTopThirdAtEachRung() {
        Policy p = Policy::fromJson({{"policy", "asha"}, {"reduction_factor", 3}});
        // Rung 1 reached by three trials: floor(3 / 3) = 1 goes on, the best (0.9).
        std::vector<Curve> curves = {curve({0.9}), curve({0.5}), curve({0.1})};
        QVERIFY(!evaluate(p, Goal::Maximize, curves, 0, 1));
        SAME(evaluate(p, Goal::Maximize, curves, 1, 1),
             std::optional<std::string>("asha: 0.5 is not in the top 1 of 3 trials at rung 1 at step 0"));
        // The first trial to reach a rung always goes on (there is nobody to compare with).
        QVERIFY(!evaluate(p, Goal::Maximize, {curve({0.0})}, 0, 1));
        // Six trials at rung 3: the top 2 go on.
        std::vector<Curve> six;
        for (double v : {0.6, 0.5, 0.4, 0.3, 0.2, 0.1})
            six.push_back(curve({0, 0, v}));
        QVERIFY(!evaluate(p, Goal::Maximize, six, 1, 3));
        QVERIFY(evaluate(p, Goal::Maximize, six, 2, 3));
    }

    void badPoliciesAreRefused() {
        for (const auto& j :
             {Json{{"policy", "bandit"}},
              Json{{"policy", "bandit"}, {"slack_factor", 0.1}, {"slack_amount", 1}},
              Json{{"policy", "bandit"}, {"slack_factor", -1}}, Json{{"policy", "truncation_selection"}},
              Json{{"policy", "median_stopping"}, {"evaluation_interval", 0}},
              Json{{"policy", "median_stopping"}, {"slack_factor", 0.1}},
              Json{{"policy", "asha"}, {"reduction_factor", 1}}, Json{{"policy", "hyperband"}},
              Json("bandit")})
            QVERIFY_THROWS_EXCEPTION(SpaceError, Policy::fromJson(j));
    }

    void specsAreValidatedAndNormalized() {
        Json body = {{"experiment", "e"},
                     {"script", "s.py"},
                     {"parameters", {{"--lr", "loguniform(-9, -2)"}}},
                     {"primary_metric", {{"name", "acc"}}}};
        auto spec = SweepSpec::fromJson(body);
        SAME(spec.maxTotalTrials, std::int64_t(20));
        SAME(spec.parameters[0].argument(), std::string("--lr"));
        SAME(spec.parameters[0].key(), std::string("lr"));
        SAME(SweepSpec::fromJson(spec.toJson()).toJson(), spec.toJson());
        SAME((Parameter{"--first-layer-neurons", Distribution::parse("choice(1)")}.key()),
             std::string("first_layer_neurons"));
        SAME((Parameter{"batch_size", Distribution::parse("choice(1)")}.argument()),
             std::string("--batch_size"));
        // A grid runs each of its points once, whatever max_total_trials says.
        auto grid = body;
        grid["sampling"] = "grid";
        grid["parameters"] = {{"--a", "choice(1, 2)"}, {"--b", "choice(3, 4, 5)"}};
        grid["max_total_trials"] = 100;
        SAME(SweepSpec::fromJson(grid).maxTotalTrials, std::int64_t(6));
        auto fails = [&](Json b, const std::string& expected) {
            try {
                SweepSpec::fromJson(b);
            } catch (const SpaceError& e) {
                QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
                return;
            }
            QFAIL(("accepted: " + b.dump()).c_str());
        };
        auto b = body;
        b["max_concurent_trials"] = 3;
        fails(b, "'max_concurent_trials' is not a sweep setting; did you mean 'max_concurrent_trials'?");
        b = body;
        b["parameters"]["--lr"] = "loguniform(-9, x)";
        fails(b, "parameters.--lr: expected a number at column 16");
        b = body;
        b.erase("primary_metric");
        fails(b, "primary_metric needs a name");
        b = body;
        b["primary_metric"]["goal"] = "max";
        fails(b, "goal must be maximize or minimize");
        b = body;
        b["parameters"] = Json::object();
        fails(b, "parameters must map");
        b = body;
        b["parameters"] = {{"--lr", "uniform(0, 1)"}, {"lr", "uniform(0, 1)"}};
        fails(b, "two names give the run param 'lr'");
        b = body;
        b["max_total_trials"] = 0;
        fails(b, "max_total_trials must be a whole number");
        b = body;
        b["sampling"] = "grid";
        fails(b, "grid sampling takes choice() parameters only");
    }

    void sweepFilesReportLineAndColumn() {
        QTemporaryDir dir;
        auto write = [&](const std::string& text) {
            std::ofstream(dir.filePath(QStringLiteral("sweep.yml")).toStdString()) << text;
            return std::filesystem::path(dir.filePath(QStringLiteral("sweep.yml")).toStdString());
        };
        const std::string good =
            "experiment: e\nsource: src\nscript: train.py\narguments: [--epochs, 1, "
            "\"{dataset:fm}\"]\nparameters:\n  --lr: loguniform(-9.2, -2.3)\n  --bs: choice(32, "
            "64)\nprimary_metric: {name: accuracy, goal: maximize}\nmax_total_trials: 4\n";
        auto file = readSweepFile(write(good));
        SAME(file.source,
             std::filesystem::path(dir.path().toStdString()) / "src"); // relative to the file
        SAME(file.body["args"], (Json{"--epochs", "1", "{dataset:fm}"}));
        SAME(file.body["max_total_trials"], Json(4));
        auto message = [&](const std::string& text) {
            try {
                readSweepFile(write(text));
            } catch (const SpaceError& e) {
                return std::string(e.what());
            }
            return std::string("accepted");
        };
        // The 'x' of the expression on line 6: the value starts at column 9 and the x is its 18th character.
        auto bad = good;
        bad.replace(bad.find("-2.3)"), 4, "x");
        SAME(message(bad).substr(0, 15), std::string("sweep.yml:6:26:"));
        QVERIFY(message("experiment: [unclosed\n").rfind("sweep.yml:", 0) == 0);
        QVERIFY(message(good + "max_total_trials: many\n").find("sweep.yml:") == 0);
        QVERIFY2(message(good + "sampling: grid\n").find("sweep.yml:") == 0,
                 message(good + "sampling: grid\n").c_str());
        QVERIFY(message("experiment: e\n").find("source") != std::string::npos);
        QVERIFY(message("- a\n- b\n").find("a mapping of settings") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSweeps)
#include "test_sweeps.moc"
