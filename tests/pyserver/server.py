"""Test authorization server for device-grant end-to-end tests, built on Authlib.

Authlib (pinned in requirements.txt) is an independent implementation of RFC 8628: its
DeviceAuthorizationEndpoint answers the device authorization request and its DeviceCodeGrant
and RefreshTokenGrant answer the token endpoint, with its own client authentication
(none, client_secret_basic, client_secret_post) and its own error answers. This file only
supplies what Authlib leaves to an application: storage (in memory), the clients, the
verification page where the user approves or denies, and the HTTP plumbing (the standard
library's http.server; no web framework).

Listens on 127.0.0.1 only. When it listens it prints exactly one JSON line to stdout:
  {"issuer":"http://127.0.0.1:PORT","device_authorization_endpoint":"...","token_endpoint":"...",...}
and then runs until killed or until stdin reaches EOF.

Env: PORT (default 0 = ephemeral), DEVICE_CODE_TTL (seconds, default 600),
     EXPIRES_IN (the expires_in answered, default DEVICE_CODE_TTL: a larger one makes the
     server's own expired_token answer reach the client before its local deadline),
     POLL_INTERVAL (seconds, default 1), SLOW_DOWN_POLLS (default 0: how many polls of each
     device code are answered slow_down regardless of timing), IGNORE_STDIN=1 (do not exit
     on stdin EOF). See README.md.
"""

import hmac
import html
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import rfc6749
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)


def int_env(name, fallback, minimum):
    raw = os.environ.get(name, "")
    if raw == "":
        return fallback
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        sys.exit(f"server.py: {name} must be an integer >= {minimum}, got {raw!r}")
    return value


HOST = "127.0.0.1"
PORT = int_env("PORT", 0, 0)
DEVICE_CODE_TTL = int_env("DEVICE_CODE_TTL", 600, 1)
ADVERTISED_EXPIRES_IN = int_env("EXPIRES_IN", DEVICE_CODE_TTL, 1)
POLL_INTERVAL = int_env("POLL_INTERVAL", 1, 0)
SLOW_DOWN_POLLS = int_env("SLOW_DOWN_POLLS", 0, 0)
SCOPES = ["profile", "email"]
USER = "alice"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# A body larger than any form of this protocol is refused before it is read.
MAX_BODY = 64 * 1024


class Client(rfc6749.ClientMixin):
    def __init__(self, client_id, auth_method, secret=None):
        self.client_id = client_id
        self.auth_method = auth_method
        self.secret = secret

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        # An empty request gets every scope; unknown ones never reach here (the server's
        # scopes_supported rejects them with invalid_scope).
        if not scope:
            return " ".join(SCOPES)
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return self.secret is not None and hmac.compare_digest(
            self.secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.auth_method

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type in (DEVICE_GRANT, "refresh_token")


CLIENTS = {
    c.client_id: c
    for c in [
        Client("device-public", "none"),
        Client("device-basic", "client_secret_basic", "basic-secret"),
        Client("device-post", "client_secret_post", "post-secret"),
    ]
}


class Store:
    """Everything the server remembers, behind one lock (requests run on threads)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.devices = {}  # device_code -> DeviceCredentialDict
        self.user_codes = {}  # user_code -> device_code
        self.decisions = {}  # user_code -> (user, approved)
        self.refresh_tokens = {}  # refresh_token -> RefreshTokenRecord


STORE = Store()


class RefreshTokenRecord(rfc6749.TokenMixin):
    def __init__(self, client_id, user, scope):
        self.client_id = client_id
        self.user = user
        self.scope = scope
        self.revoked = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return 24 * 3600

    def is_expired(self):
        return False

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return CLIENTS[self.client_id]


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    EXPIRES_IN = ADVERTISED_EXPIRES_IN
    INTERVAL = POLL_INTERVAL

    def get_verification_uri(self):
        return f"{ISSUER}/device"

    def save_device_credential(self, client_id, scope, data):
        credential = DeviceCredentialDict(
            client_id=client_id,
            scope=scope,
            expires_at=time.time() + DEVICE_CODE_TTL,
            **data,
        )
        # What the slow_down rule needs: when this code was last polled (the first poll is
        # measured from now) and the interval the client was told, grown by 5 s per slow_down.
        credential["last_poll"] = time.monotonic()
        credential["poll_interval"] = self.INTERVAL
        credential["scripted_slow_downs"] = SLOW_DOWN_POLLS
        STORE.devices[data["device_code"]] = credential
        STORE.user_codes[data["user_code"]] = data["device_code"]


class DeviceGrant(DeviceCodeGrant):
    def query_device_credential(self, device_code):
        return STORE.devices.get(device_code)

    def query_user_grant(self, user_code):
        return STORE.decisions.get(user_code)

    def should_slow_down(self, credential):
        # RFC 8628 section 3.5: a client polling sooner than its interval is told to slow
        # down, and its interval grows by 5 s. SLOW_DOWN_POLLS makes the first polls "too
        # soon" whatever their timing, since a conforming client never polls early.
        now = time.monotonic()
        too_soon = now - credential["last_poll"] < credential["poll_interval"]
        credential["last_poll"] = now
        if credential["scripted_slow_downs"] > 0:
            credential["scripted_slow_downs"] -= 1
            too_soon = True
        if too_soon:
            credential["poll_interval"] += 5
        return too_soon


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    # Rotation: every refresh answers a new refresh token and revokes the old one.
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        record = STORE.refresh_tokens.get(refresh_token)
        if record is not None and not record.is_revoked():
            return record
        return None

    def authenticate_user(self, refresh_token):
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True


class FormRequest(rfc6749.OAuth2Request):
    """A request as Authlib sees it: method, URL, headers and the decoded form."""

    def __init__(self, method, uri, headers, form):
        super().__init__(method, uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self):
        return self._form

    @property
    def args(self):
        return {}


class Server(rfc6749.AuthorizationServer):
    def query_client(self, client_id):
        return CLIENTS.get(client_id)

    def save_token(self, token, request):
        if "refresh_token" in token:
            user = request.user or USER
            STORE.refresh_tokens[token["refresh_token"]] = RefreshTokenRecord(
                request.client.get_client_id(), user, token.get("scope", "")
            )
        if request.credential is not None:
            # A device code buys one token: once redeemed it is forgotten.
            STORE.devices.pop(request.credential["device_code"], None)

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass


def make_server():
    server = Server(scopes_supported=SCOPES)
    token = secrets.token_urlsafe
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=lambda **_: token(32),
            refresh_token_generator=lambda **_: token(32),
        ),
    )
    server.register_endpoint(DeviceEndpoint)
    server.register_grant(DeviceGrant)
    server.register_grant(RefreshGrant)
    return server


AUTH = make_server()
ISSUER = ""  # set once the socket is bound

VERIFICATION_PAGE = """<!doctype html>
<title>Device sign-in</title>
<form method="post" action="/device">
<label>Code <input name="user_code" value="{user_code}"></label>
<button name="action" value="approve">Approve</button>
<button name="action" value="deny">Deny</button>
</form>
"""


def decide(user_code, action):
    """The verification page's answer to the user: approve or deny a user code."""
    user_code = user_code.strip().upper()
    device_code = STORE.user_codes.get(user_code)
    credential = STORE.devices.get(device_code) if device_code else None
    if credential is None or credential.is_expired():
        return 400, "unknown or expired code\n"
    if user_code in STORE.decisions:
        return 409, "this code was already used\n"
    if action not in ("approve", "deny"):
        return 400, "action must be approve or deny\n"
    STORE.decisions[user_code] = (USER, action == "approve")
    return 200, f"{action}d\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("server.py: " + (fmt % args) + "\n")

    def send(self, status, body, headers):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_form(self):
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return None
        body = self.rfile.read(length).decode("utf-8", "replace")
        pairs = parse_qsl(body, keep_blank_values=True)
        form = {}
        for name, value in pairs:
            if name in form:
                return None  # RFC 6749 section 3.1: no parameter more than once
            form[name] = value
        return form

    def do_GET(self):
        path = urlsplit(self.path)
        if path.path == "/device":
            query = dict(parse_qsl(path.query))
            user_code = html.escape(query.get("user_code", ""))
            page = VERIFICATION_PAGE.format(user_code=user_code)
            self.send(200, page, [("Content-Type", "text/html; charset=utf-8")])
        else:
            self.send(404, "not found\n", [("Content-Type", "text/plain")])

    def do_POST(self):
        path = urlsplit(self.path).path
        form = self.read_form()
        if form is None:
            body = {"error": "invalid_request", "error_description": "bad form body"}
            self.send(400, json.dumps(body), [("Content-Type", "application/json")])
            return
        with STORE.lock:
            if path == "/device":
                status, text = decide(form.get("user_code", ""), form.get("action", ""))
                self.send(status, text, [("Content-Type", "text/plain")])
                return
            request = FormRequest("POST", ISSUER + self.path, self.headers, form)
            if path == "/device/auth":
                status, body, headers = AUTH.create_endpoint_response(
                    DeviceEndpoint.ENDPOINT_NAME, request
                )
            elif path == "/token":
                status, body, headers = AUTH.create_token_response(request)
            else:
                self.send(404, "not found\n", [("Content-Type", "text/plain")])
                return
        self.send(status, json.dumps(body), headers)


def main():
    global ISSUER
    try:
        httpd = ThreadingHTTPServer((HOST, PORT), Handler)
    except OSError as err:
        sys.exit(f"server.py: cannot listen on {HOST}:{PORT}: {err}")
    httpd.daemon_threads = True
    ISSUER = f"http://{HOST}:{httpd.server_address[1]}"
    info = {
        "issuer": ISSUER,
        "device_authorization_endpoint": f"{ISSUER}/device/auth",
        "token_endpoint": f"{ISSUER}/token",
        "verification_uri": f"{ISSUER}/device",
        "device_code_ttl": DEVICE_CODE_TTL,
        "expires_in": ADVERTISED_EXPIRES_IN,
        "interval": POLL_INTERVAL,
        "slow_down_polls": SLOW_DOWN_POLLS,
    }
    print(json.dumps(info), flush=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if os.environ.get("IGNORE_STDIN") == "1":
        threading.Event().wait()
    # The parent (a test) holds our stdin open; when it dies, stdin closes.
    while sys.stdin.buffer.read(4096):
        pass
    sys.stderr.write("server.py: stdin closed, shutting down\n")
    httpd.shutdown()


if __name__ == "__main__":
    main()
