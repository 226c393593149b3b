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

import glob
import html
import json
import os
import shutil
import subprocess
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
                    "/api/v1/health", retries=0)
                return info
            except KilnError:
                pass
        done = subprocess.run([_cli(), "--workspace", folder, "server", "start"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise KilnError("could not start the workspace server for %s: %s" % (folder, done.stderr.strip()))
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
        if getattr(config, "_kiln_sweep", False):
            from .hyperdrive import submit_sweep
            return submit_sweep(self, config, _cli(), self.workspace._cli_args, _name_of, _argument)
        source = os.path.abspath(config.source_directory)
        if not os.path.isdir(source):
            raise KilnError("source_directory %s is not a folder" % source)
        where, holder = self.workspace._cli_args()
        command = [_cli()] + where + ["run", "submit", "--experiment", self.name, "--source", source,
                                       "--script", config.script, "--json"]
        compute = _name_of(config.compute_target)
        if compute and compute != "local":
            command += ["--compute", compute]
        environment = _name_of(config.environment)
        if environment:
            command += ["--env", environment]
        command += ["--"] + [_argument(a) for a in config.arguments]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        finally:
            if holder:
                shutil.rmtree(holder, ignore_errors=True)
        if done.returncode != 0:
            raise KilnError(done.stderr.strip().replace("kiln: ", "", 1) or "the submission failed")
        run = WorkspaceRun(self, json.loads(done.stdout)["id"])
        for key, value in (tags or {}).items():
            run.tag(key, value)
        return run

    def get_runs(self):
        """This experiment's runs, newest first."""
        runs = self.workspace._client.get("/api/v1/runs?metrics=0&limit=100000&experiment=" + quote(self.name))
        return [WorkspaceRun(self, r["id"]) for r in runs]

    def __repr__(self):
        return "Experiment(%r)" % self.name


def _argument(value):
    """A script argument as the command line takes it: dataset objects become {dataset:...} references."""
    reference = getattr(value, "_kiln_reference", None)
    if reference:
        return reference() if callable(reference) else reference
    return str(value)


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

    def get_metrics(self, name=None):
        """{metric: value} for metrics logged once, {metric: [values]} for those logged several times."""
        out = {}
        for m in self._client.get(self._base + "/metrics"):
            key = m["key"]
            if name is not None and key != name:
                continue
            if m.get("count", 1) <= 1:
                out[key] = m.get("last")
            else:
                history = self._client.get(self._base + "/metrics/history?key=" + quote(key))
                out[key] = history.get("series", {}).get("values", [])
        return out

    def tag(self, key, value=None):
        self._client.post(self._base + "/tags", {key: "" if value is None else str(value)})

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
        """What Jupyter shows for a run: its status and a table of its metrics' last values."""
        r = self._run()
        rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (html.escape(m["key"]), html.escape("%g" % m["last"]))
                       for m in self._client.get(self._base + "/metrics") if isinstance(m.get("last"), (int, float)))
        return ("<table><tr><th>Experiment</th><th>Run</th><th>Status</th></tr>"
                "<tr><td>%s</td><td>%d (%s)</td><td>%s</td></tr></table>"
                % (html.escape(r["experiment"]), self.id, html.escape(r["name"]), html.escape(r["status"])) +
                ("<table><tr><th>Metric</th><th>Last value</th></tr>%s</table>" % rows if rows else ""))

    def __repr__(self):
        return "Run(id=%d, experiment=%r)" % (self.id, self.experiment.name)


class Model:
    """A registered model version: its files (downloaded and checked against their SHA-256) and lineage."""

    def __init__(self, workspace, name=None, id=None, version=None, **_ignored):
        if id and not name:  # v1 ids are "name:version"
            name, _, v = str(id).partition(":")
            version = version or (int(v) if v else None)
        if not name:
            raise KilnError("Model needs a name (or id='name:version')")
        self.workspace = workspace
        self._client = workspace._client
        found = self._client.get("/api/v1/models/%s/versions/%s"
                                 % (quote(name), version if version else "latest"))
        self.name = found["name"]
        self.version = found["version"]
        self.id = "%s:%d" % (self.name, self.version)
        self.tags = found.get("tags", {})
        self.description = found.get("description", "")
        self.lineage = found.get("lineage", {})
        self._files = found.get("files", [])

    @staticmethod
    def list(workspace, name=None, **_ignored):
        """Every model's newest version (or every version of `name`)."""
        client = workspace._client
        if name:
            return [Model(workspace, name, version=v["version"])
                    for v in client.get("/api/v1/models/" + quote(name))["versions"]]
        return [Model(workspace, m["name"], version=m["latest_version"]) for m in client.get("/api/v1/models")]

    def download(self, target_dir=".", exist_ok=False, **_ignored):
        """Downloads the version's files into `target_dir` (kept relative to the model's folder) and returns
        the folder. A file already there is an error unless `exist_ok`."""
        base = "/api/v1/models/%s/versions/%d/files/" % (quote(self.name), self.version)
        for f in self._files:
            target = os.path.join(target_dir, f["path"])
            if os.path.exists(target) and not exist_ok:
                raise KilnError("%s exists already (download(..., exist_ok=True) replaces it)" % target)
            self._client.download(base + quote_path(f["path"]), target, f["sha256"])
        return target_dir

    def __repr__(self):
        return "Model(name=%r, version=%d)" % (self.name, self.version)


def _wait_job(client, job_id, show_output=False):
    """Waits for a kilnd job (a dataset registration...) and returns its result; raises with its error."""
    version = -1
    while True:
        job = client.get("/api/v1/jobs/%d?version=%d&timeout_ms=20000" % (job_id, version), timeout=90)
        version = job["version"]
        if show_output and job.get("progress"):
            p = job["progress"]
            print("%s of %s files" % (p.get("files_done", "?"), p.get("file_count", "?")), flush=True)
        if job["state"] == "succeeded":
            return job["result"]
        if job["state"] != "running":
            raise KilnError(job.get("error") or "the job %s" % job["state"], job.get("error_status", 0))


class _DatasetInput:
    """A dataset as a run argument: a read-only folder (as_mount) or a private copy (as_download)."""

    def __init__(self, reference):
        self._kiln_reference = reference

    def __str__(self):
        return self._kiln_reference


class FileDataset:
    """Files to register (from Dataset.File.from_files), or a registered dataset version."""

    def __init__(self, sources=None, workspace=None, name=None, version=None, description="", files=None):
        self._sources = sources or []
        self.workspace = workspace
        self.name = name
        self.version = version
        self.description = description
        self._files = files or []

    def _registered(self):
        if not self.name:
            raise KilnError("register() the dataset first (or get it with Dataset.get_by_name)")

    def register(self, workspace, name, description=None, tags=None, create_new_version=False):
        """Registers the files as dataset `name` (a new version with create_new_version when the name exists and
        the files changed; identical files give back the existing version). Waits for the copy."""
        if not self._sources:
            raise KilnError("nothing to register: make the dataset with Dataset.File.from_files(path=...)")
        client = workspace._client
        job = client.post("/api/v1/datasets", {"name": name, "description": description or "",
                                               "tags": {k: str(v) for k, v in (tags or {}).items()},
                                               "new_version": bool(create_new_version),
                                               "sources": self._sources})
        result = _wait_job(client, job["job"])
        version = result["dataset"]["version"] if isinstance(result.get("dataset"), dict) else None
        return Dataset.get_by_name(workspace, name, version or "latest")

    @property
    def _kiln_reference(self):  # the dataset itself as an argument: mounted
        return self.as_mount()._kiln_reference

    def as_mount(self, path_on_compute=None):
        self._registered()
        return _DatasetInput("{dataset:%s:%d}" % (self.name, self.version))

    def as_download(self, path_on_compute=None):
        self._registered()
        return _DatasetInput("{dataset:%s:%d:download}" % (self.name, self.version))

    def to_path(self):
        """The files' paths inside the dataset, as v1 gives them ("/a/b.csv")."""
        self._registered()
        return ["/" + f["path"] for f in self._files]

    def download(self, target_path=None, overwrite=False, **_ignored):
        """Downloads the files (checked against their SHA-256) into `target_path`; returns their paths."""
        self._registered()
        out = target_path or "."
        base = "/api/v1/datasets/%s/versions/%d/files/" % (quote(self.name), self.version)
        written = []
        for f in self._files:
            target = os.path.join(out, f["path"])
            if os.path.exists(target) and not overwrite:
                raise KilnError("%s exists already (download(..., overwrite=True) replaces it)" % target)
            self.workspace._client.download(base + quote_path(f["path"]), target, f["sha256"])
            written.append(target)
        return written

    def __repr__(self):
        return ("FileDataset(name=%r, version=%r)" % (self.name, self.version) if self.name
                else "FileDataset(%d sources)" % len(self._sources))


def _sources(path):
    items = path if isinstance(path, (list, tuple)) else [path]
    out = []
    for item in items:
        item = str(item)
        if item.startswith(("http://", "https://")):
            out.append({"url": item})
        elif any(c in item for c in "*?["):
            matches = sorted(m for m in glob.glob(item, recursive=True) if os.path.isfile(m))
            if not matches:
                raise KilnError("no file matches %s" % item)
            out += [{"path": os.path.abspath(m)} for m in matches]
        elif os.path.exists(item):
            out.append({"path": os.path.abspath(item)})
        else:
            raise KilnError("%s does not exist (from_files takes files, folders, globs and http(s) URLs)" % item)
    return out


class Dataset:
    """Datasets: ``Dataset.File.from_files(path=...)`` then ``.register(...)``; ``Dataset.get_by_name``."""

    class File:
        @staticmethod
        def from_files(path, validate=True, **_ignored):
            return FileDataset(_sources(path))

    @staticmethod
    def get_by_name(workspace, name, version="latest", **_ignored):
        v = workspace._client.get("/api/v1/datasets/%s/versions/%s" % (quote(name), version))
        return FileDataset(workspace=workspace, name=v["name"], version=v["version"],
                           description=v.get("description", ""), files=v.get("files", []))


_warned = set()


def _warn_once(what):
    if what not in _warned:
        _warned.add(what)
        print("kiln: " + what, file=__import__("sys").stderr, flush=True)


class Environment:
    """A named, versioned Python environment: a conda file (its python= and pip: parts), a pip requirements
    file, or just an interpreter. Registering a changed spec makes a new version."""

    def __init__(self, name, **_ignored):
        self.name = name
        self.version = None
        self.python = ""
        self.conda_yaml = ""
        self.requirements = ""
        self.environment_variables = {}
        self.docker_image = ""

    @staticmethod
    def from_conda_specification(name, file_path):
        env = Environment(name)
        with open(file_path) as f:
            env.conda_yaml = f.read()
        return env

    @staticmethod
    def from_pip_requirements(name, file_path):
        env = Environment(name)
        with open(file_path) as f:
            env.requirements = f.read()
        return env

    @property
    def docker(self):  # v1 notebooks set env.docker.base_image: kept for container backends
        return self

    @property
    def base_image(self):
        return self.docker_image

    @base_image.setter
    def base_image(self, image):
        _warn_once("a docker base image is kept with the environment for container backends; local runs "
                   "build a venv and do not use it")
        self.docker_image = image or ""

    def register(self, workspace):
        """Saves the spec (a new version when it changed) and returns the registered Environment."""
        body = {"name": self.name, "python": self.python, "conda_yaml": self.conda_yaml,
                "requirements": self.requirements,
                "variables": {k: str(v) for k, v in self.environment_variables.items()},
                "docker_image": self.docker_image}
        answer = workspace._client.post("/api/v1/environments", body)
        return Environment.get(workspace, self.name, answer["environment"]["version"])

    @staticmethod
    def get(workspace, name, version=None, **_ignored):
        v = workspace._client.get("/api/v1/environments/%s/versions/%s"
                                  % (quote(name), version if version else "latest"))
        env = Environment(v["name"])
        env.version = v["version"]
        spec = v.get("spec", {})
        env.python = spec.get("python", "")
        env.conda_yaml = spec.get("conda_yaml", "")
        env.requirements = "" if env.conda_yaml else "\n".join(spec.get("pip", []))
        env.environment_variables = dict(spec.get("variables", {}))
        env.docker_image = spec.get("docker_image", "")
        env.built = v.get("built", False)
        return env

    def __repr__(self):
        return "Environment(name=%r, version=%r)" % (self.name, self.version)


class ComputeTargetException(KilnError):
    """A compute target that does not exist, or could not be provisioned."""


class _ProvisioningConfiguration:
    def __init__(self, body):
        self.body = body


class AmlCompute:
    """A pool of run slots on this machine: ``max_nodes`` runs at once. (VM sizes and scale-down times mean
    nothing here: they are accepted with a warning.)"""

    @staticmethod
    def provisioning_configuration(vm_size=None, max_nodes=1, min_nodes=0, idle_seconds_before_scaledown=None,
                                   cpus=None, memory_mb=None, **_ignored):
        if vm_size or min_nodes or idle_seconds_before_scaledown:
            _warn_once("vm_size, min_nodes and idle_seconds_before_scaledown do not apply to a local pool "
                       "(its nodes are run slots); only max_nodes is used")
        body = {"type": "local", "max_nodes": int(max_nodes)}
        if cpus:
            body["cpus"] = int(cpus)
        if memory_mb:
            body["memory_mb"] = int(memory_mb)
        return _ProvisioningConfiguration(body)


class SlurmCompute:
    """A Slurm cluster reached through slurmrestd."""

    @staticmethod
    def provisioning_configuration(slurm_url, slurm_token, slurm_user="root", partition=None, max_nodes=1,
                                   **_ignored):
        body = {"type": "slurm", "slurm_url": slurm_url, "slurm_token": slurm_token, "slurm_user": slurm_user,
                "max_nodes": int(max_nodes)}
        if partition:
            body["partition"] = partition
        return _ProvisioningConfiguration(body)


class ComputeTarget:
    """A compute target of the workspace, by name: ``ComputeTarget(workspace=ws, name="pool")`` raises
    ComputeTargetException when there is none, as v1 notebooks expect."""

    def __init__(self, workspace=None, name=None, **_ignored):
        self.workspace = workspace
        self.name = name
        self._job = None
        try:
            self._state = workspace._client.get("/api/v1/compute/" + quote(name))
        except KilnError as e:
            if e.status == 404:
                raise ComputeTargetException("ComputeTargetNotFound: no compute target is called %s" % name, 404)
            raise

    @staticmethod
    def create(workspace, name, provisioning_configuration):
        body = dict(provisioning_configuration.body, name=name)
        answer = workspace._client.post("/api/v1/compute", body)
        if "job" in answer and not answer.get("name"):  # a Slurm target is provisioned by a job
            try:
                _wait_job(workspace._client, answer["job"])
            except KilnError as e:
                raise ComputeTargetException("could not provision %s: %s" % (name, e), e.status)
        return ComputeTarget(workspace=workspace, name=name)

    def get_status(self):
        self._state = self.workspace._client.get("/api/v1/compute/" + quote(self.name))
        return self._state.get("state")

    def wait_for_completion(self, show_output=False, min_node_count=None, timeout_in_minutes=20, **_ignored):
        """A target exists once created (local slots need no warming up): reports its state."""
        state = self.get_status()
        if show_output:
            print("%s: %s, %d of %d nodes in use" % (self.name, state, self._state.get("nodes_in_use", 0),
                                                    self._state.get("config", {}).get("max_nodes", 0)),
                  flush=True)
        if state == "Failed":
            raise ComputeTargetException("compute target %s failed: %s" % (self.name, self._state.get("error")))
        return state

    def __repr__(self):
        return "ComputeTarget(name=%r)" % self.name
