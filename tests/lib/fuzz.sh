# Schema-driven fuzzing, sourced by tests/run (needs ROOT and log).
#
#   fuzz_backend LABEL [VAR=value ...]
#
# Starts `assist-market serve` (the debug binary tests/run built) with the demo data
# and the given ASSIST_* settings, then runs schemathesis against the document it
# serves (/api-docs/openapi.json): every operation, every demo role in turn and no
# token (tests/fuzz/hooks.py), failing on any 5xx, dropped connection, an operation
# that answers without a valid token (ignored_auth), or a status code, content type,
# header or body that the document does not declare. Stops the
# service and returns schemathesis' status. FUZZ_SECS bounds one run (default 120).
FUZZ_CHECKS=not_a_server_error,ignored_auth,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance

fuzz_backend() {
  local label=$1; shift
  local dir port pid status=0 started
  dir=$(mktemp -d /tmp/assist-fuzz.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  log "schema-driven fuzzing against $label (schemathesis, ${FUZZ_SECS:-120} s at most)"
  started=$(date +%s)
  # Login limits are raised: the fuzzer sends many wrong logins from one address, and the
  # hooks must still log in as each demo role.
  (cd "$dir" && exec env -u ASSIST_DATABASE_URL -u ASSIST_REDIS_URL -u ASSIST_SMTP_URL -u ASSIST_CONFIG \
    ASSIST_DATA_DIR="$dir/data" ASSIST_BIND="127.0.0.1:$port" ASSIST_DEMO=true ASSIST_JOBS_ENABLED=false \
    ASSIST_LOGIN_MAX_FAILURES_PER_IP=1000000 ASSIST_LOGIN_MAX_FAILURES_PER_ACCOUNT=1000000 "$@" \
    "$ROOT/${CARGO_TARGET_DIR:-target}/debug/assist-market" serve >"$dir/serve.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  local url="http://127.0.0.1:$port"
  (cd "$dir" && exec env PYTHONPATH="$ROOT/tests/fuzz" PYTHONDONTWRITEBYTECODE=1 SCHEMATHESIS_HOOKS=hooks \
    FUZZ_BASE_URL="$url" python3 -m schemathesis.cli run "$url/api-docs/openapi.json" --url "$url" \
    --checks "$FUZZ_CHECKS" --max-examples 3 --max-time "${FUZZ_SECS:-120}" --request-timeout 30 \
    --generation-database none --no-color >"$dir/st.log" 2>&1) || status=$?
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  # The summary (and, on failure, each failing case with a curl line to reproduce it).
  if [ "$status" -ne 0 ]; then
    cat "$dir/st.log"
    echo "--- the service's log (last 40 lines)"; tail -n 40 "$dir/serve.log"
    fuzz_digest "$dir"
  else
    sed -n '/ SUMMARY /,$p' "$dir/st.log"
  fi
  echo "fuzzing against $label: $(($(date +%s) - started)) s, exit $status"
  rm -rf "$dir"
  return "$status"
}

# fuzz_digest DIR: a few lines that say why a run failed, printed last (CI keeps only the
# tail of the output): each failing operation, its failure and status, the curl that
# reproduces it, then the first panics in the service's log with their messages.
fuzz_digest() {
  echo "--- why it failed: schemathesis' failures, then the service's panics"
  grep -E '^_{3,} |^- |^\[[0-9]{3}\]|^    curl ' "$1/st.log" | cut -c1-200 | head -n 16
  echo "panics in the service's log: $(grep -c 'panicked at' "$1/serve.log")"
  grep -m 3 -A 1 'panicked at' "$1/serve.log" | cut -c1-200
}

# fuzz_both_backends PG_URL REDIS_URL: the two runs at once (each is bounded by time, so
# running them side by side halves the wall time), then their outputs one after the other.
fuzz_both_backends() {
  local out pg_status=0 sqlite_status=0 pg_pid sqlite_pid
  out=$(mktemp -d /tmp/assist-fuzz-out.XXXXXX)
  fuzz_backend "PostgreSQL + Redis" ASSIST_DATABASE_URL="$1" ASSIST_REDIS_URL="$2" ASSIST_REDIS_PREFIX=fuzz: \
    ASSIST_LEDGER_SIGNING_KEY=ZnV6ei1sZWRnZXIta2V5LWZ1enotbGVkZ2VyLWtleS0= >"$out/pg" 2>&1 &
  pg_pid=$!
  fuzz_backend "the embedded default (SQLite)" >"$out/sqlite" 2>&1 &
  sqlite_pid=$!
  wait "$pg_pid" || pg_status=$?
  wait "$sqlite_pid" || sqlite_status=$?
  cat "$out/pg" "$out/sqlite"
  rm -rf "$out"
  [ "$pg_status" -eq 0 ] && [ "$sqlite_status" -eq 0 ]
}
