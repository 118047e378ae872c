#!/usr/bin/env bash
# Does the uncached cost of reader pages grow with the archive? For each article count given,
# on a fresh data folder: the demo content plus N synthetic articles (`bantin demo`, timed),
# the database size, the time from start to the first full page, then — once the server is
# idle (its search index built) — wrk against the seed article, the home page and a category's
# first and 50th pages with the page cache off: requests/s, p50/p99 and server CPU time per
# request. Appends one table to bench/RESULTS.md.
#
#   bench/scale.sh [--duration SECONDS] [--no-record] N [N…]     e.g. bench/scale.sh 10000 1000000
#
# Loopback only. Needs wrk, curl, python3. A million articles take about 5 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10 RECORD=1 COUNTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --no-record) RECORD=0; shift ;;
    *) COUNTS+=("$1"); shift ;;
  esac
done
[ ${#COUNTS[@]} -gt 0 ] || { echo "usage: bench/scale.sh [--duration S] [--no-record] N [N…]" >&2; exit 2; }

cargo build --release --quiet
BIN=$PWD/target/release/bantin
AT=$(git rev-parse --short HEAD)
export BANTIN_MAX_CONNECTIONS_PER_ADDRESS=100000
WORK=$(mktemp -d /tmp/bantin-scale.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
# Until the process uses under 5 % of a core over two seconds (start-up work such as building
# the search index has ended).
wait_idle() { local a b; while :; do a=$(ticks "$1"); sleep 2; b=$(ticks "$1"); [ $((b - a)) -lt $((TICK / 10)) ] && return; done; }
measure() { # pid url → rps|p50|p99|cpu per request|non-2xx
  local out before after reqs
  wrk -t2 -c64 -d2s "$2" >/dev/null 2>&1 || true
  before=$(ticks "$1")
  out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "$2")
  after=$(ticks "$1")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%s|%s|%s|%s|%s\n' \
    "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(python3 -c "print(f'{($after - $before) / $TICK * 1000 / $reqs:.3f} ms')")" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
}

TABLE="| articles | page | requests/s | p50 | p99 | server CPU per request | non-2xx |
|---|---|---|---|---|---|---|"
FACTS=""
for N in "${COUNTS[@]}"; do
  DATA=$WORK/data-$N
  P=$(free_port)
  BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$P" >/dev/null &
  PIDS+=($!); wait_up "http://127.0.0.1:$P/healthz"; kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
  echo "== $N articles: bantin demo"
  T0=$(date +%s.%N)
  $BIN demo --data "$DATA" --articles "$N" >/dev/null
  DEMO=$(python3 -c "print(f'{$(date +%s.%N) - $T0:.1f}')")
  SIZE=$(du -cm "$DATA"/bantin.db* | awk 'END {print $1}')
  P=$(free_port)
  T0=$(date +%s.%N)
  BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$P" --no-page-cache >/dev/null &
  PID=$!; PIDS+=($PID)
  until curl -fsS -o /dev/null "http://127.0.0.1:$P/" 2>/dev/null; do sleep 0.01; done
  FIRST=$(python3 -c "print(f'{($(date +%s.%N) - $T0) * 1000:.0f}')")
  echo "== $N articles: waiting for the server to be idle (search index)"
  wait_idle "$PID"
  SEED=$(curl -sS -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$P/xay-dung-dang/x-1.html" | sed 's#http://[^/]*##')
  for page in "seed article|$SEED" "home|/" "category|/xay-dung-dang/" "category, page 50|/xay-dung-dang/?page=50"; do
    IFS='|' read -r name path <<<"$page"
    IFS='|' read -r rps p50 p99 cpu non2xx <<<"$(measure "$PID" "http://127.0.0.1:$P$path")"
    echo "$N $name: $rps req/s, p50 $p50, p99 $p99, $cpu CPU/request, non-2xx $non2xx"
    TABLE+=$'\n'"| $N | $name | $rps | $p50 | $p99 | $cpu | $non2xx |"
  done
  RSS=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status")
  FACTS+="$N articles: \`bantin demo\` ${DEMO} s, database ${SIZE} MB, first full page ${FIRST} ms after start, peak RSS ${RSS} MiB."$'\n'
  kill "$PID"; wait "$PID" 2>/dev/null || true
  rm -rf "$DATA"
done
MACHINE="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo; echo "$TABLE"; echo; echo "$FACTS"
if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — uncached reader pages by archive size, at $AT"
    echo
    echo "Machine: $MACHINE. Command: \`bench/scale.sh --duration $DURATION ${COUNTS[*]}\` (wrk \`-t2 -c64 -d${DURATION}s --latency\` after a 2 s warm-up, page cache off, once the server is idle; wrk shares the cores with the server)."
    echo
    echo "$TABLE"
    echo
    echo -n "$FACTS"
  } >> bench/RESULTS.md
  echo "(appended to bench/RESULTS.md)"
fi
