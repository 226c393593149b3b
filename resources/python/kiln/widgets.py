"""RunDetails: a live view of a run or a sweep in a notebook, like v1's ``azureml.widgets.RunDetails``.

    RunDetails(run).show()

shows the run's status and duration, its metrics as small charts with their last values, and the last lines
of its output; for a sweep (HyperDriveRun) its progress, the best trial and every trial with its values,
metric, status and why it stopped. The view is updated in place (Jupyter's display updates, no extra
package) every couple of seconds until the run ends, by a thread of its own, so the notebook goes on; the
last update is what a saved notebook keeps. Outside Jupyter, show() prints the same as text once."""

import collections
import html
import threading
import time
import weakref

__all__ = ["RunDetails"]

_TERMINAL = ("Completed", "Failed", "Canceled")
_shown = weakref.WeakSet()  # views being kept up to date


def settle(run):
    """Brings every view of `run` to its final state now (wait_for_completion calls it as it returns, so
    that the cell that waited leaves the view as the run ended)."""
    for view in list(_shown):
        if view.run.id == run.id and type(view.run) is type(run):
            try:
                view.update()
            except Exception:  # a view must never fail the wait it follows
                pass


def _sparkline(values, width=160, height=36):
    """An inline SVG polyline of `values` (a curve's shape; the numbers are in the table)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    points = " ".join("%.1f,%.1f" % (i * step, height - 2 - (v - low) / span * (height - 4))
                      for i, v in enumerate(values))
    return ('<svg width="%d" height="%d" viewBox="0 0 %d %d"><polyline fill="none" stroke="#1f77b4" '
            'stroke-width="1.5" points="%s"/></svg>' % (width, height, width, height, points))


def _duration(seconds):
    seconds = int(max(0, seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60) if seconds >= 3600 else \
        "%d:%02d" % (seconds // 60, seconds % 60)


class RunDetails:
    """A live view of `run_instance` (what Experiment.submit returned: a run or a sweep)."""

    def __init__(self, run_instance):
        self.run = run_instance
        self._lines = collections.deque(maxlen=12)
        self._logs_after = 0
        self._handle = None
        self._thread = None
        self._lock = threading.Lock()
        self.ended = False

    def show(self, interval=2.0):
        """Shows the view and keeps it up to date until the run ends (returns at once)."""
        page = self.get_html()
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(self.get_text())
            return None
        self._html = HTML
        self._handle = display(HTML(page), display_id=True)
        if not self.ended and self._handle is not None:
            _shown.add(self)
            self._thread = threading.Thread(target=self._follow, args=(interval, HTML), daemon=True)
            self._thread.start()
        return self._handle

    def wait(self, timeout=None):
        """Waits for the view's last update (after the run ended)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def update(self):
        """Shows the run as it is now."""
        with self._lock:
            if self._handle is not None:
                self._handle.update(self._html(self.get_html()))

    def _follow(self, interval, HTML):
        while not self.ended:
            time.sleep(interval)
            try:
                self.update()
            except Exception:  # kilnd restarting: the next turn tries again
                continue

    # What the view shows

    def get_html(self):
        return self._sweep_html() if hasattr(self.run, "_sweep") else self._run_html()

    def get_text(self):
        if hasattr(self.run, "_sweep"):
            s = self.run._sweep()
            return "Sweep %d: %s, %d trials" % (self.run.id, s["status"], len(s.get("trials", [])))
        r = self.run._run()
        return "Run %d (%s): %s" % (self.run.id, r["name"], r["status"])

    def _run_html(self):
        client, base = self.run._client, self.run._base
        r = client.get(base)
        self.ended = r["status"] in _TERMINAL
        started, ended = r.get("started"), r.get("ended")
        took = "" if started is None else _duration((ended or time.time()) - started)
        # The newest output lines (read on from where the last update stopped).
        for _ in range(50):
            page = client.get(base + "/logs?after=%d&limit=2000" % self._logs_after)
            for line in page.get("lines", []):
                if line.get("stream") == "output":
                    self._lines.append(line["line"])
            self._logs_after = page.get("cursor", self._logs_after)
            if len(page.get("lines", [])) < 2000:
                break
        rows = []
        system = []
        for m in client.get(base + "/metrics"):
            key = m["key"]
            if key.startswith("sys/"):
                if key in ("sys/peak_rss_mb", "sys/mean_cpu") and isinstance(m.get("last"), (int, float)):
                    system.append(("peak memory %.0f MiB" if key == "sys/peak_rss_mb" else "mean CPU %.2f cores")
                                  % m["last"])
                continue
            chart = ""
            if m.get("count", 0) > 1:
                series = client.get(base + "/metrics/history?key=%s&buckets=120" % _quote(key))["series"]
                chart = _sparkline([v for v in series.get("values", []) if isinstance(v, (int, float))])
            rows.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                        % (html.escape(key), "%g" % m["last"] if isinstance(m.get("last"), (int, float)) else "",
                           m.get("count", 0), chart))
        color = {"Completed": "#2e7d32", "Failed": "#c62828", "Canceled": "#757575"}.get(r["status"], "#1565c0")
        out = ['<div class="kiln-run-details" data-status="%s">' % html.escape(r["status"]),
               '<p><b>Run %d</b> (%s, experiment %s): <b style="color:%s">%s</b>%s%s%s</p>'
               % (self.run.id, html.escape(r["name"]), html.escape(r["experiment"]), color,
                  html.escape(r["status"]), " &middot; %s" % took if took else "",
                  " &middot; " + html.escape(", ".join(system)) if system else "",
                  " &middot; exit code %s" % r["exit_code"] if r.get("exit_code") is not None else "")]
        if r.get("error"):
            out.append('<p style="color:#c62828">%s</p>' % html.escape(r["error"]))
        if rows:
            out.append("<table><tr><th>Metric</th><th>Last</th><th>Points</th><th></th></tr>%s</table>"
                       % "".join(rows))
        if self._lines:
            out.append("<pre style='max-height:14em;overflow:auto'>%s</pre>" % html.escape("\n".join(self._lines)))
        out.append("</div>")
        return "".join(out)

    def _sweep_html(self):
        s = self.run._sweep()
        self.ended = s["status"] in _TERMINAL
        metric = s["spec"]["primary_metric"]["name"]
        c = s["counts"]
        done = c.get("completed", 0) + c.get("failed", 0) + c.get("canceled", 0) + c.get("stopped_early", 0)
        best = s.get("best")
        trials = []
        for t in s.get("trials", []):
            reason = t.get("stop_reason") or t.get("error") or (
                "never logged %s" % metric if t["status"] in _TERMINAL and not t.get("reports") else "")
            params = ", ".join("%s=%s" % (k, v) for k, v in sorted(t.get("params", {}).items())
                               if _swept(k, s["spec"]))
            trials.append("<tr%s><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                          % (' style="font-weight:bold"' if best and best["run"] == t["run"] else "",
                             t["run"], html.escape(t["status"]), html.escape(params),
                             "" if t.get("metric") is None else "%g" % t["metric"], html.escape(reason)))
        return ('<div class="kiln-sweep-details" data-status="%s"><p><b>Sweep %d</b> (%s): <b>%s</b> &middot; '
                "%d of %s trials done, %d running, %d stopped early%s</p>"
                "<table><tr><th>Run</th><th>Status</th><th>Parameters</th><th>%s</th><th>Why it stopped</th></tr>"
                "%s</table></div>"
                % (html.escape(s["status"]), self.run.id, html.escape(s["experiment"]), html.escape(s["status"]),
                   done, s["spec"].get("max_total_trials", "?"), c.get("running", 0), c.get("stopped_early", 0),
                   "" if not best else " &middot; best: run %d with %s = %g" % (best["run"], html.escape(metric),
                                                                                 best["metric"]),
                   html.escape(metric), "".join(trials)))


def _swept(param, spec):
    """Whether run param `param` (argparse's name) is one the sweep varies."""
    return any(name.lstrip("-").replace("-", "_") == param for name in spec.get("parameters", {}))


def _quote(text):
    from urllib.parse import quote
    return quote(text, safe="")
