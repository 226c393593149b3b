#include "Controller.h"

#include "metrics/MetricStore.h"
#include "runs/RunStore.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

namespace Kiln::Sweeps {

using Runs::RunStatus;

namespace {

bool stoppedByPolicy(const Runs::RunRecord& r) {
    if (r.status != RunStatus::Canceled)
        return false;
    for (const char* p : {"bandit:", "median_stopping:", "truncation_selection:", "asha:"})
        if (r.cancelBy.rfind(p, 0) == 0)
            return true;
    return false;
}

std::optional<double> bestOf(const Curve& c, Goal goal) {
    if (c.values.empty())
        return std::nullopt;
    return goal == Goal::Maximize ? *std::max_element(c.values.begin(), c.values.end())
                                  : *std::min_element(c.values.begin(), c.values.end());
}

} // namespace

Controller::Controller(SweepStore& sweeps, Runs::RunStore& runs, Metrics::MetricStore& metrics)
    : m_sweeps(sweeps)
    , m_runs(runs)
    , m_metrics(metrics) {}

Controller::~Controller() {
    stop();
}

void Controller::start(Hooks hooks) {
    m_hooks = std::move(hooks);
    for (auto id : m_sweeps.unsettled())
        m_dirty.insert(id);
    m_thread = std::thread([this] { loop(); });
}

void Controller::stop() {
    {
        std::lock_guard g(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void Controller::mark(std::int64_t sweep) {
    {
        std::lock_guard g(m_mutex);
        m_dirty.insert(sweep);
    }
    m_cv.notify_all();
}

void Controller::created(std::int64_t sweep) {
    mark(sweep);
}

void Controller::runChanged(std::int64_t run) {
    std::int64_t sweep = 0;
    {
        std::lock_guard g(m_mutex);
        auto it = m_sweepOf.find(run);
        if (it == m_sweepOf.end())
            return;
        sweep = it->second;
    }
    mark(sweep);
}

void Controller::metricsLogged(std::int64_t run) {
    runChanged(run);
}

bool Controller::cancel(std::int64_t sweep, const std::string& by) {
    bool ended = false;
    {
        std::lock_guard g(m_starting); // a trial being started now is started before this answers
        ended = m_sweeps.finish(sweep, "Canceled", "", by);
    }
    mark(sweep); // its live trials are canceled on the controller's thread
    return ended;
}

void Controller::loop() {
    using namespace std::chrono;
    auto nextResync = steady_clock::now() + seconds(10);
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        // Events wake the loop; a sweep's max duration is a deadline; every 10 s everything unsettled is
        // looked at again, a safety net for an event that could not be acted on (a full disk).
        auto wake = nextResync;
        const double now = Util::nowSeconds();
        for (const auto& [id, at] : m_deadlines)
            wake = std::min(wake, steady_clock::now() + milliseconds(static_cast<std::int64_t>(
                                                            std::max(0.0, (at - now) * 1000) + 5)));
        m_cv.wait_until(lock, wake, [this] { return m_stop || !m_dirty.empty(); });
        if (m_stop)
            break;
        if (steady_clock::now() >= nextResync) {
            nextResync = steady_clock::now() + seconds(10);
            lock.unlock();
            std::vector<std::int64_t> all;
            try {
                all = m_sweeps.unsettled();
            } catch (const std::exception& e) {
                std::cerr << "kilnd: sweeps: " << e.what() << std::endl;
            }
            lock.lock();
            m_dirty.insert(all.begin(), all.end());
        }
        const double t = Util::nowSeconds();
        for (const auto& [id, at] : m_deadlines)
            if (at <= t)
                m_dirty.insert(id);
        auto dirty = std::move(m_dirty);
        m_dirty.clear();
        lock.unlock();
        for (auto id : dirty) {
            try {
                step(id);
            } catch (const std::exception& e) {
                std::cerr << "kilnd: sweep " << id << ": " << e.what() << " (tried again later)" << std::endl;
            }
        }
        lock.lock();
    }
}

void Controller::step(std::int64_t id) {
    auto sweep = m_sweeps.get(id);
    if (!sweep)
        return;
    auto loaded = m_loaded.find(id);
    if (loaded == m_loaded.end()) {
        Loaded l;
        l.spec = SweepSpec::fromJson(sweep->spec);
        l.sampler = makeSampler(l.spec.sampling, l.spec.parameters, l.spec.seed);
        loaded = m_loaded.emplace(id, std::move(l)).first;
    }
    const auto& spec = loaded->second.spec;
    auto trials = m_runs.trials(id);
    {
        std::lock_guard g(m_mutex);
        for (const auto& t : trials)
            m_sweepOf[t.id] = id;
    }
    const bool running = sweep->status == "Running";
    bool changed = false;

    // The curves, and the policy's verdicts. As HyperDrive applies a policy, every live trial is judged at
    // each interval it has reached against what every trial reported at that interval, whenever that was
    // reported: a verdict at interval n changes only when some trial's value at n is new, so each live trial
    // is judged again at the intervals that gained values in this step (its own new ones among them). The
    // outcome no longer depends on which trial happened to report first. (asha alone judges a rung once,
    // when the trial reaches it: it is asynchronous by design.)
    std::vector<Curve> curves;
    std::vector<std::pair<std::size_t, std::size_t>> grown; // intervals [first, last] that gained values
    for (const auto& t : trials) {
        auto [it, fresh] = m_followed.try_emplace(t.id);
        auto& f = it->second;
        if (!f.final) {
            // Only what it logged since the last look is read (a live trial's history grows on each batch).
            const auto before = f.curve.values.size();
            auto more = m_metrics.history(t.id, spec.primaryMetric, before);
            f.curve.values.insert(f.curve.values.end(), more.values.begin(), more.values.end());
            f.curve.steps.insert(f.curve.steps.end(), more.steps.begin(), more.steps.end());
            f.final = Runs::isTerminal(t.status);
            if (f.curve.values.size() > before)
                grown.emplace_back(before + 1, f.curve.values.size());
            if (fresh) // (after a restart, asha's rungs already passed are not judged again)
                f.evaluated = f.curve.values.empty() ? 0 : f.curve.values.size() - 1;
        }
        curves.push_back(f.curve);
    }
    if (running && spec.policy.kind != Policy::Kind::None && !grown.empty()) {
        const bool once = spec.policy.kind == Policy::Kind::Asha;
        for (std::size_t i = 0; i < trials.size(); ++i) {
            auto& f = m_followed[trials[i].id];
            const auto reached = curves[i].values.size();
            if (Runs::isTerminal(trials[i].status) || trials[i].cancelRequested) {
                f.evaluated = reached;
                continue;
            }
            std::vector<std::size_t> intervals;
            for (const auto& [first, last] : grown)
                for (auto n = once ? std::max(first, f.evaluated + 1) : first; n <= std::min(last, reached);
                     ++n)
                    intervals.push_back(n);
            std::sort(intervals.begin(), intervals.end());
            intervals.erase(std::unique(intervals.begin(), intervals.end()), intervals.end());
            f.evaluated = reached;
            for (const auto n : intervals)
                if (auto why = evaluate(spec.policy, spec.goal, curves, i, n)) {
                    m_hooks.cancelRun(trials[i].id, *why);
                    changed = true;
                    break;
                }
        }
    }

    const double now = Util::nowSeconds();
    const bool expired = spec.maxDurationMinutes > 0 && now >= sweep->created + spec.maxDurationMinutes * 60;
    std::size_t live = 0;
    for (const auto& t : trials)
        live += !Runs::isTerminal(t.status);
    if (live > 0 && (!running || expired)) {
        const std::string by = !running ? (sweep->cancelBy.empty() ? "the sweep ended" : sweep->cancelBy)
                                        : "the sweep's max_duration_minutes (" +
                                              Json(spec.maxDurationMinutes).dump() + ") passed";
        for (const auto& t : trials)
            if (!Runs::isTerminal(t.status) && !t.cancelRequested) {
                m_hooks.cancelRun(t.id, by);
                changed = true;
            }
    }
    if (spec.maxDurationMinutes > 0 && running && !expired)
        m_deadlines[id] = sweep->created + spec.maxDurationMinutes * 60;
    else
        m_deadlines.erase(id);

    // New trials, while the limits allow.
    bool exhausted = false;
    auto total = static_cast<std::int64_t>(trials.size());
    if (running && !expired) {
        std::set<std::string> seen;
        std::int64_t nextDraw = 0;
        std::vector<Observation> finished;
        for (std::size_t i = 0; i < trials.size(); ++i) {
            const auto& t = trials[i];
            Json values = Json::object();
            for (const auto& p : spec.parameters)
                if (t.params.contains(p.key()))
                    values[p.name] = t.params[p.key()];
            seen.insert(values.dump());
            nextDraw = std::max(nextDraw, t.sweepDraw + 1);
            if (t.status == RunStatus::Completed || stoppedByPolicy(t))
                if (auto best = bestOf(curves[i], spec.goal))
                    finished.push_back({values, *best});
        }
        while (static_cast<std::int64_t>(live) < spec.maxConcurrentTrials && total < spec.maxTotalTrials) {
            std::optional<Json> values;
            for (int tries = 0; tries < 1000; ++tries, ++nextDraw) {
                values = loaded->second.sampler->sample(nextDraw, finished, spec.goal);
                if (!values || !seen.count(values->dump()))
                    break;
                values.reset(); // a duplicate: the next draw
            }
            if (!values) {
                exhausted = true;
                break;
            }
            std::int64_t run = 0;
            // Not after a cancel was acknowledged: it may have come since this step read the sweep.
            std::lock_guard starting(m_starting);
            if (const auto now = m_sweeps.get(id); !now || now->status != "Running")
                break;
            try {
                run = m_hooks.submit(*sweep, *values, nextDraw, static_cast<int>(total + 1));
            } catch (const UserError& e) {
                if (e.status() >= 500)
                    throw; // a full disk: tried again later (the loop's resync), the sweep goes on
                // The template cannot run any more (its environment or compute target went): the sweep ends.
                for (const auto& t : trials)
                    if (!Runs::isTerminal(t.status))
                        m_hooks.cancelRun(t.id, "the sweep failed");
                m_sweeps.finish(id, "Failed", std::string("cannot start a trial: ") + e.what(), "");
                m_hooks.changed(id);
                m_shown.erase(id);
                if (m_hooks.progressed)
                    m_hooks.progressed(id);
                return;
            }
            {
                std::lock_guard g(m_mutex);
                m_sweepOf[run] = id;
                m_dirty.insert(id); // look again once it is under way (an early end is not missed)
            }
            m_followed.try_emplace(run); // followed from its first point: every interval of it is judged
            seen.insert(values->dump());
            ++nextDraw;
            ++live;
            ++total;
            changed = true;
        }
    }

    bool ended = !running;
    if (running && live == 0 && (total >= spec.maxTotalTrials || exhausted || expired)) {
        std::size_t failed = 0;
        std::string firstError;
        for (const auto& t : trials)
            if (t.status == RunStatus::Failed) {
                ++failed;
                if (firstError.empty())
                    firstError = t.error;
            }
        if (!trials.empty() && failed == trials.size())
            m_sweeps.finish(id, "Failed", "every trial failed; the first: " + firstError, "");
        else
            m_sweeps.finish(id, "Completed", "", "");
        m_deadlines.erase(id);
        changed = true;
        ended = true;
    }
    if (ended && live == 0) { // settled: nothing of it is needed in memory any more
        m_loaded.erase(id);
        std::lock_guard g(m_mutex);
        for (const auto& t : trials) {
            m_sweepOf.erase(t.id);
            m_followed.erase(t.id);
        }
    }
    if (changed)
        m_hooks.changed(id);
    // Its view: every trial's status and number of points, and its own status. Followers are told when that
    // moved, or when this step changed it (trials added or canceled, the sweep ended).
    std::string shown = sweep->status + (ended ? " ended" : "");
    for (const auto& t : trials) {
        const auto f = m_followed.find(t.id);
        shown += ' ' + std::to_string(t.id) + ':' + std::string(Runs::toString(t.status)) + ':' +
                 std::to_string(f == m_followed.end() ? 0 : f->second.curve.values.size());
    }
    if (ended && live == 0)
        m_shown.erase(id);
    else if (auto& last = m_shown[id]; changed || last != shown)
        last = std::move(shown);
    else
        return;
    if (m_hooks.progressed)
        m_hooks.progressed(id);
}

Json Controller::view(const SweepRecord& sweep, bool withTrials) {
    const auto spec = SweepSpec::fromJson(sweep.spec);
    Json j = {{"id", sweep.id},       {"experiment", sweep.experiment}, {"status", sweep.status},
              {"error", sweep.error}, {"cancel_by", sweep.cancelBy},    {"created", sweep.created},
              {"spec", sweep.spec}};
    j["ended"] = sweep.ended ? Json(*sweep.ended) : Json(nullptr);
    Json counts = {{"trials", 0}, {"queued", 0},        {"running", 0}, {"completed", 0},
                   {"failed", 0}, {"stopped_early", 0}, {"canceled", 0}};
    Json trials = Json::array();
    Json best = nullptr;
    // Each trial's best and count of the primary metric come from the keys' summaries kept at ingest (one
    // query for all trials), never from reading their histories.
    const auto all = m_runs.trials(sweep.id);
    std::vector<std::int64_t> ids;
    for (const auto& t : all)
        ids.push_back(t.id);
    const auto summaries = m_runs.metricSummaries(ids);
    for (const auto& t : all) {
        counts["trials"] = counts["trials"].get<int>() + 1;
        const char* bucket = t.status == RunStatus::Queued      ? "queued"
                             : t.status == RunStatus::Completed ? "completed"
                             : t.status == RunStatus::Failed    ? "failed"
                             : stoppedByPolicy(t)               ? "stopped_early"
                             : t.status == RunStatus::Canceled  ? "canceled"
                                                                : "running";
        counts[bucket] = counts[bucket].get<int>() + 1;
        std::optional<double> metric;
        std::int64_t reports = 0;
        if (const auto run = summaries.find(std::to_string(t.id)); run != summaries.end())
            if (const auto key = run->find(spec.primaryMetric); key != run->end()) {
                const auto& extreme = (*key)[spec.goal == Goal::Maximize ? "max" : "min"];
                if (extreme.is_number())
                    metric = extreme.get<double>();
                reports = (*key)["count"].get<std::int64_t>();
            }
        if (metric &&
            (best.is_null() || (spec.goal == Goal::Maximize ? *metric > best["metric"].get<double>()
                                                            : *metric < best["metric"].get<double>())))
            best = {{"run", t.id}, {"params", t.params}, {"metric", *metric}};
        if (withTrials)
            trials.push_back({{"run", t.id},
                              {"name", t.name},
                              {"params", t.params},
                              {"status", Runs::toString(t.status)},
                              {"metric", metric ? Json(*metric) : Json(nullptr)},
                              {"reports", reports},
                              {"stop_reason", t.status == RunStatus::Canceled ? t.cancelBy : std::string()},
                              {"error", t.error}});
    }
    j["counts"] = counts;
    if (withTrials)
        j["trials"] = trials;
    j["best"] = best;
    return j;
}

} // namespace Kiln::Sweeps
