#!/usr/bin/env python3
"""MSAL for Python wrapped to the conformance kit's contract (sim/README.md).

PublicClientApplication only accepts an https authority (msal.authority.canonicalize), and
the simulator serves plain http on 127.0.0.1, so this wraps the layer it runs the device flow
on: msal.oauth2cli's Client, with initiate_device_flow, obtain_token_by_device_flow and
obtain_token_by_refresh_token, configured as MSAL configures it.
"""
import os
import sys

import requests
from msal.oauth2cli.oauth2 import Client

env = os.environ
config = {
    "device_authorization_endpoint": env["DEVICE_AUTHORIZATION_ENDPOINT"],
    "token_endpoint": env["TOKEN_ENDPOINT"],
}
method = env.get("CLIENT_AUTH_METHOD", "none")
secret = env.get("CLIENT_SECRET") or None
body = {}
if method == "client_secret_post" and secret:
    body["client_secret"] = secret
client = Client(
    config,
    env["CLIENT_ID"],
    http_client=requests.Session(),
    client_secret=secret if method == "client_secret_basic" else None,
    default_body=body,
)
scope = env.get("SCOPE", "").split()
try:
    flow = client.initiate_device_flow(scope=scope)
except Exception as e:  # what an application would do: report and exit
    sys.exit(f"error: device authorization: {e!r}")
if "user_code" not in flow:
    sys.exit(f"error: device authorization: {flow.get('error')}")
print(f"Open {flow.get('verification_uri')} and enter the code {flow['user_code']}", flush=True)
try:
    result = client.obtain_token_by_device_flow(flow)
except Exception as e:
    sys.exit(f"error: polling: {e!r}")
if "access_token" not in result:
    error = result.get("error")
    print(f"error: {error}", file=sys.stderr)
    sys.exit(3 if error in ("access_denied", "authorization_declined") else
             4 if error in ("expired_token", "code_expired") else 5)
print(f"access_token={result['access_token']}", flush=True)
if env.get("HARNESS_REFRESH") == "1":
    refresh = result.get("refresh_token")
    for _ in range(int(env.get("HARNESS_REFRESH_COUNT", "1"))):
        try:
            answer = client.obtain_token_by_refresh_token(refresh)
        except Exception as e:
            sys.exit(f"error: refresh: {e!r}")
        if "access_token" not in answer:
            sys.exit(f"error: refresh: {answer.get('error')}")
        print(f"refreshed_access_token={answer['access_token']}", flush=True)
        refresh = answer.get("refresh_token") or refresh
