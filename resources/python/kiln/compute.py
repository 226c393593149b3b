"""Compute targets for the workspace SDK: a local pool (AmlCompute's names) or a Slurm cluster."""

from ._client import KilnError, quote, wait_job, warn_once

__all__ = ["AmlCompute", "ComputeTarget", "ComputeTargetException", "SlurmCompute"]


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
            warn_once("vm_size, min_nodes and idle_seconds_before_scaledown do not apply to a local pool "
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
                wait_job(workspace._client, answer["job"])
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
