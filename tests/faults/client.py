"""A small HTTP client for the fault suite and the fault benchmark (standard library only).

Each thread keeps one keep-alive connection per server; a connection error is an answer
with status None (the caller counts it), never an exception.
"""
import http.client
import json
import threading
import time

API = "/api/v1"
DEMO_PASSWORD = "demo-pass-2026"


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status = status  # None: no answer (refused, reset, timed out)
        self.headers = headers  # lower-case names
        self.body = body
        self.seconds = seconds

    @property
    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def __repr__(self):
        return f"<{self.status} in {self.seconds:.2f} s: {self.body[:200]!r}>"


class Client:
    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None
        self._local.used = False

    def call(self, method, path, token=None, body=None, headers=None):
        hdrs = {"accept": "application/json"}
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["content-type"] = "application/json"
        hdrs.update(headers or {})
        start = time.monotonic()
        for attempt in (1, 2):
            reused = getattr(self._local, "used", False)
            try:
                conn = self._conn()
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read().decode("utf-8", "replace")
                self._local.used = True
                got = {k.lower(): v for k, v in resp.getheaders()}
                if got.get("connection", "").lower() == "close":
                    self._drop()
                return Answer(resp.status, got, raw, time.monotonic() - start)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # A kept-alive connection the server had closed while idle: once more on a
                # new one (if the server is gone, that one is refused).
                self._drop()
                if attempt == 2 or not reused:
                    return Answer(None, {}, f"{type(e).__name__}: {e}", time.monotonic() - start)
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                return Answer(None, {}, f"{type(e).__name__}: {e}", time.monotonic() - start)

    def get(self, path, token=None, **kw):
        return self.call("GET", path, token, **kw)

    def post(self, path, token=None, body=None, **kw):
        return self.call("POST", path, token, body, **kw)

    def login(self, email, password=DEMO_PASSWORD):
        a = self.post(f"{API}/auth/login", body={"email": email, "password": password})
        if a.status != 200:
            raise RuntimeError(f"login of {email} refused: {a}")
        return a.json["access_token"]

    def wait_ready(self, seconds=60):
        """Waits for /readyz to answer 200; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if self.get("/readyz").status == 200:
                return time.monotonic() - start
            time.sleep(0.2)
        raise RuntimeError(f"the API on port {self.port} was not ready within {seconds} s")


def expect(answer, *statuses):
    """The answer, when its status is one of `statuses`; else an error naming it."""
    if answer.status not in statuses:
        raise AssertionError(f"expected {statuses}, got {answer}")
    return answer
