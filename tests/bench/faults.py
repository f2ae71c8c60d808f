"""Fault benchmark: throughput with Redis up, with Redis down and with Redis returning,
as ratios of the first, in one run (issue 12: at least 0.8 with Redis down).

    cargo build --release -p assist-market
    python3 tests/bench/faults.py [path/to/assist-market]

Starts its own PostgreSQL and Redis (temporary folder, free loopback ports) and one
`assist-market serve` with the demo data (the release binary when built, else the debug
one), then sends the same mix of reads from concurrent clients through three phases of
BENCH_SECS seconds each (default 10), after a warm-up: Redis up, Redis stopped, Redis
started again. The mix: public catalogue searches (cached), the caller's own account
(token checks) and product and order lists (the database). Knobs: BENCH_SECS,
BENCH_CONCURRENCY (client threads, default 8), BENCH_COOLOFF_SECS (the circuit breaker's
cool-off given to the service, default 5). Exits 1 when the ratio with Redis down is
under 0.8 or any request failed. Not run by CI (benchmarks never are).
"""
import os
import pathlib
import sys
import time
from urllib.parse import quote

sys.dont_write_bytecode = True
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "faults"))

from client import API  # noqa: E402
from common import tokens  # noqa: E402
from load import Load  # noqa: E402
from stack import ROOT, Stack  # noqa: E402

TARGET = 0.8


def main():
    secs = float(os.environ.get("BENCH_SECS", "10"))
    threads = int(os.environ.get("BENCH_CONCURRENCY", "8"))
    cooloff = os.environ.get("BENCH_COOLOFF_SECS", "5")
    release = ROOT / "target" / "release" / "assist-market"
    binary = sys.argv[1] if len(sys.argv) > 1 else str(release if release.exists() else release.parent.parent / "debug" / "assist-market")
    print(f"fault benchmark: {binary}, {threads} clients, {secs:g} s a phase, breaker cool-off {cooloff} s")
    stack = Stack(binary, smtp=False)
    try:
        api = stack.api("bench", JOBS_ENABLED="false", REDIS_COOLOFF_MS=str(int(float(cooloff) * 1000)), DB_MAX_CONNECTIONS="16")
        tok = tokens(api.client)
        mix = [
            lambda c: c.get(f"{API}/catalog?q={quote('小米')}"),
            lambda c: c.get(f"{API}/me", tok["buyer"]),
            lambda c: c.get(f"{API}/catalog?category=grain&limit=20"),
            lambda c: c.get(f"{API}/products?limit=20", tok["supplier"]),
            lambda c: c.get(f"{API}/orders?limit=20", tok["buyer"]),
            lambda c: c.get(f"{API}/catalog?category=edible_fungi&limit=20"),
        ]
        with Load(api.client, mix, threads=threads, phase="warm-up") as load:
            time.sleep(min(3.0, secs))
            load.set_phase("up")
            time.sleep(secs)
            load.set_phase("down")
            stack.redis.stop()
            time.sleep(secs)
            load.set_phase("back")
            stack.redis.start()
            time.sleep(secs)
        phases = [load.stats(p) for p in ("up", "down", "back")]
    finally:
        stack.close()
    up = phases[0]
    print()
    for s in phases:
        ratio = s.per_second / up.per_second if up.per_second else 0.0
        print(f"  Redis {s.phase:>4}: {s.per_second:8.1f} requests/s  ratio {ratio:4.2f}"
              f"  p50 {s.latency(0.5) * 1000:6.1f} ms  p99 {s.latency(0.99) * 1000:6.1f} ms"
              f"  failed {s.count - s.ok} of {s.count}")
    down_ratio = phases[1].per_second / up.per_second if up.per_second else 0.0
    failed = sum(s.count - s.ok for s in phases)
    verdict = "met" if down_ratio >= TARGET and failed == 0 else "NOT met"
    print(f"\n  target: throughput with Redis down >= {TARGET} of Redis up, no request failed: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
