#!/usr/bin/env python3
"""Builds the peer table from the kit's JSON results: results.json and the README section
between the `peer-table` markers. Usage: table.py OUT_DIR RESULTS_JSON README."""
import json
import os
import sys

out, results_path, readme_path = sys.argv[1:4]

PEERS = [
    ("device-grant-cli", "device-grant (this project's CLI)", "0.1.0 (this tree)", ""),
    ("reference-python", "kit reference client (Python stdlib)", "this tree", ""),
    ("oauth2-rs-reqwest", "oauth2-rs, blocking reqwest", "oauth2 5.0.0, reqwest 0.12",
     "whole-second intervals: oauth2-rs reads `interval` as an integer"),
    ("oauth2-rs-ureq", "oauth2-rs, ureq", "oauth2 5.0.0, ureq 2",
     "whole-second intervals, as above"),
    ("msal-python", "MSAL for Python", "msal 1.39.0 (requests 2.34.2)",
     "PublicClientApplication refuses http authorities: wrapped at msal.oauth2cli.Client, "
     "the device-flow layer it runs on; whole-second intervals"),
]

combined, rows = {}, []
for key, name, ver, note in PEERS:
    path = os.path.join(out, key + ".json")
    if not os.path.exists(path):
        rows.append(f"| {name} | {ver} | not run | | {note} |")
        continue
    data = json.load(open(path))
    combined[key] = {"client": name, "version": ver, "note": note, **data}
    failed = [r for r in data["results"] if not r["passed"]]
    seen, phrases = set(), []
    for r in sorted(failed, key=lambda r: r["level"] != "MUST"):
        if r["scenario"] in seen:
            continue
        seen.add(r["scenario"])
        phrases.append(f"{r['scenario']} ({r['level']}): {r['why']}")
    notable = "; ".join(phrases[:6]) + (f"; +{len(phrases) - 6} more" if len(phrases) > 6 else "")
    notable = notable.replace("|", "\\|") or "none"
    m, s = data["must"], data["should"]
    extra = f" ({note})" if note else ""
    rows.append(f"| {name} | {ver} | {m['passed']}/{m['total']} | {s['passed']}/{s['total']} "
                f"| {notable}{extra} |")

json.dump(combined, open(results_path, "w"), indent=1)
table = ("| client | version | MUSTs passed | SHOULDs passed | notable failures |\n"
         "|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
readme = open(readme_path).read()
start, end = "<!-- peer-table -->\n", "<!-- /peer-table -->"
a, b = readme.index(start) + len(start), readme.index(end)
open(readme_path, "w").write(readme[:a] + table + readme[b:])
print(table)
