"""The workspace SDK's Slurm compute against the real test cluster (../shared/slurm, started by the test
command): provisioning through SlurmCompute.provisioning_configuration, a refused token, and a run that
executes as a batch job. Without a cluster it fails under CI=true and is skipped elsewhere."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["KILN_PYTHONPATH"])
from kiln.workspace import (ComputeTarget, ComputeTargetException, Experiment, ScriptRunConfig,  # noqa: E402
                            SlurmCompute, Workspace)

CLI = os.environ["KILN_CLI"]
URL = os.environ.get("SLURM_CI_REST_URL")
TOKEN = os.environ.get("SLURM_CI_REST_TOKEN")
USER = os.environ.get("SLURM_CI_REST_USER_NAME", "root")


class SlurmSdkTest(unittest.TestCase):
    def setUp(self):
        if not URL:
            if os.environ.get("CI") == "true":
                self.fail("no Slurm cluster: cmake/bootstrap.sh test starts one with ../shared/slurm/start_slurm.sh")
            self.skipTest("no Slurm cluster here (SLURM_CI_REST_URL unset)")
        self.tmp = tempfile.mkdtemp(prefix="kiln-sdk-slurm-")
        self.folder = os.path.join(self.tmp, "ws")
        subprocess.run([CLI, "workspace", "init", self.folder], check=True, stdout=subprocess.DEVNULL)
        self.ws = Workspace.from_config(self.folder)

    def tearDown(self):
        if URL:
            subprocess.run([CLI, "--workspace", self.folder, "server", "stop"], stdout=subprocess.DEVNULL)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def test_provision_and_run_on_slurm(self):
        bad = SlurmCompute.provisioning_configuration(slurm_url=URL, slurm_token="not-a-token", slurm_user=USER,
                                                      partition="debug", max_nodes=2)
        with self.assertRaises(ComputeTargetException) as refused:
            ComputeTarget.create(self.ws, "bad", bad)
        self.assertIn("refused", str(refused.exception))
        with self.assertRaises(ComputeTargetException):
            ComputeTarget(workspace=self.ws, name="bad")  # nothing half-created

        config = SlurmCompute.provisioning_configuration(slurm_url=URL, slurm_token=TOKEN, slurm_user=USER,
                                                         partition="debug", max_nodes=2)
        cluster = ComputeTarget.create(self.ws, "cluster", config)
        self.assertEqual(cluster.wait_for_completion(), "Succeeded")
        source = os.path.join(self.tmp, "src")
        os.makedirs(source)
        shutil.copy(os.path.join(os.environ["KILN_TEST_DATA"], "scripts", "model.py"), source)
        run = Experiment(self.ws, "slurm-sdk").submit(
            ScriptRunConfig(source_directory=source, script="model.py", arguments=["--size", 100],
                            compute_target=cluster))
        details = run.wait_for_completion(timeout_seconds=240)
        self.assertEqual(details["target"], "cluster")
        self.assertIn("outputs/model/weights.npz", run.get_file_names())


if __name__ == "__main__":
    unittest.main(verbosity=2)
