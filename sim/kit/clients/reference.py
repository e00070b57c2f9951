#!/usr/bin/env python3
"""A device-flow client to the kit's contract, in Python with the standard library only.

It follows RFC 8628 as the kit checks it, and can be broken on purpose: BREAK=<variant>
(see VARIANTS) makes it commit one classic mistake, so that the kit's own tests can prove
that the scenario aimed at each mistake catches it.
"""
import base64
import json
import os
import socket
import sys
import time
import http.client
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime

VARIANTS = {
    "ignore-slow-down": "treats slow_down like authorization_pending",
    "no-default-interval": "polls every second when the server sends no interval",
    "no-backoff": "retries after a failure without waiting longer",
    "poll-after-denied": "polls once more after access_denied",
    "follow-redirects": "follows redirects (urllib's default)",
    "prints-device-code": "logs the device code",
    "reuses-refresh-token": "keeps using the first refresh token",
    "no-deadline": "ignores expires_in",
    "secret-twice": "sends the client secret in the form and in Basic",
    "status-200-is-success": "takes any HTTP 200 for a token",
}
BREAK = os.environ.get("BREAK", "")
if BREAK and BREAK not in VARIANTS:
    sys.exit(f"unknown BREAK={BREAK}")

BODY_LIMIT = 1024 * 1024
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
env = os.environ
provider = env.get("PROVIDER", "rfc")
method = env.get("CLIENT_AUTH_METHOD", "none")
client_id = env["CLIENT_ID"]
secret = env.get("CLIENT_SECRET", "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = (urllib.request.build_opener() if BREAK == "follow-redirects"
          else urllib.request.build_opener(NoRedirect))


class Unusable(Exception):
    """A transport failure or an answer that is not an OAuth one: back off and retry."""

    def __init__(self, why, retry_after=None):
        super().__init__(why)
        self.retry_after = retry_after


def retry_after(headers):
    value = headers.get("Retry-After") if headers else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def post(url, form):
    form = dict(form)
    headers = {"Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    if method == "client_secret_basic" or (BREAK == "secret-twice" and secret):
        pair = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        if BREAK != "secret-twice":
            form.pop("client_id", None)
            form["client_id"] = client_id
    if method == "client_secret_post" or BREAK == "secret-twice":
        if secret:
            form["client_secret"] = secret
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        response = opener.open(request, timeout=10)
    except urllib.error.HTTPError as e:
        response = e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise Unusable(f"transport: {e}")
    try:
        raw = response.read(BODY_LIMIT + 1)
    except (OSError, http.client.HTTPException) as e:
        raise Unusable(f"transport: {e}")
    status = response.status if hasattr(response, "status") else response.code
    if len(raw) > BODY_LIMIT:
        sys.exit("error: the answer is too large")
    if 300 <= status < 400:
        sys.exit(f"error: the server answered {status} (redirects are not followed)")
    try:
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except UnicodeDecodeError:
        sys.exit("error: the answer is not UTF-8")
    except ValueError:
        body = None
    if status in (429, 502, 503, 504) or body is None:
        raise Unusable(f"HTTP {status} without an OAuth answer", retry_after(response.headers))
    return status, body


def seconds(value, default):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def main():
    form = {"client_id": client_id, "scope": env.get("SCOPE", "")}
    if provider == "azure-ad-v1":
        form["resource"] = env.get("RESOURCE", "")
    try:
        status, grant = post(env["DEVICE_AUTHORIZATION_ENDPOINT"], form)
    except Unusable as e:
        sys.exit(f"error: device authorization failed: {e}")
    if "error" in grant or "device_code" not in grant:
        sys.exit(f"error: device authorization refused: {grant.get('error')}")
    received = time.monotonic()
    uri = grant.get("verification_uri") or grant.get("verification_url")
    print(f"Open {uri} and enter the code {grant['user_code']}", flush=True)
    if BREAK == "prints-device-code":
        print(f"debug: device_code={grant['device_code']}", file=sys.stderr)
    if "interval" not in grant and BREAK == "no-default-interval":
        interval = 1.0
    else:
        interval = seconds(grant.get("interval"), 5.0)
    deadline = received + seconds(grant.get("expires_in"), 900.0)
    poll = {"grant_type": "device_code" if provider == "azure-ad-v1" else DEVICE_GRANT,
            "client_id": client_id}
    poll["code" if provider == "azure-ad-v1" else "device_code"] = grant["device_code"]
    if provider == "azure-ad-v1":
        poll["resource"] = env.get("RESOURCE", "")
    wait, denied_once = interval, False
    for _ in range(100000):
        if BREAK != "no-deadline" and time.monotonic() + wait >= deadline:
            print("error: the code expired", file=sys.stderr)
            sys.exit(4)
        time.sleep(wait)
        try:
            status, body = post(env["TOKEN_ENDPOINT"], poll)
        except Unusable as e:
            wait = interval if BREAK == "no-backoff" else max(wait * 2, interval)
            if e.retry_after is not None:
                wait = max(wait, e.retry_after)
            continue
        wait = interval
        if BREAK == "status-200-is-success" and status == 200:
            return finish(body)
        error = body.get("error")
        if error is None and body.get("access_token"):
            return finish(body)
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            if BREAK != "ignore-slow-down":
                interval = max(interval + 5, seconds(body.get("interval"), 0))
                wait = interval
            continue
        if error in ("access_denied", "authorization_declined"):
            if BREAK == "poll-after-denied" and not denied_once:
                denied_once = True
                continue
            print("error: denied", file=sys.stderr)
            sys.exit(3)
        if error in ("expired_token", "code_expired"):
            print("error: the code expired", file=sys.stderr)
            sys.exit(4)
        sys.exit(f"error: the token endpoint answered {error}")
    sys.exit("error: too many polls")


def finish(token):
    print(f"access_token={token.get('access_token')}", flush=True)
    if env.get("HARNESS_REFRESH") != "1":
        return
    first = refresh = token.get("refresh_token")
    for _ in range(int(env.get("HARNESS_REFRESH_COUNT", "1"))):
        if not refresh:
            sys.exit("error: no refresh token")
        form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id}
        if provider == "azure-ad-v1":
            form["resource"] = env.get("RESOURCE", "")
        try:
            status, body = post(env["TOKEN_ENDPOINT"], form)
        except Unusable as e:
            sys.exit(f"error: refresh failed: {e}")
        if not body.get("access_token"):
            sys.exit(f"error: refresh refused: {body.get('error')}")
        print(f"refreshed_access_token={body['access_token']}", flush=True)
        if BREAK == "reuses-refresh-token":
            refresh = first
        else:
            refresh = body.get("refresh_token") or refresh


if __name__ == "__main__":
    main()
