"""Executes resources/samples/fashion-mnist/train-at-scale.ipynb headless (Debian's jupyter-nbconvert)
against a real kilnd on a temporary workspace, with a small --limit, and checks what it left: the registered
dataset, pool and environment, the run, the two models, the downloaded files and the 8-trial sweep."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["KILN_PYTHONPATH"])
from kiln.workspace import Model, Workspace  # noqa: E402

CLI = os.environ["KILN_CLI"]
NOTEBOOK = os.path.join(os.environ["KILN_SAMPLE_DIR"], "train-at-scale.ipynb")


class NotebookTest(unittest.TestCase):
    def test_the_sample_notebook_runs_end_to_end(self):
        tmp = tempfile.mkdtemp(prefix="kiln-notebook-test-")
        folder = os.path.join(tmp, "ws")
        out = os.path.join(tmp, "out")
        os.makedirs(out)
        subprocess.run([CLI, "workspace", "init", folder], check=True, stdout=subprocess.DEVNULL)
        env = dict(os.environ, KILN_WORKSPACE=folder, KILN_SAMPLE_LIMIT="1000", KILN_SAMPLE_EPOCHS="2",
                   KILN_NOTEBOOK_OUT=out)
        try:
            done = subprocess.run(["jupyter-nbconvert", "--to", "notebook", "--execute", NOTEBOOK,
                                   "--output-dir", tmp, "--output", "executed",
                                   "--ExecutePreprocessor.timeout=600"],
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=900)
            self.assertEqual(done.returncode, 0, done.stderr[-4000:])
            with open(os.path.join(tmp, "executed.ipynb")) as f:
                executed = json.load(f)
            text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
            pages = "".join("".join(o.get("data", {}).get("text/html", "")) for c in executed["cells"]
                            for o in c.get("outputs", []))
            # RunDetails views, kept in the saved notebook as the run and the sweep ended: the run with its
            # metrics as charts and its last output lines, the sweep with its trials and best.
            self.assertIn('class="kiln-run-details" data-status="Completed"', pages)
            self.assertIn("<svg", pages)
            self.assertIn("Saved the model to outputs/model/", pages)
            self.assertIn('class="kiln-sweep-details" data-status="Completed"', pages)
            self.assertIn("best: run ", pages)
            self.assertNotIn('data-status="Running"', pages)
            self.assertIn("Epoch 2/2", text)             # the run's output, streamed into the notebook
            self.assertIn("8 of 8 trials done", text)    # the sweep's progress
            # The environment, passed unregistered as v1 notebooks do, was registered by the run's submit and
            # reused by the sweep's.
            self.assertIn("Environment fashion-env: version 1 (registered now)", text)
            self.assertIn("Environment fashion-env: version 1 (already registered with this definition)", text)
            ws = Workspace.from_config(folder)
            client = ws._client
            self.assertEqual(client.get("/api/v1/datasets/fashion-mnist/versions/latest")["file_count"], 4)
            self.assertEqual(client.get("/api/v1/compute/cpu-cluster")["config"]["max_nodes"], 4)
            self.assertEqual(client.get("/api/v1/environments/fashion-env/versions/latest")["version"], 1)
            model = Model(ws, "fashion-mlp")
            self.assertEqual(model.lineage["run"]["experiment"], "fashion-mnist-at-scale")
            self.assertEqual(model.lineage["environment"]["name"], "fashion-env")
            self.assertEqual(model.lineage["datasets"][0]["name"], "fashion-mnist")
            for f in model._files:  # downloaded by the notebook, byte for byte
                with open(os.path.join(out, "fashion-mlp", f["path"]), "rb") as got:
                    self.assertEqual(hashlib.sha256(got.read()).hexdigest(), f["sha256"])
            sweeps = client.get("/api/v1/sweeps")
            self.assertEqual(len(sweeps), 1)
            sweep = client.get("/api/v1/sweeps/%d" % sweeps[0]["id"])
            self.assertEqual(sweep["status"], "Completed")
            self.assertEqual(len(sweep["trials"]), 8)
            self.assertEqual(sweep["spec"]["early_termination"]["policy"], "bandit")
            tuned = Model(ws, "fashion-mlp-tuned")
            self.assertEqual(tuned.lineage["run"]["id"], sweep["best"]["run"])
        finally:
            subprocess.run([CLI, "--workspace", folder, "server", "stop"], stdout=subprocess.DEVNULL)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
