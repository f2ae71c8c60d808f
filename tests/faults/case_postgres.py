"""PostgreSQL stopped (immediate: every connection cut) and started under load: while it is
down, calls that need it answer 503 problem+json with Retry-After within the pool's acquire
timeout and /readyz answers 503 within 2 s naming the database; when it returns the same
API process serves again, without a restart."""
import time

from client import API
from common import Failures
from load import Load

DOWN_SECS = 6
# run.py sets the pool's acquire timeout to this; a 503 must come within it plus margin.
ACQUIRE_TIMEOUT_SECS = 2
RECOVER_WITHIN_SECS = 20


def requests(tok):
    """Reads that need the database (no cache in front of them)."""
    return [
        lambda c: c.get(f"{API}/me", tok["buyer"]),
        lambda c: c.get(f"{API}/orders?limit=10", tok["buyer"]),
        lambda c: c.get(f"{API}/products?limit=10", tok["supplier"]),
        lambda c: c.get(f"{API}/ledger/verify", tok["evaluator"]),
    ]


def run(stack, api, tok):
    f = Failures()
    pg, client = stack.pg, api.client
    pid = api.proc.pid
    with Load(client, requests(tok), threads=4) as load:
        time.sleep(2)
        load.set_phase("down")
        stopped = time.monotonic()
        pg.stop()
        time.sleep(1)
        ready = client.get("/readyz")
        time.sleep(DOWN_SECS - 1)
        load.set_phase("back")
        pg.start()
        returned = time.monotonic()
        recovered = None
        while time.monotonic() - returned < RECOVER_WITHIN_SECS:
            oks = [t for t, a in list(load.answers["back"]) if a.status == 200 and t >= returned]
            if oks:
                recovered = min(oks) - returned
                break
            time.sleep(0.1)
        time.sleep(2)
        load.set_phase("after")
        time.sleep(2)
    up, down, back, after = (load.stats(p) for p in ("up", "down", "back", "after"))
    for s in (up, down, back, after):
        print(f"   {s}")
    print(f"   /readyz with PostgreSQL down: {ready.status} in {ready.seconds * 1000:.0f} ms {ready.body}")
    print(f"   first success {'%.1f s' % recovered if recovered is not None else 'NOT within %d s' % RECOVER_WITHIN_SECS}"
          " after PostgreSQL returned")

    # A request still running when PostgreSQL stopped may fail like those sent after.
    before = [a for t, a in load.answers["up"] if t + a.seconds < stopped]
    bad_before = [a for a in before if a.status != 200]
    f.check(not bad_before, f"before the fault {len(bad_before)} of {len(before)} requests failed: {bad_before[:2]}")
    refused = [a for a in down.answers if a.status == 503]
    bad = [a for a in down.answers if not (a.status == 200 or (a.status == 503 and "retry-after" in a.headers))]
    f.check(refused, "no request was refused with 503 while PostgreSQL was down")
    f.check(not bad, f"{len(bad)} answers while PostgreSQL was down were neither 200 nor 503 with Retry-After,"
                     f" e.g. {bad[:2]}")
    problem = [a for a in refused if not a.headers.get("content-type", "").startswith("application/problem+json")]
    f.check(not problem, f"{len(problem)} of the 503s were not problem+json")
    slowest = down.latency(1.0)
    f.check(slowest <= ACQUIRE_TIMEOUT_SECS + 1.5,
            f"the slowest answer while PostgreSQL was down took {slowest:.1f} s (acquire timeout {ACQUIRE_TIMEOUT_SECS} s)")
    f.check(ready.status == 503 and ready.seconds <= 2 and (ready.json or {}).get("database") == "down",
            f"/readyz with PostgreSQL down must be 503 within 2 s with database `down`, got {ready}")
    f.check(recovered is not None, f"no request succeeded within {RECOVER_WITHIN_SECS} s of PostgreSQL's return")
    f.check(after.count > 0 and after.ok == after.count,
            f"after recovery {after.count - after.ok} of {after.count} requests still failed ({dict(after.by_status)})")
    f.check(api.proc.poll() is None and api.proc.pid == pid, "the API process did not survive the outage")
    return f
