#!/usr/bin/env bash
# Soak: mixed traffic at 256 connections on loopback for MINUTES minutes (default 10), one wrk
# run per minute; prints errors and bantin's RSS after every minute. Errors must be zero and
# RSS must level off.
#
#   bench/soak.sh [--minutes N] [--articles N]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=10 ARTICLES=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --articles) ARTICLES=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
BIN=target/release/bantin
# All load comes from one address: lift the per-address connection cap (default 64).
export BANTIN_MAX_CONNECTIONS_PER_ADDRESS=100000
WORK=$(mktemp -d /tmp/bantin-soak.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
up() { for _ in $(seq 1 200); do curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

BANTIN_LOG=warn $BIN serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >/dev/null & PID=$!; up; kill $PID; wait $PID 2>/dev/null || true
$BIN demo --data "$WORK/data" --articles "$ARTICLES" >/dev/null
BANTIN_LOG=warn $BIN serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >/dev/null & PID=$!; up

# Paths: home, every category's first pages, and the articles they link to; plus query
# strings that change on every request, so the cache is also hit with busting traffic.
mapfile -t PATHS < <(
  { echo /; for c in xay-dung-dang hoc-tap-va-lam-theo-bac kinh-te-xa-hoi van-hoa-the-thao quoc-phong-an-ninh thong-bao; do
      echo "/$c/"; echo "/$c/?page=2"; curl -fsS "$URL/$c/" | grep -o 'href="/[a-z0-9-]*/[a-z0-9-]*-[0-9]*\.html"' | cut -d'"' -f2; done; } | sort -u)
{
  echo 'local paths = {'; for p in "${PATHS[@]}"; do echo "  \"$p\","; done; echo '}'
  echo 'local i = 0'
  echo 'request = function() i = i + 1; local p = paths[(i % #paths) + 1]; if i % 10 == 0 then p = p .. (p:find("?", 1, true) and "&" or "?") .. "utm=" .. i end; return wrk.format("GET", p) end'
} > "$WORK/mix.lua"

echo "soak: ${#PATHS[@]} paths, 256 connections, $MINUTES minute(s), $ARTICLES synthetic articles"
printf '%-7s %12s %8s %10s %10s\n' minute "requests/s" errors "RSS MiB" "peak MiB"
TOTAL_ERRORS=0
for m in $(seq 1 "$MINUTES"); do
  out=$(wrk -t2 -c256 -d60s --timeout 5s -s "$WORK/mix.lua" "$URL")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  errs=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$out"); errs=${errs:-0}
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non2xx=${non2xx:-0}
  e=$((errs + non2xx)); TOTAL_ERRORS=$((TOTAL_ERRORS + e))
  rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$PID/status)
  hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status)
  printf '%-7s %12s %8s %10s %10s\n' "$m" "$rps" "$e" "$rss" "$hwm"
done
echo "total errors: $TOTAL_ERRORS"
[ "$TOTAL_ERRORS" -eq 0 ]
