"""Prints what kilnd answers when this run's token is used outside its own run."""
import json
import os
import urllib.error
import urllib.request

url, run_id, token = os.environ["KILN_URL"], os.environ["KILN_RUN_ID"], os.environ["KILN_RUN_TOKEN"]


def status(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


point = {"points": [{"key": "x", "value": 1}]}
print("own-metrics", status("POST", "/api/v1/runs/%s/metrics" % run_id, point))
print("other-metrics", status("POST", "/api/v1/runs/%d/metrics" % (int(run_id) + 1000), point))
print("list-runs", status("GET", "/api/v1/runs"))
print("shutdown", status("POST", "/api/v1/server/shutdown", {}))
