"""The fault suite: the service under Redis, PostgreSQL and mail-server outages and a
`kill -9`, on its own PostgreSQL, Redis and SMTP sink (temporary folder, free loopback
ports), against two `assist-market serve` processes with the demo data.

    python3 tests/faults/run.py [path/to/assist-market] [--keep] [--only redis,postgres,smtp,kill,sequencer]

Run by tests/run once (not per backend). Each case prints what it measured; the exit
status is 1 when any case found something wrong. Standard library only, plus aiosmtpd
for the sink (tests/run installs it).
"""
import argparse
import pathlib
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import case_kill  # noqa: E402
import case_postgres  # noqa: E402
import case_redis  # noqa: E402
import case_sequencer  # noqa: E402
import case_smtp  # noqa: E402
from common import millet, tokens  # noqa: E402
from stack import ROOT, Stack  # noqa: E402

CASES = ["redis", "postgres", "smtp", "kill", "sequencer"]

# Settings for the API processes: fast outbox polling and retries, and short fault
# timeouts, so that the suite stays within its time budget.
SETTINGS = {
    "OUTBOX_POLL_MS": "100",
    "OUTBOX_BACKOFF_BASE_MS": "200",
    "OUTBOX_BACKOFF_MAX_MS": "2000",
    # The mail server is down for a few seconds only: no email may give up meanwhile.
    "OUTBOX_MAX_ATTEMPTS": "100",
    "DB_ACQUIRE_TIMEOUT_MS": str(case_postgres.ACQUIRE_TIMEOUT_SECS * 1000),
    "REDIS_COOLOFF_MS": "2000",
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", nargs="?", default=str(ROOT / "target" / "debug" / "assist-market"))
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) at the end")
    p.add_argument("--only", default=",".join(CASES), help="comma-separated cases to run")
    args = p.parse_args()
    chosen = [c for c in args.only.split(",") if c]
    unknown = set(chosen) - set(CASES)
    if unknown:
        p.error(f"unknown cases {sorted(unknown)}; known: {CASES}")

    began = time.monotonic()
    stack = Stack(args.binary)
    failed = {}
    try:
        # A runs the jobs (the outbox worker among them); B serves only.
        a = stack.api("A", **SETTINGS)
        b = stack.api("B", **SETTINGS, JOBS_ENABLED="false")
        tok = tokens(a.client)
        product = millet(a.client, tok)
        print(f"fault suite: PostgreSQL :{stack.pg.port}, Redis :{stack.redis.port}, SMTP sink :{stack.smtp.port},"
              f" API A :{a.port}, B :{b.port}; ready in {time.monotonic() - began:.1f} s", flush=True)
        runs = {
            "redis": lambda: case_redis.run(stack, a, tok),
            "postgres": lambda: case_postgres.run(stack, a, tok),
            "smtp": lambda: case_smtp.run(stack, b, tok, product),
            "kill": lambda: case_kill.run(stack, a, b, tok, product),
            "sequencer": lambda: case_sequencer.run(stack, a, b, tok, product),
        }
        titles = {
            "redis": "Redis stopped and started under load",
            "postgres": "PostgreSQL stopped and started under load",
            "smtp": "mail server down, then up",
            "kill": "kill -9 of an API process during concurrent acceptances",
            "sequencer": "kill -9 of the process sequencing a backlog of ledger entries",
        }
        for name in chosen:
            start = time.monotonic()
            print(f"\n-- {name}: {titles[name]}", flush=True)
            try:
                problems = runs[name]()
            except Exception:  # a case that breaks is a failed case; the others still run
                traceback.print_exc()
                problems = ["the case raised an exception (above)"]
            print(f"   {name}: {'FAILED' if problems else 'ok'} in {time.monotonic() - start:.1f} s", flush=True)
            if problems:
                failed[name] = problems
    finally:
        stack.close(keep=args.keep or bool(failed))
    print(f"\nfault suite: {len(chosen) - len(failed)} passed, {len(failed)} failed"
          f" in {time.monotonic() - began:.1f} s")
    for name, problems in failed.items():
        for msg in problems:
            print(f"  {name}: {msg}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
