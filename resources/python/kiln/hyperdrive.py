"""Hyperparameter sweeps under Azure ML v1 HyperDrive's names, for the workspace SDK.

    from kiln.hyperdrive import (HyperDriveConfig, RandomParameterSampling, BanditPolicy, PrimaryMetricGoal,
                                 choice, loguniform)
    sampling = RandomParameterSampling({"--learning-rate": loguniform(-9, -2), "--batch-size": choice(32, 64)})
    config = HyperDriveConfig(run_config=script_config, hyperparameter_sampling=sampling,
                              policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1),
                              primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=8, max_concurrent_runs=2)
    sweep = Experiment(ws, "fm-sweep").submit(config)
    sweep.wait_for_completion(show_output=True)
    best = sweep.get_best_run_by_primary_metric()

Submitting goes through ``kiln sweep submit`` (the same checks and snapshot as the command line); the
expressions mean what the README's table says (HyperDrive's meanings).
"""

import html
import json
import os
import shutil
import subprocess
import tempfile
import time

from ._client import KilnError

__all__ = ["HyperDriveConfig", "RandomParameterSampling", "GridParameterSampling", "BayesianParameterSampling",
           "SobolParameterSampling", "BanditPolicy", "MedianStoppingPolicy", "TruncationSelectionPolicy",
           "NoTerminationPolicy", "PrimaryMetricGoal", "HyperDriveRun", "choice", "randint", "uniform",
           "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal"]


class _Expression:
    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise KilnError("expected a number, got %r" % (v,))
    return repr(v)


def choice(*options):
    """One of the values (numbers or words); ``choice([1, 2])`` and ``choice(range(1, 5))`` work too."""
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    if not options:
        raise KilnError("choice() needs at least one value")
    return _Expression("choice(%s)" % ", ".join(v if isinstance(v, str) else _number(v) for v in options))


def _distribution(name, *args):
    return _Expression("%s(%s)" % (name, ", ".join(_number(a) for a in args)))


def randint(upper):
    return _distribution("randint", upper)


def uniform(min_value, max_value):
    return _distribution("uniform", min_value, max_value)


def quniform(min_value, max_value, q):
    return _distribution("quniform", min_value, max_value, q)


def loguniform(min_value, max_value):
    return _distribution("loguniform", min_value, max_value)


def qloguniform(min_value, max_value, q):
    return _distribution("qloguniform", min_value, max_value, q)


def normal(mu, sigma):
    return _distribution("normal", mu, sigma)


def qnormal(mu, sigma, q):
    return _distribution("qnormal", mu, sigma, q)


def lognormal(mu, sigma):
    return _distribution("lognormal", mu, sigma)


def qlognormal(mu, sigma, q):
    return _distribution("qlognormal", mu, sigma, q)


class _Sampling:
    kind = "random"

    def __init__(self, parameter_space, properties=None, seed=None, **_ignored):
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise KilnError("a parameter sampling needs a dict of {argument: expression}")
        self.parameters = {str(k): str(v) for k, v in parameter_space.items()}
        self.seed = seed if seed is not None else (properties or {}).get("seed")


class RandomParameterSampling(_Sampling):
    kind = "random"


class GridParameterSampling(_Sampling):
    kind = "grid"


class BayesianParameterSampling(_Sampling):
    kind = "bayesian"


class SobolParameterSampling(_Sampling):
    kind = "sobol"


class PrimaryMetricGoal:
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class _Policy:
    def __init__(self, policy, **settings):
        self.body = {"policy": policy}
        self.body.update({k: v for k, v in settings.items() if v is not None})


def BanditPolicy(evaluation_interval=1, slack_factor=None, slack_amount=None, delay_evaluation=0):
    if (slack_factor is None) == (slack_amount is None):
        raise KilnError("BanditPolicy needs one of slack_factor or slack_amount")
    return _Policy("bandit", evaluation_interval=evaluation_interval, slack_factor=slack_factor,
                   slack_amount=slack_amount, delay_evaluation=delay_evaluation)


def MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=0):
    return _Policy("median_stopping", evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation)


def TruncationSelectionPolicy(truncation_percentage, evaluation_interval=1, delay_evaluation=0):
    return _Policy("truncation_selection", truncation_percentage=truncation_percentage,
                   evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation)


def NoTerminationPolicy():
    return None


class HyperDriveConfig:
    """A sweep: the run to repeat, how to sample its arguments, when to stop trials early, and the metric."""

    _kiln_sweep = True

    def __init__(self, run_config=None, hyperparameter_sampling=None, primary_metric_name=None,
                 primary_metric_goal=None, max_total_runs=None, max_concurrent_runs=None, max_duration_minutes=None,
                 policy=None, estimator=None, **_ignored):
        self.run_config = run_config or estimator
        if self.run_config is None:
            raise KilnError("HyperDriveConfig needs run_config= (a ScriptRunConfig)")
        if hyperparameter_sampling is None or not primary_metric_name:
            raise KilnError("HyperDriveConfig needs hyperparameter_sampling= and primary_metric_name=")
        self.sampling = hyperparameter_sampling
        self.policy = policy
        self.primary_metric = {"name": primary_metric_name,
                               "goal": primary_metric_goal or PrimaryMetricGoal.MAXIMIZE}
        self.max_total_runs = max_total_runs
        self.max_concurrent_runs = max_concurrent_runs
        self.max_duration_minutes = max_duration_minutes

    def _spec(self, experiment, name_of, argument, environment_of):
        rc = self.run_config
        spec = {"experiment": experiment, "source": os.path.abspath(rc.source_directory), "script": rc.script,
                "arguments": [argument(a) for a in rc.arguments], "sampling": self.sampling.kind,
                "parameters": self.sampling.parameters, "primary_metric": self.primary_metric}
        compute = name_of(rc.compute_target)
        if compute:
            spec["compute"] = compute
        environment = environment_of(rc.environment)
        if environment:
            spec["environment"] = environment
        if self.sampling.seed is not None:
            spec["seed"] = int(self.sampling.seed)
        if self.max_total_runs:
            spec["max_total_trials"] = int(self.max_total_runs)
        if self.max_concurrent_runs:
            spec["max_concurrent_trials"] = int(self.max_concurrent_runs)
        if self.max_duration_minutes:
            spec["max_duration_minutes"] = int(self.max_duration_minutes)
        if self.policy is not None:
            spec["early_termination"] = self.policy.body
        return spec


def submit_sweep(experiment, config, cli, cli_args, name_of, argument, environment_of):
    """Experiment.submit for a HyperDriveConfig: writes the sweep file (JSON is YAML) and submits it."""
    holder = tempfile.mkdtemp(prefix="kiln-sweep-")
    where, config_holder = cli_args()
    try:
        path = os.path.join(holder, "sweep.yml")
        with open(path, "w") as f:
            json.dump(config._spec(experiment.name, name_of, argument, environment_of), f, indent=1)
        done = subprocess.run([cli] + where + ["sweep", "submit", "--config", path, "--json"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
        if config_holder:
            shutil.rmtree(config_holder, ignore_errors=True)
    if done.returncode != 0:
        raise KilnError(done.stderr.strip().replace("kiln: ", "", 1) or "the sweep was not submitted")
    return HyperDriveRun(experiment, json.loads(done.stdout)["id"])


class HyperDriveRun:
    """A submitted sweep: its status, its trials (runs), the best of them; waiting for it, cancelling it."""

    def __init__(self, experiment, sweep_id):
        self.experiment = experiment
        self.id = int(sweep_id)
        self._client = experiment.workspace._client

    def _sweep(self):
        return self._client.get("/api/v1/sweeps/%d" % self.id)

    def get_status(self):
        return self._sweep()["status"]

    def get_details(self):
        s = self._sweep()
        return {"runId": s["id"], "status": s["status"], "error": s.get("error") or None, "counts": s["counts"],
                "best": s.get("best"), "spec": s.get("spec")}

    def get_children(self):
        from .workspace import WorkspaceRun
        return [WorkspaceRun(self.experiment, t["run"]) for t in self._sweep().get("trials", [])]

    def get_children_sorted_by_primary_metric(self, top=0, reverse=False):
        s = self._sweep()
        goal = s["spec"]["primary_metric"]["goal"]
        scored = [t for t in s.get("trials", []) if t.get("metric") is not None]
        scored.sort(key=lambda t: t["metric"], reverse=(goal == "maximize") != reverse)
        rows = [{"run_id": t["run"], "hyperparameters": t.get("params"), "best_primary_metric": t["metric"],
                 "status": t["status"]} for t in scored]
        return rows[:top] if top else rows

    def get_best_run_by_primary_metric(self):
        from .workspace import WorkspaceRun
        best = self._sweep().get("best")
        return WorkspaceRun(self.experiment, best["run"]) if best else None

    def cancel(self):
        self._client.post("/api/v1/sweeps/%d/cancel" % self.id, {})

    def wait_for_completion(self, show_output=False, raise_on_error=True, timeout_seconds=None, **_ignored):
        """Waits until the sweep ends (printing its progress as it changes when `show_output`)."""
        deadline = None if timeout_seconds is None else time.time() + timeout_seconds
        last = None
        while True:
            s = self._sweep()
            c = s["counts"]
            progress = ("sweep %d: %s, %d of %s trials done (%d running, %d stopped early)%s"
                        % (self.id, s["status"], c.get("completed", 0) + c.get("failed", 0) + c.get("canceled", 0)
                           + c.get("stopped_early", 0), s["spec"].get("max_total_trials", "?"),
                           c.get("running", 0), c.get("stopped_early", 0),
                           "" if not s.get("best") else ", best %s = %g (run %d)"
                           % (s["spec"]["primary_metric"]["name"], s["best"]["metric"], s["best"]["run"])))
            if show_output and progress != last:
                print(progress, flush=True)
            last = progress
            if s["status"] in ("Completed", "Failed", "Canceled"):
                break
            if deadline is not None and time.time() > deadline:
                raise KilnError("sweep %d is still %s after %s s" % (self.id, s["status"], timeout_seconds))
            time.sleep(1.0)
        from .widgets import settle
        settle(self)
        if s["status"] != "Completed" and raise_on_error:
            raise KilnError("sweep %d %s: %s" % (self.id, s["status"].lower(), s.get("error") or "no error given"))
        return self.get_details()

    def _repr_html_(self):
        """What Jupyter shows for a sweep: its status, trial counts, and each trial's metric."""
        s = self._sweep()
        metric = html.escape(s["spec"]["primary_metric"]["name"])
        trials = "".join("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                         % (t["run"], html.escape(t["status"]), html.escape(json.dumps(t.get("params", {}))),
                            "" if t.get("metric") is None else "%g" % t["metric"]) for t in s.get("trials", []))
        counts = ", ".join("%s %d" % (k, v) for k, v in sorted(s["counts"].items()) if v)
        return ("<p>Sweep %d (%s): %s. %s</p><table><tr><th>Run</th><th>Status</th><th>Parameters</th>"
                "<th>%s</th></tr>%s</table>" % (self.id, html.escape(self.experiment.name), html.escape(s["status"]),
                                               html.escape(counts), metric, trials))

    def __repr__(self):
        return "HyperDriveRun(id=%d, experiment=%r)" % (self.id, self.experiment.name)
