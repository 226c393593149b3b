"""Uses its own run token while it runs (one metric point sent by hand with it), and leaves the token in
outputs/token.txt, so a test can check the same token is refused once the run has ended."""
import json
import os
import urllib.request

token = os.environ["KILN_RUN_TOKEN"]
url = "%s/api/v1/runs/%s/metrics" % (os.environ["KILN_URL"], os.environ["KILN_RUN_ID"])
body = json.dumps({"points": [{"key": "alive", "value": 1.0, "step": 0}]}).encode()
request = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
with urllib.request.urlopen(request) as answer:
    print("sent with my token: %d" % answer.status, flush=True)
os.makedirs("outputs", exist_ok=True)
with open("outputs/token.txt", "w") as f:
    f.write(token)
