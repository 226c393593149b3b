"""Environments for the workspace SDK: a conda file, pip requirements or an interpreter, versioned."""

from ._client import quote, warn_once

__all__ = ["Environment"]


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
        warn_once("a docker base image is kept with the environment for container backends; local runs "
                   "build a venv and do not use it")
        self.docker_image = image or ""

    def register(self, workspace):
        """Saves the spec (a new version when it changed) and returns the registered Environment."""
        version, _ = self._save(workspace)
        return Environment.get(workspace, self.name, version)

    def _save(self, workspace):
        """(version, created): kilnd keeps a new version only when the spec differs from the latest."""
        body = {"name": self.name, "python": self.python, "conda_yaml": self.conda_yaml,
                "requirements": self.requirements,
                "variables": {k: str(v) for k, v in self.environment_variables.items()},
                "docker_image": self.docker_image}
        answer = workspace._client.post("/api/v1/environments", body)
        return answer["environment"]["version"], bool(answer.get("created"))

    def _for_run(self, workspace):
        """NAME:V for a run. As in v1, an environment passed to a run unregistered is registered at submit
        (a new version only when its definition differs from the latest), and a line says which version."""
        if self.version:
            return "%s:%s" % (self.name, self.version)
        version, created = self._save(workspace)
        print("Environment %s: version %d (%s)" % (self.name, version, "registered now" if created else
                                                   "already registered with this definition"), flush=True)
        return "%s:%d" % (self.name, version)

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
