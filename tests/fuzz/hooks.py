"""Schemathesis hooks for the fuzzing in tests/run (tests/lib/fuzz.sh): the cases of
each operation are sent as the demo roles in turn (admin, certifier, supplier, buyer,
evaluator) and with no token, so that each operation is fuzzed as every caller.

Loaded by schemathesis through SCHEMATHESIS_HOOKS=hooks (with tests/fuzz on PYTHONPATH).
FUZZ_BASE_URL is the service's origin. Only the standard library and schemathesis.
"""
import json
import os
import threading
import time
import urllib.error
import urllib.request
import zlib

import schemathesis

BASE = os.environ["FUZZ_BASE_URL"].rstrip("/")
PASSWORD = os.environ.get("FUZZ_DEMO_PASSWORD", "demo-pass-2026")
# None is the anonymous caller.
LOGINS = [
    "admin@demo.assist",
    "certifier@demo.assist",
    "supplier@demo.assist",
    "buyer@demo.assist",
    "evaluator@demo.assist",
    None,
]
# Re-login well before the access token expires (900 s by default).
TOKEN_MAX_AGE = 600

_lock = threading.Lock()
_turns = {}  # operation label -> how many of its cases have been sent
_tokens = {}  # email -> (token, obtained_at)


_orgs = {}  # email -> organisation id, learnt from GET /me at the first login


def _call(method, path, token=None, body=None):
    """(status, parsed JSON or None) of one request to the service."""
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, None


def _login(email):
    status, body = _call("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
    if status == 403 and email in _orgs and email != LOGINS[0]:
        # A fuzzed request suspended this demo organisation (schemathesis reuses the ids it
        # reads from list responses): the admin reinstates it so the role stays covered.
        admin = token_for(LOGINS[0])
        if admin:
            _call("POST", f"/api/v1/organizations/{_orgs[email]}/reinstate", token=admin)
        status, body = _call("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
    if status != 200:
        print(f"fuzz hooks: login of {email} refused: {status}", flush=True)
        return None
    token = body["access_token"]
    if email not in _orgs:
        status, me = _call("GET", "/api/v1/me", token=token)
        if status == 200:
            _orgs[email] = me["organization"]["id"]
    return token


def token_for(email):
    with _lock:
        held = _tokens.get(email)
        if held and time.monotonic() - held[1] < TOKEN_MAX_AGE:
            return held[0]
    token = _login(email)
    with _lock:
        if token:
            _tokens[email] = (token, time.monotonic())
    return token


def forget(token):
    """A token the service refused (a fuzzed logout revoked it): log in again next time."""
    with _lock:
        for email, (held, _) in list(_tokens.items()):
            if held == token:
                del _tokens[email]


@schemathesis.auth(refresh_interval=None)
class DemoRoles:
    """Each operation's cases go out as the callers in LOGINS in turn (starting at a
    different one for each operation), so that every operation meets every role."""

    def get(self, case, ctx):
        label = case.operation.label
        with _lock:
            n = _turns.get(label, zlib.crc32(label.encode()))
            _turns[label] = n + 1
        email = LOGINS[n % len(LOGINS)]
        return token_for(email) if email else None

    def set(self, case, data, ctx):
        if data:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(ctx, case, response):
    auth = (case.headers or {}).get("Authorization", "")
    if response.status_code == 401 and auth.startswith("Bearer "):
        forget(auth[len("Bearer "):])
