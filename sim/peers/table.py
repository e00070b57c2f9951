#!/usr/bin/env python3
"""Builds the peer table from the kit's JSON results: results.json and the README section
between the `peer-table` markers. Usage: table.py OUT_DIR RESULTS_JSON README..."""
import json
import os
import sys

out, results_path, *readme_paths = sys.argv[1:]

# Scenarios that do not apply to a client: not counted, named in the table.
AZURE_V1 = ["azure-ad-v1", "azure-ad-v1-expired"]  # a dialect generic clients do not speak
CONFIDENTIAL = ["auth-client-secret-basic", "auth-client-secret-post", "secrets-not-printed"]
PEERS = [
    ("device-grant-cli", "device-grant (this project's CLI)", "0.1.0 (this tree)", "", []),
    ("ureq-example", "device-grant-ureq, `blocking_generic` example", "0.1.0 (this tree)",
     "harness mode: `DEVICE_GRANT_KIT=1`", []),
    ("reqwest-example", "device-grant-reqwest, `async_generic` example", "0.1.0 (this tree)",
     "harness mode: `DEVICE_GRANT_KIT=1`", []),
    ("reference-python", "kit reference client (Python stdlib)", "this tree", "", []),
    ("oauth2-rs-reqwest", "oauth2-rs, blocking reqwest", "oauth2 5.0.0, reqwest 0.12",
     "whole-second intervals (oauth2-rs reads `interval` as an integer)", AZURE_V1),
    ("oauth2-rs-ureq", "oauth2-rs, ureq", "oauth2 5.0.0, ureq 2",
     "whole-second intervals", AZURE_V1),
    ("msal-python", "MSAL for Python", "msal 1.39.0 (requests 2.34.2)",
     "PublicClientApplication refuses http authorities, so wrapped at msal.oauth2cli.Client, "
     "the device-flow layer it runs on; public clients only; whole-second intervals",
     AZURE_V1 + CONFIDENTIAL),
    ("openid-client", "openid-client (Node)", "openid-client 6.8.9 (oauth4webapi 3.8.8), Node 20",
     "metadata by discovery at `ISSUER`; `allowInsecureRequests` for http on loopback", AZURE_V1),
]

combined, rows = {}, []
for key, name, ver, note, skip in PEERS:
    path = os.path.join(out, key + ".json")
    if not os.path.exists(path):
        rows.append(f"| {name} | {ver} | not run | | {note} |")
        continue
    data = json.load(open(path))
    for r in data["results"]:
        r["applies"] = r["scenario"] not in skip
    combined[key] = {"client": name, "version": ver, "note": note, "not_applicable": skip, **data}
    counted = [r for r in data["results"] if r["applies"]]
    def score(level):
        at = [r for r in counted if r["level"] == level]
        return f"{sum(r['passed'] for r in at)}/{len(at)}"
    must_failed, should_failed = [], []
    for r in counted:
        if not r["passed"]:
            bucket = must_failed if r["level"] == "MUST" else should_failed
            if r["scenario"] not in must_failed + should_failed:
                bucket.append(r["scenario"])
    should_failed = [s for s in should_failed if s not in must_failed]
    parts = []
    if must_failed:
        parts.append("MUST: " + ", ".join(f"`{s}`" for s in must_failed))
    if should_failed:
        parts.append("SHOULD: " + ", ".join(f"`{s}`" for s in should_failed))
    notable = "; ".join(parts) or "none"
    extra = []
    if skip:
        extra.append("not applicable: " + ", ".join(f"`{s}`" for s in skip))
    if note:
        extra.append(note)
    extra = f" ({'; '.join(extra)})" if extra else ""
    rows.append(f"| {name} | {ver} | {score('MUST')} | {score('SHOULD')} | {notable}{extra} |")

json.dump(combined, open(results_path, "w"), indent=1)
table = ("| client | version | MUSTs passed | SHOULDs passed | notable failures |\n"
         "|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
start, end = "<!-- peer-table -->\n", "<!-- /peer-table -->"
for readme_path in readme_paths:
    readme = open(readme_path).read()
    a, b = readme.index(start) + len(start), readme.index(end)
    open(readme_path, "w").write(readme[:a] + table + readme[b:])
print(table)
