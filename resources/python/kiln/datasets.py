"""Datasets for the workspace SDK: files to register (Dataset.File.from_files), registered versions, and
datasets as run arguments (mounted or downloaded)."""

import glob
import hashlib
import json
import os

from ._client import KilnError, quote, quote_path, wait_job

__all__ = ["Dataset", "FileDataset"]


class _DatasetInput:
    """A dataset as a run argument: a read-only folder (as_mount) or a private copy (as_download). Of an
    unregistered dataset (Dataset.File.from_files), the reference is made at submit, which registers it."""

    def __init__(self, dataset, download):
        self._dataset = dataset
        self._download = download

    def _kiln_resolve(self, workspace):
        ds = self._dataset._for_run(workspace)
        return "{dataset:%s:%d%s}" % (ds.name, ds.version, ":download" if self._download else "")

    def __str__(self):
        if self._dataset.name:
            return self._kiln_resolve(None)
        return "<dataset of %d source(s), registered when a run is submitted>" % len(self._dataset._sources)


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

    def _for_run(self, workspace):
        """This dataset, registered. As in v1, files passed to a run unregistered are saved with it: here
        as a dataset named after the first source and where the sources are, a new version only when the
        files differ (the same files give back the version they are), said in one line."""
        if self.name:
            return self
        if workspace is None:
            raise KilnError("an unregistered dataset becomes a run's argument when the run is submitted")
        if getattr(self, "_saved", None) is None:
            first = self._sources[0]
            base = os.path.basename(os.path.normpath(first.get("path") or first.get("url").split("?")[0]))
            base = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).strip("-.") or "data"
            where = hashlib.sha256(json.dumps(self._sources, sort_keys=True).encode()).hexdigest()[:8]
            before = None
            name = "%s-%s" % (base[:40], where)
            try:
                before = Dataset.get_by_name(workspace, name).version
            except KilnError:
                pass
            self._saved = self.register(workspace, name, description="files a run was submitted with",
                                        create_new_version=True)
            print("Dataset %s: version %d (%s)" % (name, self._saved.version,
                                                  "already registered with these files"
                                                  if before == self._saved.version else "registered now"),
                  flush=True)
        return self._saved

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
        result = wait_job(client, job["job"])
        version = result["dataset"]["version"] if isinstance(result.get("dataset"), dict) else None
        return Dataset.get_by_name(workspace, name, version or "latest")

    def _kiln_resolve(self, workspace):  # the dataset itself as an argument: mounted
        return self.as_mount()._kiln_resolve(workspace)

    def as_mount(self, path_on_compute=None):
        return _DatasetInput(self, download=False)

    def as_download(self, path_on_compute=None):
        return _DatasetInput(self, download=True)

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
