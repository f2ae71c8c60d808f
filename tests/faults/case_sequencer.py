"""`kill -9` of the process sequencing the ledger, mid-way through a backlog: nothing is lost
and nothing repeated. With A (the jobs' process) stopped, B (no jobs) accepts ORDERS supplier
orders, so that their entries are committed and unsequenced. A starts again sequencing in
batches of one entry (ASSIST_LEDGER_SEQUENCE_BATCH=1; it sequences the backlog as it starts)
and is killed as soon as a checkpoint covers the first of them; started again normally, it
sequences the rest. The tree must then be dense (positions 1..N, every entry exactly once,
each accepted order's entry once), the latest checkpoint cover N, and the ledger verify."""
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from case_kill import accept
from client import API
from common import Failures, delivered_orders, verify_ledger

ORDERS = 120


def tree_size(client):
    a = client.get(f"{API}/ledger/checkpoint")
    return int(a.body.split("\n")[1]) if a.status == 200 else None


def run(stack, a, b, tok, product):
    f = Failures()
    orders = delivered_orders(b.client, tok, product, ORDERS, "10")
    a.stop()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda o: accept(b.client, tok, *o).status, orders))
    f.check(statuses.count(200) == ORDERS, f"acceptances answered {sorted(set(statuses))}")
    sql = lambda q: stack.pg.psql(q, db="faults")  # noqa: E731
    backlog = int(sql("SELECT COUNT(*) FROM ledger_entries e WHERE NOT EXISTS "
                      "(SELECT 1 FROM ledger_positions p WHERE p.entry_id = e.id)")[0][0])
    base = tree_size(b.client)
    print(f"   {ORDERS} orders accepted with no sequencer running: {backlog} unsequenced entries after {base}")

    # A again, in batches of one; killed once a checkpoint covers the first of the backlog.
    env = dict(a.env, ASSIST_LEDGER_SEQUENCE_BATCH="1")
    a.proc = subprocess.Popen([a.binary, "serve"], cwd=a.dir, env=env, stdout=open(a.log, "a"),
                              stderr=subprocess.STDOUT)
    began = time.monotonic()
    while (tree_size(b.client) or 0) <= base and time.monotonic() - began < 90 and a.proc.poll() is None:
        time.sleep(0.005)
    a.kill9()
    at_kill = tree_size(b.client)
    print(f"   killed {time.monotonic() - began:.2f} s after starting, at tree size {at_kill}"
          f" ({at_kill - base} of the backlog sequenced)")
    f.check(base < at_kill < base + backlog, f"the kill did not come mid-way: {base} < {at_kill} < {base + backlog}")

    restart = a.start()
    print(f"   A restarted in {restart:.1f} s")
    n, distinct, low, high = (int(x) for x in sql(
        "SELECT COUNT(*), COUNT(DISTINCT entry_id), MIN(seq), MAX(seq) FROM ledger_positions")[0])
    entries = int(sql("SELECT COUNT(*) FROM ledger_entries")[0][0])
    unpositioned = int(sql("SELECT COUNT(*) FROM ledger_entries e WHERE NOT EXISTS "
                           "(SELECT 1 FROM ledger_positions p WHERE p.entry_id = e.id)")[0][0])
    latest = int(sql("SELECT MAX(tree_size) FROM ledger_checkpoints")[0][0])
    ids = ",".join(f"'{so}'" for so, _ in orders)
    per_order = sql(f"SELECT e.supplier_order_id, COUNT(*) FROM ledger_entries e JOIN ledger_positions p "
                    f"ON p.entry_id = e.id WHERE e.supplier_order_id IN ({ids}) GROUP BY 1")
    print(f"   positions {n} ({distinct} entries, {low}..{high}), entries {entries}, latest checkpoint {latest}")
    f.check(n == distinct == high == entries == latest and low == 1 and unpositioned == 0,
            "the tree is not dense, or an entry has no position or two")
    f.check(len(per_order) == ORDERS and all(c == "1" for _, c in per_order),
            f"{len(per_order)} of {ORDERS} orders have one positioned entry each")
    v = verify_ledger(a.client, tok)
    print(f"   ledger verify: {v}")
    f.check(v["ok"] and v["tree_size"] == n, f"the ledger does not verify: {v}")
    return f
