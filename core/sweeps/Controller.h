#pragma once
#include "sweeps/SweepSpec.h"
#include "sweeps/SweepStore.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace Kiln::Runs {
class RunStore;
}
namespace Kiln::Metrics {
class MetricStore;
}

namespace Kiln::Sweeps {

// Carries every sweep to its end, driven by events: a sweep created or canceled, a trial's status changing,
// a trial logging metrics. On its own thread it stops trials the early-termination policy condemns (as the
// points arrive), starts new trials while the limits allow, and ends the sweep when nothing is left to run.
// All state is in SQLite (the sweep's spec and status; trials are runs carrying their sweep and draw), so a
// restarted kilnd picks every sweep up where it was (start()). No exception leaves the thread.
class Controller final {
public:
    struct Hooks {
        // Submits a trial: the sweep's run template with the trial's values appended as arguments and
        // recorded as params. Returns the run's id; throws UserError when the template cannot run any more.
        std::function<std::int64_t(const SweepRecord& sweep, const Json& values, std::int64_t draw,
                                   int number)>
            submit;
        std::function<void(std::int64_t run, const std::string& by)> cancelRun;
        std::function<void(std::int64_t sweep)> changed;    // its trials or status: the workspace's lists
        std::function<void(std::int64_t sweep)> progressed; // anything its view shows (a trial's points too)
    };
    Controller(SweepStore& sweeps, Runs::RunStore& runs, Metrics::MetricStore& metrics);
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    void start(Hooks hooks); // picks up unsettled sweeps, then follows events
    void stop();

    void created(std::int64_t sweep);
    void runChanged(std::int64_t run);    // a run's status changed
    void metricsLogged(std::int64_t run); // a run logged points
    // Cancels the sweep and its live trials, recording who asked; false when it had ended already.
    bool cancel(std::int64_t sweep, const std::string& by);

    // The sweep as the API shows it: {id, experiment, status, error, cancel_by, created, ended, spec,
    // counts: {trials, queued, running, completed, failed, stopped_early, canceled},
    // trials: [{run, name, params, status, metric, reports, stop_reason, error}], best: {run, params,
    // metric}}. `metric` is the best value of the primary metric a trial reported.
    Json view(const SweepRecord& sweep, bool withTrials);

private:
    struct Followed {
        Curve curve;
        std::size_t evaluated = 0; // intervals the policy has judged (asha judges each rung once)
        bool final = false;        // the trial ended and its curve was read after
    };
    struct Loaded {
        SweepSpec spec;
        std::unique_ptr<Sampler> sampler;
    };
    void loop();
    void step(std::int64_t sweep);
    void mark(std::int64_t sweep);

    SweepStore& m_sweeps;
    Runs::RunStore& m_runs;
    Metrics::MetricStore& m_metrics;
    Hooks m_hooks;

    std::mutex m_mutex;
    std::mutex m_starting; // held while a trial starts, and by cancel(): none starts after a cancel answered
    std::condition_variable m_cv;
    std::set<std::int64_t> m_dirty;
    std::map<std::int64_t, std::int64_t> m_sweepOf; // trial run -> sweep
    bool m_stop = false;
    std::thread m_thread;
    // The loop thread's own:
    std::map<std::int64_t, Followed> m_followed; // by trial run
    std::map<std::int64_t, Loaded> m_loaded;     // by sweep
    std::map<std::int64_t, double> m_deadlines;  // sweep -> when its max_duration_minutes passes
    std::map<std::int64_t, std::string> m_shown; // sweep -> what its view showed at the last step
};

} // namespace Kiln::Sweeps
