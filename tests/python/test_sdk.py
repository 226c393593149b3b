"""The workspace SDK (resources/python/kiln/workspace.py) against a real kilnd on a temporary workspace:
finding the workspace as the CLI does, submitting, waiting with output, metrics, files, failures, cancel,
and bad input. Run by CTest (test_sdk) with KILN_CLI, KILN_PYTHONPATH and KILN_TEST_DATA set."""

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.environ["KILN_PYTHONPATH"])
from kiln import _columns  # noqa: E402
from kiln._client import Client, KilnError  # noqa: E402
from kiln.hyperdrive import (BanditPolicy, GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal,  # noqa: E402
                             RandomParameterSampling, choice, uniform)
from kiln.workspace import (AmlCompute, ComputeTarget, ComputeTargetException, Dataset, Environment,  # noqa: E402
                            Experiment, KilnError, Model, ScriptRunConfig, Workspace)

CLI = os.environ["KILN_CLI"]
SCRIPTS = os.path.join(os.environ["KILN_TEST_DATA"], "scripts")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class SdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kiln-sdk-test-")
        cls.folder = os.path.join(cls.tmp, "ws")
        subprocess.run([CLI, "workspace", "init", cls.folder], check=True, stdout=subprocess.DEVNULL)
        cls.source = os.path.join(cls.tmp, "src")
        os.makedirs(cls.source)
        for script in ("model.py", "fail.py", "steady.py", "slow.py", "read_data.py", "columns.py"):
            shutil.copy(os.path.join(SCRIPTS, script), cls.source)
        shutil.copy(os.path.join(os.environ["KILN_TEST_DATA"], "sweep", "objective.py"), cls.source)
        cls.ws = Workspace.from_config(cls.folder)  # starts its kilnd

    @classmethod
    def tearDownClass(cls):
        # A test that failed half-way may leave a run going: cancel it, so nothing outlives the workspace.
        for run in Experiment(cls.ws, "sdk").get_runs():
            if run.get_status() not in ("Completed", "Failed", "Canceled"):
                run.cancel()
                run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
        subprocess.run([CLI, "--workspace", cls.folder, "server", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def submit(self, script, arguments=(), experiment="sdk"):
        config = ScriptRunConfig(source_directory=self.source, script=script, arguments=list(arguments))
        return Experiment(self.ws, experiment).submit(config)

    def test_finds_the_workspace_like_the_command_line(self):
        here = os.getcwd()
        project = os.path.join(self.tmp, "project", "notebooks")
        os.makedirs(os.path.join(self.tmp, "project", ".kiln"), exist_ok=True)
        os.makedirs(project, exist_ok=True)
        with open(os.path.join(self.tmp, "project", ".kiln", "config.json"), "w") as f:
            json.dump({"workspace": "../ws"}, f)  # relative to the project folder
        saved = os.environ.pop("KILN_WORKSPACE", None)
        try:
            os.chdir(project)  # a config one folder up
            ws = Workspace.from_config()
            self.assertEqual(ws.get_details()["location"], self.folder)
            self.assertTrue(ws.get_details()["found_by"].endswith("config.json"))
            os.environ["KILN_WORKSPACE"] = self.folder  # the variable wins over the config
            self.assertEqual(Workspace.from_config().get_details()["found_by"], "$KILN_WORKSPACE")
        finally:
            os.chdir(here)
            os.environ.pop("KILN_WORKSPACE", None)
            if saved is not None:
                os.environ["KILN_WORKSPACE"] = saved
        # A remote config with a wrong token is refused at once, saying why.
        remote = os.path.join(self.tmp, "remote.json")
        with open(remote, "w") as f:
            json.dump({"url": self.ws._client.url, "token": "not-the-token"}, f)
        with self.assertRaises(KilnError) as refused:
            Workspace.from_config(remote)
        self.assertEqual(refused.exception.status, 401)
        # With the right token, a notebook on another machine works the same (over HTTP only).
        with open(remote, "w") as f:
            json.dump({"url": self.ws._client.url, "token": self.ws._client._token}, f)
        far = Workspace.from_config(remote)
        self.assertEqual(far.get_details()["location"], self.ws._client.url)
        run = Experiment(far, "sdk-remote").submit(
            ScriptRunConfig(source_directory=self.source, script="model.py", arguments=["--size", 10]))
        self.assertEqual(run.wait_for_completion()["status"], "Completed")
        self.assertEqual(self.ws._client.get("/api/v1/runs/%d" % run.id)["experiment"], "sdk-remote")

    def test_submit_wait_metrics_and_files(self):
        run = self.submit("model.py", ["--seed", 4, "--size", 1000])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            details = run.wait_for_completion(show_output=True)
        self.assertEqual(details["status"], "Completed")
        self.assertEqual(run.get_status(), "Completed")
        self.assertEqual(details["arguments"], ["--seed", "4", "--size", "1000"])
        metrics = run.get_metrics()
        self.assertEqual(sorted(metrics), ["accuracy", "loss"])
        shown = run._repr_html_()  # what a notebook displays
        self.assertIn("<td>Completed</td>", shown)
        self.assertIn("<td>loss</td><td>0.25</td>", shown)
        self.assertAlmostEqual(metrics["loss"], 0.25)
        self.assertAlmostEqual(metrics["accuracy"], 0.84)
        names = run.get_file_names()
        self.assertIn("outputs/model/weights.npz", names)
        # One file, checked against its hash; then a prefix into a folder.
        target = os.path.join(self.tmp, "got")
        os.makedirs(target, exist_ok=True)
        path = run.download_file("outputs/single.txt", target)
        with open(path) as f:
            self.assertEqual(f.read(), "only file 4\n")
        written = run.download_files(prefix="outputs/model", output_directory=os.path.join(self.tmp, "all"))
        self.assertEqual(len(written), 2)
        files = {f["path"]: f["sha256"] for f in self.ws._client.get("/api/v1/runs/%d/files" % run.id)}
        for w in written:
            relative = os.path.relpath(w, os.path.join(self.tmp, "all"))
            self.assertEqual(sha256(w), files[relative])
        with self.assertRaises(KilnError) as missing:
            run.download_file("outputs/nothing.bin", target)
        self.assertIn("get_file_names", str(missing.exception))

    def test_register_list_and_download_a_model(self):
        run = self.submit("model.py", ["--seed", 2, "--size", 5000])
        run.wait_for_completion()
        model = run.register_model(model_name="sdk-model", tags={"stage": "dev"}, description="from the SDK")
        self.assertEqual((model.name, model.version), ("sdk-model", 1))
        self.assertEqual(model.tags, {"stage": "dev"})
        self.assertEqual(model.lineage["run"]["id"], run.id)
        again = run.register_model("sdk-model", model_path="outputs/single.txt")
        self.assertEqual(again.version, 2)
        self.assertEqual(Model(self.ws, "sdk-model").version, 2)  # no version: the newest
        self.assertEqual(Model(self.ws, id="sdk-model:1").description, "from the SDK")
        self.assertIn(("sdk-model", 2), [(m.name, m.version) for m in Model.list(self.ws)])
        self.assertEqual([m.version for m in Model.list(self.ws, name="sdk-model")], [1, 2])
        # Downloaded files hash as the run's did; a second download refuses to overwrite unless asked.
        target = os.path.join(self.tmp, "model-1")
        Model(self.ws, "sdk-model", version=1).download(target)
        files = {f["path"]: f["sha256"] for f in self.ws._client.get("/api/v1/runs/%d/files" % run.id)}
        self.assertEqual(sha256(os.path.join(target, "weights.npz")), files["outputs/model/weights.npz"])
        self.assertEqual(sha256(os.path.join(target, "variables", "config.json")),
                         files["outputs/model/variables/config.json"])
        with self.assertRaises(KilnError) as exists:
            Model(self.ws, "sdk-model", version=1).download(target)
        self.assertIn("exist_ok", str(exists.exception))
        Model(self.ws, "sdk-model", version=1).download(target, exist_ok=True)
        with self.assertRaises(KilnError) as unknown:
            Model(self.ws, "no-such-model")
        self.assertEqual(unknown.exception.status, 404)

    def test_tags_as_v1_sets_them(self):
        config = ScriptRunConfig(source_directory=self.source, script="model.py", arguments=["--size", 500])
        run = Experiment(self.ws, "sdk").submit(config, tags={"stage": "dev", "epochs": 3})
        run.tag("reviewed")  # v1: a tag without a value
        run.tag("owner", "ana")
        run.set_tags({"stage": "prod"})
        self.assertEqual(run.get_details()["tags"], {"stage": "prod", "epochs": "3", "reviewed": "", "owner": "ana"})
        run.wait_for_completion()

    def test_a_lost_answer_makes_one_object_not_two(self):
        # A proxy closes the connection after kilnd answered each of the first three requests through it (the
        # model was registered, the answer lost): the SDK sends the request again under the same
        # Idempotency-Key, and kilnd answers with what it did the first time: one version, not four.
        run = self.submit("model.py", ["--seed", 4, "--size", 2000])
        run.wait_for_completion()
        port = self.ws._client.url.rsplit(":", 1)[1]
        proxy = subprocess.Popen([sys.executable, os.path.join(os.environ["KILN_TEST_DATA"], "drop_proxy.py"),
                                  port, "0", "3"], stdout=subprocess.PIPE, text=True)
        try:
            through = Client("http://127.0.0.1:%s" % proxy.stdout.readline().strip(), self.ws._client._token)
            version = through.post("/api/v1/models", {"run": run.id, "name": "lost-answers", "path": "outputs/model",
                                                      "tags": {}, "description": ""})
        finally:
            proxy.terminate()
            lost = proxy.communicate(timeout=10)[0].count("lost a reply")
        self.assertEqual(lost, 3)  # the answer really was lost three times
        self.assertEqual(version["version"], 1)
        self.assertEqual([m.version for m in Model.list(self.ws, name="lost-answers")], [1])

    def test_a_new_workspace_has_the_sample_data(self):
        # The SDK started this workspace's kilnd (setUpClass), which registered Debian's Fashion-MNIST.
        sample = Dataset.get_by_name(self.ws, "fashion-mnist")
        debian = "/usr/share/datasets/fashion-mnist"
        self.assertEqual(sorted(sample.to_path()), sorted("/" + name for name in os.listdir(debian)))

    def test_a_kilnd_restart_during_a_wait_is_ridden_out(self):
        # A notebook waits for a run while its kilnd is stopped and started again (an upgrade, a crash
        # restarted by the studio): the wait goes on through the gap and ends with the run.
        run = self.submit("slow.py", ["--seconds", "5"])
        server = os.path.join(self.folder, "server.json")
        with open(server) as f:
            before = json.load(f)["pid"]

        def restart():
            time.sleep(1.0)
            subprocess.run([CLI, "--workspace", self.folder, "server", "stop"], check=True,
                           stdout=subprocess.DEVNULL)
            time.sleep(2.0)  # nothing answers for a while
            subprocess.run([CLI, "--workspace", self.folder, "server", "start"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        restarter = threading.Thread(target=restart)
        restarter.start()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            details = run.wait_for_completion(timeout_seconds=120)
        restarter.join()
        with open(server) as f:
            self.assertNotEqual(json.load(f)["pid"], before)  # it was another kilnd that answered last
        self.assertEqual(details["status"], "Completed")
        # Every point the script logged, also during the gap (its kiln module kept them and sent them later).
        with tempfile.TemporaryDirectory() as out:
            run.download_file("outputs/result.txt", os.path.join(out, "result.txt"))
            with open(os.path.join(out, "result.txt")) as f:
                ticks = int(f.read().strip().split("=")[1])
        self.assertEqual(run.get_metrics()["value"], list(range(ticks)))

    def test_datasets_register_version_mount_and_download(self):
        data = os.path.join(self.tmp, "data")
        os.makedirs(os.path.join(data, "sub"), exist_ok=True)
        for name, text in (("a.csv", "1,2\n"), ("b.csv", "3,4,5\n"), ("sub/c.txt", "c")):
            with open(os.path.join(data, name), "w") as f:
                f.write(text)
        ds = Dataset.File.from_files(path=[data]).register(self.ws, "sdk-data", description="three files")
        self.assertEqual((ds.name, ds.version), ("sdk-data", 1))
        self.assertEqual(sorted(ds.to_path()), ["/a.csv", "/b.csv", "/sub/c.txt"])
        # The same files again: the same version; other files under the name need create_new_version.
        self.assertEqual(Dataset.File.from_files(path=data).register(self.ws, "sdk-data").version, 1)
        csvs = Dataset.File.from_files(path=os.path.join(data, "*.csv"))
        with self.assertRaises(KilnError) as clash:
            csvs.register(self.ws, "sdk-data")
        self.assertEqual(clash.exception.status, 409)
        self.assertEqual(csvs.register(self.ws, "sdk-data", create_new_version=True).version, 2)
        self.assertEqual(Dataset.get_by_name(self.ws, "sdk-data").version, 2)
        self.assertEqual(Dataset.get_by_name(self.ws, "sdk-data", version=1).version, 1)
        # As a run's argument: mounted read-only (the dataset object itself), or a private copy.
        for argument in (Dataset.get_by_name(self.ws, "sdk-data", version=1),
                         Dataset.get_by_name(self.ws, "sdk-data").as_download()):
            run = self.submit("read_data.py", ["--data", argument])
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                run.wait_for_completion(show_output=True)
            listed = [l for l in out.getvalue().splitlines() if l.startswith("file ")]
            expected = (["file a.csv 4", "file b.csv 6", "file sub/c.txt 1"] if argument.__class__.__name__ ==
                        "FileDataset" else ["file a.csv 4", "file b.csv 6"])
            self.assertEqual(listed, expected)
        # As v1 writes it: files passed to a run unregistered (from_files, then as_mount) are registered at
        # submit under a name of their own, once: the same files again give back that version.
        fresh = os.path.join(self.tmp, "fresh data")
        os.makedirs(fresh, exist_ok=True)
        with open(os.path.join(fresh, "x.csv"), "w") as f:
            f.write("9\n")
        before = len(self.ws._client.get("/api/v1/datasets"))
        for expected in ("registered now", "already registered with these files"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                run = self.submit("read_data.py", ["--data", Dataset.File.from_files(path=fresh).as_mount()])
                run.wait_for_completion(show_output=True)
            self.assertIn("file x.csv 2", out.getvalue())
            said = [l for l in out.getvalue().splitlines() if l.startswith("Dataset fresh-data-")]
            self.assertEqual(len(said), 1, out.getvalue())
            self.assertTrue(said[0].endswith(": version 1 (%s)" % expected), said[0])
        self.assertEqual(len(self.ws._client.get("/api/v1/datasets")), before + 1)

        # Downloaded, checked; bad names and versions say so.
        got = Dataset.get_by_name(self.ws, "sdk-data", version=1).download(os.path.join(self.tmp, "data-copy"))
        self.assertEqual(len(got), 3)
        self.assertEqual(sha256(os.path.join(self.tmp, "data-copy", "sub", "c.txt")),
                         sha256(os.path.join(data, "sub", "c.txt")))
        with self.assertRaises(KilnError) as unknown:
            Dataset.get_by_name(self.ws, "no-such-data")
        self.assertEqual(unknown.exception.status, 404)
        with self.assertRaises(KilnError) as wrong_version:
            Dataset.get_by_name(self.ws, "sdk-data", version=9)
        self.assertEqual(wrong_version.exception.status, 404)
        with self.assertRaises(KilnError) as nothing:
            Dataset.File.from_files(path=os.path.join(data, "*.parquet"))
        self.assertIn("no file matches", str(nothing.exception))

    def test_environments_and_compute_as_a_v1_notebook_uses_them(self):
        # The seed's pattern: use the target if it exists, else provision it.
        try:
            pool = ComputeTarget(workspace=self.ws, name="sdk-pool")
            self.fail("no target should exist yet")
        except ComputeTargetException as e:
            self.assertIn("sdk-pool", str(e))
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
            self.assertIn("vm_size", err.getvalue())  # said once, and on it goes
            pool = ComputeTarget.create(self.ws, "sdk-pool", config)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(pool.wait_for_completion(show_output=True), "Succeeded")
        self.assertIn("of 2 nodes", out.getvalue())
        self.assertEqual(ComputeTarget(workspace=self.ws, name="sdk-pool").get_status(), "Succeeded")

        conda = os.path.join(self.tmp, "env.yml")
        with open(conda, "w") as f:
            f.write("name: sdk\ndependencies:\n  - python=3\n")
        env = Environment.from_conda_specification(name="sdk-env", file_path=conda).register(self.ws)
        self.assertEqual((env.name, env.version), ("sdk-env", 1))
        self.assertEqual(Environment.get(self.ws, "sdk-env").conda_yaml, "name: sdk\ndependencies:\n  - python=3\n")
        self.assertEqual(Environment.from_conda_specification("sdk-env", conda).register(self.ws).version, 1)
        broken = os.path.join(self.tmp, "broken.yml")
        with open(broken, "w") as f:
            f.write("dependencies:\n  - python=3\n   - oops: [\n")
        with self.assertRaises(KilnError) as bad:
            Environment.from_conda_specification("sdk-broken", broken).register(self.ws)
        self.assertEqual(bad.exception.status, 400)
        self.assertIn("line", str(bad.exception))

        # A run on the pool in the environment.
        config = ScriptRunConfig(source_directory=self.source, script="model.py", arguments=["--size", 100],
                                 compute_target=pool, environment=env)
        run = Experiment(self.ws, "sdk").submit(config)
        details = run.wait_for_completion(timeout_seconds=240)
        self.assertEqual(details["target"], "sdk-pool")
        self.assertEqual(self.ws._client.get("/api/v1/runs/%d" % run.id)["environment"]["name"], "sdk-env")

        # As v1 notebooks write it: an environment passed to a run unregistered is registered at submit, a
        # new version only when its definition differs from the latest, and a line says which version.
        def submit_with(environment):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                run = Experiment(self.ws, "sdk").submit(ScriptRunConfig(
                    source_directory=self.source, script="model.py", arguments=["--size", 100],
                    environment=environment))
            return self.ws._client.get("/api/v1/runs/%d" % run.id)["environment"], out.getvalue(), run
        same, said, run = submit_with(Environment.from_conda_specification(name="sdk-env", file_path=conda))
        self.assertEqual((same["name"], same["version"]), ("sdk-env", 1))
        self.assertIn("Environment sdk-env: version 1 (already registered with this definition)", said)
        run.wait_for_completion(timeout_seconds=240)
        changed = Environment.from_conda_specification(name="sdk-env", file_path=conda)
        changed.environment_variables = {"SDK_STAGE": "2"}
        newer, said, _ = submit_with(changed)
        self.assertEqual(newer["version"], 2)
        self.assertIn("Environment sdk-env: version 2 (registered now)", said)
        fresh, said, _ = submit_with(Environment.from_conda_specification(name="sdk-fresh", file_path=conda))
        self.assertEqual((fresh["name"], fresh["version"]), ("sdk-fresh", 1))
        self.assertIn("Environment sdk-fresh: version 1 (registered now)", said)
        self.assertEqual(len(self.ws._client.get("/api/v1/environments/sdk-env")["versions"]), 2)

    def test_a_hyperdrive_sweep_finds_the_best_trial(self):
        # A grid over x (y fixed): the best trial is x = 0.3, whatever order the trials ran in.
        script = ScriptRunConfig(source_directory=self.source, script="objective.py",
                                 arguments=["--y", -1, "--epochs", 3, "--pause", 0.01])
        config = HyperDriveConfig(run_config=script,
                                  hyperparameter_sampling=GridParameterSampling({"--x": choice(-1, 0.3, 2)}),
                                  primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                  max_total_runs=3, max_concurrent_runs=2)
        sweep = Experiment(self.ws, "sdk-sweep").submit(config)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            details = sweep.wait_for_completion(show_output=True, timeout_seconds=240)
        self.assertEqual(details["status"], "Completed")
        self.assertIn("3 of 3 trials done", out.getvalue())
        self.assertEqual(len(sweep.get_children()), 3)
        best = sweep.get_best_run_by_primary_metric()
        self.assertIn("--x 0.3", " ".join(best.get_details()["arguments"]))
        shown = sweep._repr_html_()
        self.assertIn("Completed", shown)
        self.assertEqual(shown.count("<tr>"), 4)  # a header and the three trials
        ranked = sweep.get_children_sorted_by_primary_metric()
        self.assertEqual(ranked[0]["run_id"], best.id)
        self.assertGreaterEqual(ranked[0]["best_primary_metric"], ranked[-1]["best_primary_metric"])
        # Early termination and bad expressions as a notebook would write them.
        random = HyperDriveConfig(run_config=script,
                                  hyperparameter_sampling=RandomParameterSampling({"x": uniform(-2, 2)}, seed=3),
                                  policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=1),
                                  primary_metric_name="score", max_total_runs=2)
        self.assertEqual(random._spec("e", lambda t: t, str, str)["early_termination"]["policy"], "bandit")
        with self.assertRaises(KilnError):
            BanditPolicy(evaluation_interval=1)  # no slack
        bad = HyperDriveConfig(run_config=script, hyperparameter_sampling=RandomParameterSampling({"--x": "uniform(1"}),
                               primary_metric_name="score")
        with self.assertRaises(KilnError) as refused:
            Experiment(self.ws, "sdk-sweep").submit(bad)
        self.assertIn("--x", str(refused.exception))

    def test_the_azureml_layout_imports_the_same_classes(self):
        from kiln.compat.azureml.core import Experiment as E, Model as M, Run, ScriptRunConfig as S, Workspace as W
        from kiln.compat.azureml.core import Dataset as D
        from kiln.compat.azureml.core.dataset import Dataset as D2
        from kiln.compat.azureml.core.compute import AmlCompute as A, ComputeTarget as C
        from kiln.compat.azureml.core.compute_target import ComputeTargetException as X
        from kiln.compat.azureml.core.environment import Environment as N
        from kiln.compat.azureml.core.model import Model as M2
        self.assertEqual((A, C, X, N), (AmlCompute, ComputeTarget, ComputeTargetException, Environment))
        from kiln.compat.azureml.train.hyperdrive import HyperDriveConfig as H, PrimaryMetricGoal as G, choice as c
        from kiln.compat.azureml.train.hyperdrive.parameter_expressions import loguniform as lu
        self.assertEqual((H, G, c), (HyperDriveConfig, PrimaryMetricGoal, choice))
        self.assertEqual(str(lu(-6, -1)), "loguniform(-6, -1)")
        self.assertIs(D, Dataset)
        self.assertIs(D2, Dataset)
        self.assertIs(W, Workspace)
        self.assertIs(E, Experiment)
        self.assertIs(S, ScriptRunConfig)
        self.assertIs(M, Model)
        self.assertIs(M2, Model)
        self.assertTrue(callable(Run.get_context))
        run = self.submit("model.py", ["--size", 10])
        self.assertIsInstance(run, Run)  # what submit returns is v1's Run
        run.wait_for_completion()

    def test_output_is_streamed_and_repeated_metrics_are_lists(self):
        run = self.submit("steady.py", ["--seconds", "0.3"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run.wait_for_completion(show_output=True)
        lines = [l for l in out.getvalue().splitlines() if l.startswith("line ")]
        self.assertEqual(lines, ["line %d" % i for i in range(30)])  # every line, once, in order
        self.assertEqual(run.get_metrics("tick"), {"tick": [float(i) for i in range(30)]})

    def test_scripts_log_binary_batches_exactly(self):
        # The script's points go to kilnd as binary columns and come back (history, also binary) unchanged.
        run = self.submit("columns.py")
        run.wait_for_completion()
        metrics = run.get_metrics()
        self.assertEqual(metrics["loss"], [1.0 / (i + 1) for i in range(2500)])
        self.assertEqual(metrics["acc/\u00fc"], [i / 2500.0 for i in range(0, 2500, 10)])
        self.assertEqual(metrics["lr"], [0.1] * 250)
        self.assertEqual(metrics["refused"], 5)  # bad names and steps raise where they are logged
        history = self.ws._client.history("/api/v1/runs/%d" % run.id, "acc/\u00fc")
        self.assertEqual(history["keys"], ["acc/\u00fc"])
        self.assertEqual(list(history["steps"]), list(range(0, 2500, 10)))
        self.assertTrue(all(t > 1.7e9 for t in history["timestamps"]))
        # Every key's level of detail at once has no range of its own: a 'from' or 'to' is refused, not ignored.
        path = "/api/v1/runs/%d/metrics/history?buckets=50" % run.id
        overview = _columns.decode(self.ws._client.request("GET", path, accept=_columns.CONTENT_TYPE))
        self.assertIn("acc/\u00fc", overview["keys"])
        for bad in ("&from=10", "&to=x"):
            with self.assertRaisesRegex(KilnError, "'from' and 'to' need a 'key'"):
                self.ws._client.request("GET", path + bad, accept=_columns.CONTENT_TYPE)

    def test_system_metrics_are_asked_for(self):
        # A run long enough for its supervisor's samples: get_metrics() is what the script logged, as on
        # Azure ML; the system metrics come with system=True or by name, and the notebook view sums them up.
        run = self.submit("steady.py", ["--seconds", "2.5"])
        run.wait_for_completion()
        self.assertEqual(sorted(run.get_metrics()), ["tick"])
        everything = run.get_metrics(system=True)
        self.assertIn("sys/cpu", everything)
        self.assertIn("sys/rss_mb", everything)
        self.assertGreater(max(run.get_metrics("sys/peak_rss_mb")["sys/peak_rss_mb"]), 5)
        shown = run._repr_html_()
        self.assertIn("peak memory", shown)
        self.assertIn("mean CPU", shown)
        self.assertNotIn("<td>sys/cpu</td>", shown)

    def test_a_failed_run_raises_with_its_error(self):
        run = self.submit("fail.py")
        with self.assertRaises(KilnError) as failed:
            run.wait_for_completion()
        self.assertIn("failed", str(failed.exception))
        self.assertIn("exit", run.get_details()["error"] + str(run.get_details()["exitCode"]))
        details = run.wait_for_completion(raise_on_error=False)
        self.assertEqual(details["status"], "Failed")
        self.assertEqual(details["exitCode"], 3)

    def test_cancel(self):
        hold = os.path.join(self.tmp, "never")
        run = self.submit("slow.py", ["--seconds", "0", "--until", hold])
        run.cancel()
        details = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
        self.assertEqual(details["status"], "Canceled")

    def test_bad_input_is_refused_clearly(self):
        runs_before = len(Experiment(self.ws, "sdk").get_runs())
        with self.assertRaises(KilnError) as no_script:
            ScriptRunConfig(source_directory=self.source)
        self.assertIn("script=", str(no_script.exception))
        with self.assertRaises(KilnError) as no_folder:
            Experiment(self.ws, "sdk").submit(ScriptRunConfig(source_directory="/no/such/folder", script="x.py"))
        self.assertIn("not a folder", str(no_folder.exception))
        with self.assertRaises(KilnError) as no_target:
            Experiment(self.ws, "sdk").submit(
                ScriptRunConfig(source_directory=self.source, script="model.py", compute_target="nowhere"))
        self.assertIn("nowhere", str(no_target.exception))
        with self.assertRaises(KilnError) as not_in_folder:
            self.submit("missing.py")
        self.assertIn("missing.py", str(not_in_folder.exception))
        typo = os.path.join(self.tmp, "no-such-workspace")
        with self.assertRaises(KilnError) as missing:
            Workspace.from_config(typo)
        self.assertIn("kiln workspace init", str(missing.exception))
        self.assertFalse(os.path.exists(typo))  # nothing made
        # The refused submits were to "sdk": not one of them made a run there.
        self.assertEqual(len(Experiment(self.ws, "sdk").get_runs()), runs_before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
