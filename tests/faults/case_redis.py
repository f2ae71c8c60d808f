"""Redis stopped and started under load: every request keeps succeeding, /readyz stays 200
and reports Redis `degraded`, and the service uses Redis again once it is back."""
import time
from urllib.parse import quote

from client import API
from common import Failures
from load import Load

DOWN_SECS = 6
# The suite's loose floor; the fault benchmark (tests/bench/faults.py) measures the 0.8 target.
MIN_RATIO_DOWN = 0.5
# Redis must be used again within this long of its return (the circuit breaker's
# cool-off, set to 2 s for the suite by run.py, plus margin).
BACK_WITHIN_SECS = 15


def requests(tok):
    """The load: cached public catalogue reads and authenticated reads (the token checks)."""
    return [
        lambda c: c.get(f"{API}/catalog?q={quote('小米')}"),
        lambda c: c.get(f"{API}/me", tok["buyer"]),
        lambda c: c.get(f"{API}/catalog?category=grain&limit=10"),
        lambda c: c.get(f"{API}/products?limit=10", tok["supplier"]),
        lambda c: c.get(f"{API}/orders?limit=10", tok["buyer"]),
    ]


def run(stack, api, tok):
    f = Failures()
    redis, client = stack.redis, api.client
    with Load(client, requests(tok), threads=4) as load:
        time.sleep(3)
        load.set_phase("down")
        redis.stop()
        time.sleep(1)
        ready = client.get("/readyz")
        time.sleep(DOWN_SECS - 1)
        load.set_phase("back")
        redis.start()
        returned = time.monotonic()
        before = redis.commands_processed()
        used_again = None
        while time.monotonic() - returned < BACK_WITHIN_SECS:
            # Our own INFO calls count too: the service must have sent more than a few.
            if redis.commands_processed() - before > 20:
                used_again = time.monotonic() - returned
                break
            time.sleep(0.2)
        time.sleep(1)
    ready_after = client.get("/readyz")
    up, down, back = (load.stats(p) for p in ("up", "down", "back"))
    for s in (up, down, back):
        print(f"   {s}")
    print(f"   /readyz with Redis down: {ready.status} in {ready.seconds * 1000:.0f} ms {ready.body}")
    print(f"   /readyz after: {ready_after.status} {ready_after.body}")
    print(f"   throughput with Redis down / up: {down.per_second / up.per_second:.2f}")
    print(f"   Redis used again {'after %.1f s' % used_again if used_again is not None else 'NOT within %d s' % BACK_WITHIN_SECS}"
          f" ({redis.commands_processed() - before} commands)")
    for s in (up, down, back):
        f.check(s.ok == s.count, f"Redis {s.phase}: {s.count - s.ok} of {s.count} requests failed ({dict(s.by_status)})")
    f.check(down.per_second >= MIN_RATIO_DOWN * up.per_second,
            f"throughput with Redis down fell to {down.per_second / up.per_second:.2f} of what it was (at least {MIN_RATIO_DOWN})")
    f.check(ready.status == 200 and (ready.json or {}).get("redis") == "degraded",
            f"/readyz with Redis down must be 200 with redis `degraded`, got {ready}")
    f.check(ready.seconds < 2, f"/readyz with Redis down took {ready.seconds:.1f} s (at most 2 s)")
    f.check(used_again is not None, f"the service did not use Redis again within {BACK_WITHIN_SECS} s of its return")
    f.check(ready_after.status == 200 and (ready_after.json or {}).get("redis") == "ok",
            f"/readyz after Redis returned must be 200 with redis `ok`, got {ready_after}")
    return f
