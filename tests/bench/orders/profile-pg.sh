#!/usr/bin/env bash
# Profiles PostgreSQL's side of the order path: run it beside `cargo bench --bench orders`
# (PostgreSQL). It waits until the service's connections to the bench database send a
# statement naming PATTERN (default `idempotency_keys`: the placement step; `ledger_entries`
# for acceptance), records their backends with `perf` for SECS seconds (5), and prints where
# their CPU went, by the PostgreSQL functions on the stack (a sample may count in several
# rows; pgbench's replay connections are left out).
#
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432 tests/bench/orders/profile-pg.sh [PATTERN] [SECS]
set -euo pipefail
pat=${1:-idempotency_keys}
secs=${2:-5}
url="${TEST_DATABASE_URL:?the PostgreSQL server the bench uses}/postgres"
out=$(mktemp -d /tmp/profile-pg.XXXXXX)
service="datname LIKE 'bench_orders_%' AND backend_type = 'client backend' AND application_name NOT LIKE 'pgbench%'"
for _ in $(seq 1 2000); do
  hit=$(psql "$url" -Atc "SELECT count(*) FROM pg_stat_activity WHERE $service AND query LIKE '%$pat%'")
  [ "${hit:-0}" -gt 0 ] && break
  sleep 0.3
done
sleep 1
pids=$(psql "$url" -Atc "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE $service")
echo "profiling backends $pids for $secs s"
perf record -F 999 -g -o "$out/perf.data" -p "$pids" -- sleep "$secs" >/dev/null 2>&1
perf script -i "$out/perf.data" 2>/dev/null >"$out/stacks"
python3 - "$out/stacks" <<'PY'
import sys
stacks, cur = [], None
for line in open(sys.argv[1]):
    if not line.startswith((" ", "\t")):
        if cur:
            stacks.append(cur)
        cur = [] if line.strip() else None
    elif cur is not None:
        parts = line.split()
        cur.append((parts[1] if len(parts) > 1 else "", parts[-1]))
if cur:
    stacks.append(cur)
rows = [
    ("foreign-key checks (RI triggers, their SPI queries)", ["AfterTriggerEndQuery", "SPI_execute_snapshot", "RI_FKey", "ri_"]),
    ("reading the socket, waiting for the next statement", ["secure_read", "pq_getbyte"]),
    ("writing the socket", ["secure_write", "internal_flush", "__send"]),
    ("index inserts", ["ExecInsertIndexTuples", "btinsert"]),
    ("executor start (plan nodes set up per execution)", ["standard_ExecutorStart"]),
    ("plan cache (revalidation, locks; planning itself below)", ["GetCachedPlan"]),
    ("planning", ["pg_plan_queries"]),
    ("parsing", ["raw_parser"]),
    ("heap inserts", ["heap_insert"]),
    ("TOAST compression of long values", ["toast_compress_datum"]),
    ("WAL records", ["XLogInsert"]),
    ("commit", ["CommitTransaction"]),
    ("heavyweight locks", ["LockAcquireExtended"]),
]
n = max(len(stacks), 1)
print(f"{len(stacks)} samples of the service's backends")
for name, keys in rows:
    c = sum(1 for s in stacks if any(f.startswith(k) for f, _ in s for k in keys))
    print(f"{100 * c / n:5.1f} %  {name}")
kernel = sum(1 for s in stacks if s and "kernel" in s[0][1])
print(f"{100 * kernel / n:5.1f} %  of the samples are in the kernel (system calls, task switches)")
PY
rm -rf "$out"
