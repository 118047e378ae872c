#!/usr/bin/env bash
# The seed article page on bantin, measured against nginx serving the same bytes.
#
#   bench/run.sh [--articles N] [--duration SECONDS] [--connections C] [--threads T] [--no-record]
#
# Builds release; starts bantin on a fresh data folder with the demo content plus N synthetic
# articles (default 10000; try 100000); saves the seed article's HTML; serves that file with
# nginx on another loopback port; runs the same wrk command against nginx, bantin (page cache
# on), bantin with --no-page-cache, and a mix of pages; prints requests/s, p50/p99 latency,
# errors, the bantin/nginx ratio, bantin's peak RSS and time from start to first response, and
# appends the table to bench/RESULTS.md. Loopback only. Needs Debian's nginx and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=10000 DURATION=10 CONNECTIONS=64 THREADS=2 RECORD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --articles) ARTICLES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-record) RECORD=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "needs $tool: apt-get install -y nginx wrk curl" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --quiet
BIN=target/release/bantin
# All load comes from one address: lift the per-address connection cap (default 64).
export BANTIN_MAX_CONNECTIONS_PER_ADDRESS=100000
WORK=$(mktemp -d /tmp/bantin-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as an unprivileged user
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }

# 1. Data: demo content (first start), then synthetic articles.
DATA=$WORK/data
P=$(free_port)
BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$P" >/dev/null &
PIDS+=($!); wait_up "http://127.0.0.1:$P/healthz"; kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
echo "== adding $ARTICLES synthetic articles"
$BIN demo --data "$DATA" --articles "$ARTICLES" >/dev/null
# A server finding its search index behind rebuilds it in the background, which would run
# during the measurement: build it now. The uncached server gets a copy of the folder (a
# second process on one folder keeps an index of its own in memory, built at start).
$BIN reindex --data "$DATA" >/dev/null 2>&1
cp -a "$DATA" "$WORK/data-uncached"

# 2. bantin with the page cache, timed from exec to the first full page.
BP=$(free_port)
START=$(date +%s.%N)
BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$BP" >/dev/null &
BANTIN_PID=$!; PIDS+=($BANTIN_PID)
until curl -fsS -o /dev/null "http://127.0.0.1:$BP/" 2>/dev/null; do sleep 0.01; done
FIRST=$(python3 -c "print(f'{($(date +%s.%N) - $START)*1000:.0f}')")
# The seed article is the first demo article (id 1); its canonical URL comes from the redirect.
SEED=$(curl -sS -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$BP/xay-dung-dang/x-1.html" | sed 's#http://[^/]*##')
[ -n "$SEED" ] || { echo "cannot find the seed article" >&2; exit 1; }
mkdir -p "$WORK/www"
curl -fsS "http://127.0.0.1:$BP$SEED" -o "$WORK/www/seed.html"
SIZE=$(stat -c %s "$WORK/www/seed.html")

# 3. nginx serving the same bytes (Debian's defaults: one worker per core, sendfile).
NP=$(free_port)
cat > "$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { text/html html; }
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server { listen 127.0.0.1:$NP; root $WORK/www; location / { try_files /seed.html =404; } }
}
CONF
mkdir -p "$WORK/tmp"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
wait_up "http://127.0.0.1:$NP/"

# 4. bantin with the page cache off, on the same data.
UP=$(free_port)
BANTIN_LOG=warn $BIN serve --data "$WORK/data-uncached" --listen "127.0.0.1:$UP" --no-page-cache >/dev/null &
UNCACHED_PID=$!; PIDS+=($UNCACHED_PID)
wait_up "http://127.0.0.1:$UP/healthz"

# 5. A mix of pages: home, category pages, the seed and other articles.
MIX_PATHS=("/" "/xay-dung-dang/" "/kinh-te-xa-hoi/" "/van-hoa-the-thao/?page=2" "$SEED")
for p in $(curl -fsS "http://127.0.0.1:$BP/" | grep -o 'href="/[a-z0-9-]*/[a-z0-9-]*-[0-9]*\.html"' | cut -d'"' -f2 | sort -u | head -n 20); do MIX_PATHS+=("$p"); done
{
  echo 'local paths = {'; for p in "${MIX_PATHS[@]}"; do echo "  \"$p\","; done; echo '}'
  echo 'local i = 0'
  echo 'request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end'
} > "$WORK/mix.lua"

WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
# Server CPU time (user + system) of a process, in clock ticks.
ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
TICK=$(getconf CLK_TCK)
run() { # name url [script] [server pid]
  local out before after
  "${WRK[@]}" "$2" >/dev/null 2>&1 || true   # warm-up pass, discarded
  before=$(ticks "${4:-}")
  if [ -n "${3:-}" ]; then out=$("${WRK[@]}" -s "$3" "$2"); else out=$("${WRK[@]}" "$2"); fi
  after=$(ticks "${4:-}")
  local rps p50 p99 errs non2xx reqs cpu
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$out"); errs=${errs:-0}
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non2xx=${non2xx:-0}
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ -n "${4:-}" ] && [ "${reqs:-0}" -gt 0 ]; then
    cpu=$(python3 -c "print(f'{($after - $before) / $TICK * 1000 / $reqs:.3f} ms')")
  else cpu="—"; fi
  printf '%s|%s|%s|%s|%s|%s\n' "$1" "$rps" "$p50" "$p99" "$((errs + non2xx))" "$cpu"
}

echo "== wrk ${WRK[*]:1} (page $SIZE bytes, $ARTICLES synthetic articles)"
RESULTS=()
RESULTS+=("$(run "nginx, static copy" "http://127.0.0.1:$NP/seed.html")")
RESULTS+=("$(run "bantin, page cache" "http://127.0.0.1:$BP$SEED" "" "$BANTIN_PID")")
RESULTS+=("$(run "bantin, no page cache" "http://127.0.0.1:$UP$SEED" "" "$UNCACHED_PID")")
RESULTS+=("$(run "bantin, no page cache, home" "http://127.0.0.1:$UP/" "" "$UNCACHED_PID")")
RESULTS+=("$(run "bantin, no page cache, category" "http://127.0.0.1:$UP/xay-dung-dang/" "" "$UNCACHED_PID")")
RESULTS+=("$(run "bantin, no page cache, category page 50" "http://127.0.0.1:$UP/xay-dung-dang/?page=50" "" "$UNCACHED_PID")")
RESULTS+=("$(run "bantin, mix, page cache" "http://127.0.0.1:$BP" "$WORK/mix.lua" "$BANTIN_PID")")
RESULTS+=("$(run "bantin, mix, no page cache" "http://127.0.0.1:$UP" "$WORK/mix.lua" "$UNCACHED_PID")")
rss() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
RSS_CACHED=$(rss "$BANTIN_PID"); RSS_UNCACHED=$(rss "$UNCACHED_PID")

NGINX_RPS=$(cut -d'|' -f2 <<<"${RESULTS[0]}")
TABLE="| run | requests/s | vs nginx | p50 | p99 | errors | server CPU per request |
|---|---|---|---|---|---|---|"
for r in "${RESULTS[@]}"; do
  IFS='|' read -r name rps p50 p99 errs cpu <<<"$r"
  ratio=$(python3 -c "print(f'{float(\"$rps\")/float(\"$NGINX_RPS\"):.2f}×')")
  TABLE+=$'\n'"| $name | $rps | $ratio | $p50 | $p99 | $errs | $cpu |"
done
MACHINE="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
SUMMARY="bantin peak RSS: ${RSS_CACHED} MiB with the page cache, ${RSS_UNCACHED} MiB without; first full page ${FIRST} ms after start"
echo
echo "$TABLE"
echo
echo "$SUMMARY"

if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — $ARTICLES synthetic articles"
    echo
    echo "Machine: $MACHINE. Command: \`bench/run.sh --articles $ARTICLES --duration $DURATION --connections $CONNECTIONS --threads $THREADS\`"
    echo "(wrk \`-t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` after a discarded warm-up pass of the same length; wrk shares the cores with the server; seed page $SIZE bytes, sent uncompressed)."
    echo
    echo "$TABLE"
    echo
    echo "$SUMMARY."
  } >> bench/RESULTS.md
  echo "(appended to bench/RESULTS.md)"
fi
