"""Registered models for the workspace SDK: a version's files (downloaded and checked) and lineage."""

import os

from ._client import KilnError, quote, quote_path

__all__ = ["Model"]


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
