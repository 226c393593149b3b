"""The workspace SDK: what a notebook does with a Kiln workspace, under Azure ML v1's names.

    from kiln.workspace import Workspace, Experiment, ScriptRunConfig
    ws = Workspace.from_config()
    run = Experiment(ws, "fashion-mnist").submit(
        ScriptRunConfig(source_directory="src", script="train.py", arguments=["--epochs", 2]))
    run.wait_for_completion(show_output=True)
    print(run.get_metrics())

Standard library only. The workspace is found exactly as the ``kiln`` command line finds it, and a local
workspace's server is started (through ``kiln server start``) when none answers. Submitting goes through
``kiln run submit``, so a source folder contributes exactly what it contributes from the command line.
"""

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ._client import Client, KilnError, quote, quote_path

__all__ = ["Workspace", "Experiment", "ScriptRunConfig", "WorkspaceRun", "Model", "Dataset", "FileDataset",
           "Environment", "ComputeTarget", "AmlCompute", "SlurmCompute", "ComputeTargetException", "KilnError"]

_TERMINAL = ("Completed", "Failed", "Canceled")


def _cli():
    """The ``kiln`` command line: $KILN_CLI, then beside this module's Kiln (an install or a build), then PATH."""
    explicit = os.environ.get("KILN_CLI")
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    # resources/python/kiln -> <install>/bin/kiln (share/kiln/python/kiln) or <source>/build/*/bin/kiln
    candidates = [os.path.join(here, "..", "..", "..", "..", "bin", "kiln")]
    source = os.path.normpath(os.path.join(here, "..", "..", ".."))
    build = os.path.join(source, "build")
    if os.path.isdir(build):
        candidates += [os.path.join(build, d, "bin", "kiln") for d in sorted(os.listdir(build))]
    for c in candidates:
        if os.access(c, os.X_OK):
            return os.path.normpath(c)
    found = shutil.which("kiln")
    if not found:
        raise KilnError("the kiln command line was not found: install Kiln, or set KILN_CLI to its path")
    return found


def _default_dir():
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "kiln", "workspace")


def _from_config_file(path):
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise KilnError("cannot read the workspace config %s: %s" % (path, e))
    if "url" in config:
        return {"url": config["url"], "token": config.get("token", ""), "ca": config.get("ca", ""),
                "found_by": path}
    folder = config.get("workspace", ".")
    if not os.path.isabs(folder):
        folder = os.path.normpath(os.path.join(os.path.dirname(os.path.dirname(path)), folder))
    return {"dir": folder, "found_by": path}


def _locate(path=None):
    """Like the CLI: an explicit folder or config file, then $KILN_WORKSPACE, then .kiln/config.json here or
    above, else the default local workspace."""
    if path:
        if not os.path.exists(path):  # a typo must not quietly make a new, empty workspace
            raise KilnError("no workspace at %s: give an existing workspace folder or config file, or make one "
                            "with: kiln workspace init %s" % (path, path))
        if os.path.isfile(path):
            return _from_config_file(path)
        config = os.path.join(path, ".kiln", "config.json")
        if os.path.isfile(config):
            found = _from_config_file(config)
            if "url" in found:
                return found
        return {"dir": os.path.abspath(path), "found_by": "path"}
    if os.environ.get("KILN_WORKSPACE"):
        return {"dir": os.path.abspath(os.environ["KILN_WORKSPACE"]), "found_by": "$KILN_WORKSPACE"}
    folder = os.getcwd()
    while True:
        config = os.path.join(folder, ".kiln", "config.json")
        if os.path.isfile(config):
            return _from_config_file(config)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return {"dir": _default_dir(), "found_by": "default local workspace"}


class Workspace:
    """A Kiln workspace: a local folder served by its kilnd, or a remote kilnd (URL and token)."""

    def __init__(self, location):
        self._location = location
        if "url" in location:
            self._client = Client(location["url"], location["token"], location.get("ca") or None)
        else:
            info = self._server(location["dir"])
            self._client = Client(info["url"], info["token"], info.get("ca") or None)
        self._client.get("/api/v1/health")  # a wrong token or a dead server says so now, not later

    @staticmethod
    def _server(folder):
        def read():
            try:
                with open(os.path.join(folder, "server.json")) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return None
        info = read()
        if info:
            try:
                Client(info["url"], info["token"], info.get("ca") or None, timeout=5).get(
                    "/api/v1/health", patience=0)
                return info
            except KilnError:
                pass
        done = subprocess.run([_cli(), "--workspace", folder, "server", "start"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise KilnError("could not start the workspace server for %s: %s" % (folder, done.stderr.strip()))
        if done.stderr.strip():  # what starting it did besides (the sample dataset registered): said here too
            print(done.stderr.strip(), file=sys.stderr, flush=True)
        info = read()
        if not info:
            raise KilnError("the workspace server for %s started but wrote no server.json" % folder)
        return info

    @staticmethod
    def from_config(path=None, auth=None, _logger=None, _file_name=None):
        """The workspace in use, found as the ``kiln`` command line finds it (`path`: a folder, or a
        config.json; `auth` is not used: a workspace's token is in its config or its server file)."""
        return Workspace(_locate(path))

    @staticmethod
    def get(name=None, **_ignored):
        return Workspace.from_config(name)

    @property
    def name(self):
        return self._location.get("dir") or self._location.get("url")

    @property
    def experiments(self):
        return {e["name"]: Experiment(self, e["name"]) for e in self._client.get("/api/v1/experiments")}

    def get_details(self):
        health = self._client.get("/api/v1/health")
        return {"name": self.name, "location": self._location.get("dir") or self._location.get("url"),
                "found_by": self._location.get("found_by"), "server": self._client.url,
                "version": health.get("version")}

    def _cli_args(self):
        """How the CLI reaches this workspace: its folder, or (remote) a config folder naming the server."""
        if "dir" in self._location:
            return ["--workspace", self._location["dir"]], None
        holder = tempfile.mkdtemp(prefix="kiln-sdk-")
        os.makedirs(os.path.join(holder, ".kiln"))
        with open(os.path.join(holder, ".kiln", "config.json"), "w") as f:
            json.dump({"url": self._location["url"], "token": self._location["token"],
                       "ca": self._location.get("ca", "")}, f)
        os.chmod(os.path.join(holder, ".kiln", "config.json"), 0o600)
        return ["--workspace", holder], holder

    def __repr__(self):
        return "Workspace(%r)" % self.name


class ScriptRunConfig:
    """What to run: a source folder, its script, the script's arguments, and optionally the compute target
    and environment (names, or the objects the SDK returns)."""

    def __init__(self, source_directory=".", script=None, arguments=None, compute_target=None,
                 environment=None, **_ignored):
        if not script:
            raise KilnError("ScriptRunConfig needs script=, the file to run inside source_directory")
        self.source_directory = source_directory
        self.script = script
        self.arguments = list(arguments or [])
        self.compute_target = compute_target
        self.environment = environment


def _name_of(thing):
    if thing is None or isinstance(thing, str):
        return thing or None
    name = getattr(thing, "name", None)
    version = getattr(thing, "version", None)
    return "%s:%s" % (name, version) if name and version else name


class Experiment:
    """Runs grouped under a name."""

    def __init__(self, workspace, name, **_ignored):
        self.workspace = workspace
        self.name = name

    def submit(self, config, tags=None, **_ignored):
        """Submits `config` (a ScriptRunConfig, or a HyperDriveConfig for a sweep) and returns its run (or
        sweep) at once."""
        ws = self.workspace
        if getattr(config, "_kiln_sweep", False):
            from .hyperdrive import submit_sweep
            return submit_sweep(self, config, _cli(), ws._cli_args, _name_of, lambda a: _argument(a, ws),
                                lambda e: _environment(e, ws))
        source = os.path.abspath(config.source_directory)
        if not os.path.isdir(source):
            raise KilnError("source_directory %s is not a folder" % source)
        where, holder = self.workspace._cli_args()
        command = [_cli()] + where + ["run", "submit", "--experiment", self.name, "--source", source,
                                       "--script", config.script, "--json"]
        compute = _name_of(config.compute_target)
        if compute and compute != "local":
            command += ["--compute", compute]
        environment = _environment(config.environment, ws)
        if environment:
            command += ["--env", environment]
        command += ["--"] + [_argument(a, ws) for a in config.arguments]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        finally:
            if holder:
                shutil.rmtree(holder, ignore_errors=True)
        if done.returncode != 0:
            raise KilnError(done.stderr.strip().replace("kiln: ", "", 1) or "the submission failed")
        run = WorkspaceRun(self, json.loads(done.stdout)["id"])
        if tags:
            try:
                run.set_tags(tags)
            except KilnError as e:  # the run exists: the error says which, so it is not lost
                raise KilnError("run %d was submitted, but its tags were not set: %s" % (run.id, e), e.status)
        return run

    def get_runs(self):
        """This experiment's runs, newest first."""
        runs = self.workspace._client.get("/api/v1/runs?metrics=0&limit=100000&experiment=" + quote(self.name))
        return [WorkspaceRun(self, r["id"]) for r in runs]

    def __repr__(self):
        return "Experiment(%r)" % self.name


def _argument(value, workspace):
    """A script argument as the command line takes it: dataset objects become {dataset:...} references
    (registering an unregistered one, as v1 does)."""
    resolve = getattr(value, "_kiln_resolve", None)
    return resolve(workspace) if callable(resolve) else str(value)


def _environment(env, workspace):
    """NAME[:V] of a run's environment: a name, or an Environment object (registered at submit when it is
    not, as v1 does)."""
    for_run = getattr(env, "_for_run", None)
    return for_run(workspace) if callable(for_run) else _name_of(env)


class WorkspaceRun:
    """A run of the workspace: its status, details, metrics and files, waiting for it, cancelling it."""

    def __init__(self, experiment, run_id):
        self.experiment = experiment
        self.id = int(run_id)
        self._client = experiment.workspace._client

    @staticmethod
    def get_context(*args, **kwargs):
        """Inside a training script: the run it is, for logging (kiln.Run.get_context), as v1's Run does."""
        from . import Run
        return Run.get_context(*args, **kwargs)

    @property
    def _base(self):
        return "/api/v1/runs/%d" % self.id

    def _run(self):
        return self._client.get(self._base)

    def get_status(self):
        return self._run()["status"]

    def get_details(self):
        r = self._run()
        iso = lambda t: None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        return {"runId": r["id"], "name": r["name"], "experiment": r["experiment"], "status": r["status"],
                "startTimeUtc": iso(r.get("started")), "endTimeUtc": iso(r.get("ended")),
                "script": r["script"], "arguments": r["args"], "target": r.get("compute"),
                "error": r.get("error") or None, "exitCode": r.get("exit_code"),
                "properties": r.get("params", {}), "tags": r.get("tags", {})}

    def get_metrics(self, name=None, system=False):
        """{metric: value} for metrics logged once, {metric: [values]} for those logged several times. The
        run's system metrics (sys/cpu, sys/rss_mb...: what its supervisor sampled) only with `system=True`
        or by name, so that a v1 notebook sees what its script logged, as it did on Azure ML."""
        out = {}
        for m in self._client.get(self._base + "/metrics"):
            key = m["key"]
            if name is not None and key != name:
                continue
            if name is None and not system and key.startswith("sys/"):
                continue
            if m.get("count", 1) <= 1:
                out[key] = m.get("last")
            else:
                out[key] = self._client.history(self._base, key)["values"].tolist()
        return out

    def tag(self, key, value=None):
        """Sets one tag (v1: a tag without a value is an empty string)."""
        self.set_tags({key: value})

    def set_tags(self, tags):
        """Sets several tags at once ({name: value}); the others stay."""
        self._client.post(self._base + "/tags",
                          {"tags": {str(k): "" if v is None else str(v) for k, v in tags.items()}})

    def cancel(self):
        self._client.post(self._base + "/cancel", {})

    def wait_for_completion(self, show_output=False, wait_post_processing=False, raise_on_error=True,
                            timeout_seconds=None):
        """Waits until the run ends (streaming its output when `show_output`) and returns get_details().
        A run that did not complete raises KilnError with its last lines when `raise_on_error`."""
        cursor = {"metrics_after": 2 ** 62, "logs_after": 0 if show_output else 2 ** 62, "status_seq": 0}
        deadline = None if timeout_seconds is None else time.time() + timeout_seconds
        status = None
        while True:
            if deadline is not None and time.time() > deadline:
                raise KilnError("run %d is still %s after %s s" % (self.id, status, timeout_seconds))
            answer = self._client.get(
                self._base + "/feed?metrics_after=%d&logs_after=%d&status_seq=%d&timeout_ms=20000"
                % (cursor["metrics_after"], cursor["logs_after"], cursor["status_seq"]), timeout=90)
            if show_output:
                for line in answer.get("logs", []):
                    if line.get("stream") == "output":
                        print(line["line"], flush=True)
            cursor = answer["cursor"]
            cursor["metrics_after"] = 2 ** 62  # metrics are not wanted here
            if not show_output:
                cursor["logs_after"] = 2 ** 62
            status = answer["run"]["status"]
            if status in _TERMINAL and not answer.get("logs"):
                break
        details = self.get_details()
        from .widgets import settle
        settle(self)
        if status != "Completed" and raise_on_error:
            raise KilnError("run %d %s: %s" % (self.id, status.lower(), details.get("error") or "no error given"))
        return details

    def get_file_names(self):
        return [f["path"] for f in self._client.get(self._base + "/files")]

    def download_file(self, name, output_file_path=None, _validate_checksum=True):
        """Downloads one of the run's files (checked against its SHA-256) to `output_file_path` (a file, or a
        folder to put it in; default: the current folder)."""
        files = {f["path"]: f for f in self._client.get(self._base + "/files")}
        if name not in files:
            raise KilnError("run %d has no file %s (get_file_names() lists them)" % (self.id, name))
        target = output_file_path or os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        self._client.download(self._base + "/files/" + quote_path(name), target, files[name]["sha256"])
        return target

    def download_files(self, prefix=None, output_directory=None, output_paths=None, append_prefix=True):
        """Downloads the run's files under `prefix` (all without one) into `output_directory`, keeping their
        paths (without the prefix unless `append_prefix`)."""
        out = output_directory or "."
        written = []
        for path in self.get_file_names():
            if prefix and not path.startswith(prefix):
                continue
            relative = path if append_prefix or not prefix else path[len(prefix):].lstrip("/")
            written.append(self.download_file(path, os.path.join(out, relative)))
        return written

    def register_model(self, model_name, model_path=None, tags=None, description=None, **_ignored):
        """Registers the run's files under `model_path` (a folder or one file; default outputs/model) as the
        next version of `model_name`, and returns that Model."""
        body = {"run": self.id, "name": model_name, "path": model_path or "outputs/model",
                "tags": {k: str(v) for k, v in (tags or {}).items()}, "description": description or ""}
        version = self._client.post("/api/v1/models", body)
        return Model(self.experiment.workspace, model_name, version["version"])

    def _repr_html_(self):
        """What Jupyter shows for a run: its status, its peak memory and mean CPU, and a table of its metrics'
        last values."""
        r = self._run()
        metrics = [m for m in self._client.get(self._base + "/metrics") if isinstance(m.get("last"), (int, float))]
        rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (html.escape(m["key"]), html.escape("%g" % m["last"]))
                       for m in metrics if not m["key"].startswith("sys/"))
        system = {m["key"]: m["last"] for m in metrics if m["key"] in ("sys/peak_rss_mb", "sys/mean_cpu")}
        used = ""
        if system:
            used = "<p>%s</p>" % " · ".join(
                text % system[key] for key, text in (("sys/peak_rss_mb", "peak memory %.0f MiB"),
                                                     ("sys/mean_cpu", "mean CPU %.2f cores")) if key in system)
        return ("<table><tr><th>Experiment</th><th>Run</th><th>Status</th></tr>"
                "<tr><td>%s</td><td>%d (%s)</td><td>%s</td></tr></table>"
                % (html.escape(r["experiment"]), self.id, html.escape(r["name"]), html.escape(r["status"])) + used +
                ("<table><tr><th>Metric</th><th>Last value</th></tr>%s</table>" % rows if rows else ""))

    def __repr__(self):
        return "Run(id=%d, experiment=%r)" % (self.id, self.experiment.name)


# The rest of the SDK, under this module's names too (kiln.workspace is the one import a notebook needs).
from .compute import AmlCompute, ComputeTarget, ComputeTargetException, SlurmCompute  # noqa: E402
from .datasets import Dataset, FileDataset  # noqa: E402
from .environments import Environment  # noqa: E402
from .models import Model  # noqa: E402
