"""The processes the fault suite and the fault benchmark stop and start: a PostgreSQL,
a Redis, an SMTP sink and API processes of their own, on free loopback ports in one
temporary folder, so that stopping them cannot disturb anything else.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from client import Client

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, seconds):
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {seconds} s")


def find_pg_bin():
    for v in (17, 16, 15):
        p = pathlib.Path(f"/usr/lib/postgresql/{v}/bin")
        if (p / "postgres").exists():
            return p
    raise RuntimeError("no PostgreSQL under /usr/lib/postgresql/{15,16,17}")


class Postgres:
    def __init__(self, folder):
        self.bin = pathlib.Path(os.environ["PG_BIN"]) if os.environ.get("PG_BIN") else find_pg_bin()
        self.data = folder / "pg"
        self.sock = folder
        self.log = folder / "pg.log"
        self.port = free_port()
        # PostgreSQL refuses to run as root: tests/run runs as root in CI.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
        self.start()
        self.psql("CREATE DATABASE faults")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/faults"

    def _run(self, tool, *args):
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self):
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start")

    def stop(self):
        """An immediate stop: no checkpoint, every connection cut (as a crash would)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def psql(self, sql, db="postgres"):
        """Rows of a query, each a list of text fields."""
        out = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
             "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True,
        ).stdout
        return [line.split("\t") for line in out.splitlines() if line]


class Redis:
    def __init__(self, folder):
        self.port = free_port()
        self.log = folder / "redis.log"
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until("Redis answers", lambda: self.cli("PING") == "PONG", 10)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return r.stdout.strip()

    def commands_processed(self):
        for line in self.cli("INFO", "stats").splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":")[1])
        return 0


class SmtpSink:
    def __init__(self, folder):
        self.port = free_port()
        self.dir = folder / "mail"
        self.log = folder / "smtp.log"
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "smtp_sink.py"), "--port", str(self.port), "--dir", str(self.dir)],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
        )
        wait_until("the SMTP sink listens", self._listening, 15)

    def _listening(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc = None

    def message_ids(self):
        """The Message-ID of every email received, in any order, repeats kept."""
        ids = []
        for f in self.dir.glob("*.eml"):
            for line in f.read_text(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
                    break
        return ids


class Api:
    """One `assist-market serve` process; `settings` are ASSIST_* variables without the prefix."""

    def __init__(self, folder, name, binary, settings):
        self.name = name
        self.binary = binary
        self.port = free_port()
        self.dir = folder / name
        self.dir.mkdir()
        self.log = self.dir / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSIST_")}
        env.update({f"ASSIST_{k}": str(v) for k, v in settings.items()})
        env.update(ASSIST_BIND=f"127.0.0.1:{self.port}", ASSIST_DATA_DIR=str(self.dir / "data"))
        env.setdefault("RUST_LOG", "warn")
        self.env = env
        self.client = Client(self.port)
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve"], cwd=self.dir, env=self.env,
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
        )
        try:
            return self.client.wait_ready(90)
        except RuntimeError:
            print(self.log.read_text()[-3000:], file=sys.stderr)
            raise

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Stack:
    """PostgreSQL, Redis, an SMTP sink and API processes on them, all in one temporary folder."""

    def __init__(self, binary, smtp=True):
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="assist-faults."))
        os.chmod(self.folder, 0o755)
        self.binary = str(binary)
        self.apis = []
        self.pg = Postgres(self.folder)
        self.redis = Redis(self.folder)
        self.smtp = SmtpSink(self.folder) if smtp else None

    def settings(self, **extra):
        s = {
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "REDIS_PREFIX": "faults:",
            "DEMO": "true",
            # Every process signs and checks tokens with the same key.
            "JWT_SECRET": "fault-suite-secret-0123456789abcdef0123456789",
            # ... and signs the ledger's checkpoints with one key (required on PostgreSQL).
            "LEDGER_SIGNING_KEY": "ZmF1bHQtc3VpdGUtbGVkZ2VyLWtleS1mYXVsdC1zdWk=",
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
            "DB_MAX_CONNECTIONS": "20",
        }
        if self.smtp:
            s["SMTP_URL"] = self.smtp.url
        s.update(extra)
        return s

    def api(self, name, **settings):
        a = Api(self.folder, name, self.binary, self.settings(**settings))
        self.apis.append(a)
        return a

    def close(self, keep=False):
        for a in self.apis:
            a.stop()
        if self.smtp and self.smtp.proc:
            self.smtp.stop()
        if self.redis.proc:
            self.redis.stop()
        try:
            self.pg.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        if keep:
            print(f"logs kept in {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
