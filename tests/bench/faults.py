"""Fault benchmark: throughput with Redis up, with Redis down and with Redis returning,
as ratios of the first, in one run (issue 12: at least 0.8 with Redis down).

    cargo build --release -p assist-market
    python3 tests/bench/faults.py [path/to/assist-market]

Starts its own PostgreSQL and Redis (temporary folder, free loopback ports) and one
`assist-market serve` with the demo data (the release binary when built, else the debug
one), then sends the same mix of reads from concurrent clients through three phases of
BENCH_SECS seconds each (default 10), after a warm-up: Redis up, Redis stopped, Redis
started again; BENCH_ROUNDS times (default 3), printing the median of each ratio (on a
shared machine the load of other work shifts between phases). The mix: public catalogue searches (cached), the caller's own account
(token checks) and product and order lists (the database). Knobs: BENCH_SECS,
BENCH_CONCURRENCY (client threads, default 8), BENCH_COOLOFF_SECS (the circuit breaker's
cool-off given to the service, default 5). Exits 1 when the median ratio with Redis
down is under 0.8 or any request failed. Not run by CI (benchmarks never are).
"""
import os
import pathlib
import statistics
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
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    cooloff = os.environ.get("BENCH_COOLOFF_SECS", "5")
    release = ROOT / "target" / "release" / "assist-market"
    binary = sys.argv[1] if len(sys.argv) > 1 else str(release if release.exists() else release.parent.parent / "debug" / "assist-market")
    print(f"fault benchmark: {binary}, {threads} clients, {rounds} rounds of {secs:g} s a phase,"
          f" breaker cool-off {cooloff} s")
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
            for r in range(1, rounds + 1):
                load.set_phase(f"up {r}")
                time.sleep(secs)
                load.set_phase(f"down {r}")
                stack.redis.stop()
                time.sleep(secs)
                load.set_phase(f"back {r}")
                stack.redis.start()
                time.sleep(secs)
        stats = {p: load.stats(p) for p in load.started if p != "warm-up"}
    finally:
        stack.close()
    print()
    down_ratios, back_ratios = [], []
    for r in range(1, rounds + 1):
        up, down, back = stats[f"up {r}"], stats[f"down {r}"], stats[f"back {r}"]
        for s in (up, down, back):
            ratio = s.per_second / up.per_second if up.per_second else 0.0
            print(f"  round {r}, Redis {s.phase.split()[0]:>4}: {s.per_second:8.1f} requests/s  ratio {ratio:4.2f}"
                  f"  p50 {s.latency(0.5) * 1000:6.1f} ms  p99 {s.latency(0.99) * 1000:6.1f} ms"
                  f"  failed {s.count - s.ok} of {s.count}")
        down_ratios.append(down.per_second / up.per_second if up.per_second else 0.0)
        back_ratios.append(back.per_second / up.per_second if up.per_second else 0.0)
    failed = sum(s.count - s.ok for s in stats.values())
    down_ratio, back_ratio = statistics.median(down_ratios), statistics.median(back_ratios)
    print(f"\n  median over {rounds} rounds: Redis down {down_ratio:.2f}, Redis returning {back_ratio:.2f} of Redis up")
    verdict = "met" if down_ratio >= TARGET and failed == 0 else "NOT met"
    print(f"\n  target: throughput with Redis down >= {TARGET} of Redis up, no request failed: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
