#!/usr/bin/env bash
# Runs schemathesis against a real bantin server: `bantin serve` on a temporary data folder
# (SQLite), or on the PostgreSQL database given as the first argument; an account and an API
# token are created with the CLI, and every operation of /api/openapi.json is exercised with
# and without the token. Fails on any 5xx or any answer that contradicts the document.
#
#   api/schemathesis.sh                          # SQLite
#   api/schemathesis.sh postgres://…/bantin_api  # an empty PostgreSQL database
#
# BANTIN_SCHEMATHESIS_EXAMPLES (default 30) bounds the examples per operation;
# SCHEMATHESIS (default: a venv under target/) is the schemathesis command.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
EXAMPLES=${BANTIN_SCHEMATHESIS_EXAMPLES:-30}
DB_URL=${1:-}
PORT=${BANTIN_SCHEMATHESIS_PORT:-18290}

if [ -z "${SCHEMATHESIS:-}" ]; then
  VENV=target/schemathesis-$VERSION
  if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$VERSION"
  fi
  SCHEMATHESIS=$VENV/bin/schemathesis
fi

cargo build -q -p bantin
BIN=target/debug/bantin
DATA=$(mktemp -d /tmp/bantin-schemathesis.XXXXXX)
DB_ARGS=()
[ -n "$DB_URL" ] && DB_ARGS=(--database-url "$DB_URL")
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

export BANTIN_ADMIN_PASSWORD=schemathesis-quan-tri-1
# Generous limits: the run is a flood from one address by design.
export BANTIN_API_REQUESTS_PER_MINUTE=1000000 BANTIN_POSTS_PER_MINUTE=1000000
"$BIN" serve --data "$DATA" "${DB_ARGS[@]}" --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$DATA/server.log"; exit 1; }

# An editor-in-chief (writes, publishes; not an administrator) and the administrator.
BANTIN_USER_PASSWORD=schemathesis-bien-tap-1 "$BIN" user add st-chief --role editor-in-chief \
  --data "$DATA" "${DB_ARGS[@]}" >/dev/null
TOKEN=$("$BIN" token create admin --name schemathesis --data "$DATA" "${DB_ARGS[@]}")

run() {
  echo "== schemathesis ($1), $EXAMPLES examples per operation"
  shift
  "$SCHEMATHESIS" run "http://127.0.0.1:$PORT/api/openapi.json" \
    --url "http://127.0.0.1:$PORT" \
    --max-examples "$EXAMPLES" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --seed 1 \
    --no-color \
    "$@"
}
status=0
run "without a token" || status=1
run "with a token" --header "Authorization: Bearer $TOKEN" || status=1
if grep -q "ERROR" "$DATA/server.log"; then
  echo "== server errors logged:"
  grep "ERROR" "$DATA/server.log" | head -20
  status=1
fi
exit $status
