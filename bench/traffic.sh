#!/usr/bin/env bash
# A newsroom's real traffic on bantin: readers over the whole archive while editors and voters
# change it, with nginx serving the seed page's bytes to the same requests for reference.
#
#   bench/traffic.sh [--articles N] [--duration SECONDS] [--warmup SECONDS]
#                    [--connections C] [--threads T] [--seed S] [--compressed SHARE] [--no-record]
#
# Builds release; makes a fresh data folder (demo content, then N synthetic articles, default
# 10000; the recorded run uses 100000) and an administrator's API token; starts one bantin on
# SQLite with its page cache on, as deployed behind one reverse proxy (trusted proxy hops 1:
# the voters come through it, each from its own address). Reader paths come from the server's
# sitemaps (bench/traffic.py paths); wrk with bench/traffic.lua sends 80 % of requests to
# articles with Zipf popularity over the whole archive (newest first), 5 % to the home page and
# 15 % to category pages, half of them pages 2..50. The same wrk command runs against nginx
# (every path answered with the seed page's bytes), then, after a discarded warm-up of reads,
# against bantin while bench/traffic.py votes twice a second, edits an article every 10 s and
# publishes one every 60 s through the form and the API, checking each change is on the page
# within a second. `--compressed` (default 0.9) is the share of reader requests that accept
# gzip and brotli as browsers do (nginx then sends a gzip copy made beforehand, gzip_static).
# Prints requests/s, p50/p99, errors, stale pages, the page cache's hit ratio
# and size (/metrics), peak RSS and server CPU time per request; appends them to
# bench/RESULTS.md. Loopback only. Needs Debian's nginx and wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=10000 DURATION=60 WARMUP=20 CONNECTIONS=64 THREADS=2 SEED=1 COMPRESSED=0.9 RECORD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --articles) ARTICLES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --compressed) COMPRESSED=$2; shift 2 ;;
    --no-record) RECORD=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "needs $tool: apt-get install -y nginx wrk curl python3" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release --quiet
BIN=target/release/bantin
# All reader load comes from one address: lift the per-address connection cap (default 64).
export BANTIN_MAX_CONNECTIONS_PER_ADDRESS=100000
WORK=$(mktemp -d /tmp/bantin-traffic.XXXXXX)
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

# 1. Data: demo content (first start), then synthetic articles; a token for the newsroom.
DATA=$WORK/data
P=$(free_port)
BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$P" >/dev/null &
PIDS+=($!); wait_up "http://127.0.0.1:$P/healthz"; kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
echo "== adding $ARTICLES synthetic articles"
$BIN demo --data "$DATA" --articles "$ARTICLES" >/dev/null
# A deployed site's search index is current; a server finding it behind rebuilds it in the
# background, which would run through the measurement.
echo "== search index"
BANTIN_LOG=error $BIN reindex --data "$DATA" >/dev/null
TOKEN=$($BIN token create admin --data "$DATA" --name traffic-bench | grep -o 'bantin_[0-9a-f]*')

# 2. bantin as deployed: page cache on (default budget), behind one trusted proxy.
BP=$(free_port)
URL="http://127.0.0.1:$BP"
BANTIN_LOG=warn BANTIN_TRUSTED_PROXY_HOPS=1 $BIN serve --data "$DATA" --listen "127.0.0.1:$BP" >/dev/null &
BANTIN_PID=$!; PIDS+=($BANTIN_PID)
wait_up "$URL/healthz"
python3 bench/traffic.py paths "$URL" "$DATA/bantin.db" "$WORK/paths.txt"

# 3. nginx answering every path with the seed article's bytes (Debian's defaults, sendfile).
SEED_URL=$(curl -sS -o /dev/null -w '%{redirect_url}' "$URL/xay-dung-dang/x-1.html" | sed 's#http://[^/]*##')
[ -n "$SEED_URL" ] || { echo "cannot find the seed article" >&2; exit 1; }
mkdir -p "$WORK/www" "$WORK/tmp"
curl -fsS "$URL$SEED_URL" -o "$WORK/www/seed.html"
SIZE=$(stat -c %s "$WORK/www/seed.html")
gzip -9 -k "$WORK/www/seed.html"
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
  server { listen 127.0.0.1:$NP; root $WORK/www; gzip_static on;
    location / { try_files /seed.html =404; } }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
wait_up "http://127.0.0.1:$NP/"

WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" --latency -s bench/traffic.lua)
ARGS=(-- "$WORK/paths.txt" "$SEED" "$COMPRESSED")
load() { cut -d' ' -f1-3 /proc/loadavg; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -fsS "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
summary() { # name wrk-output -> name|rps|p50|p99|errors|requests
  local rps p50 p99 errs non2xx reqs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$2")
  p50=$(awk '$1=="50%" {print $2}' <<<"$2")
  p99=$(awk '$1=="99%" {print $2}' <<<"$2")
  errs=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$2"); errs=${errs:-0}
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$2"); non2xx=${non2xx:-0}
  reqs=$(awk '/requests in/ {print $1}' <<<"$2")
  printf '%s|%s|%s|%s|%s|%s\n' "$1" "$rps" "$p50" "$p99" "$((errs + non2xx))" "$reqs"
}

echo "== nginx, ${DURATION}s"
NGINX_ROW=$(summary "nginx, seed page bytes for every path" "$("${WRK[@]}" -d"${DURATION}s" "http://127.0.0.1:$NP" "${ARGS[@]}")")
echo "== warm-up: bantin, reads only, ${WARMUP}s"
"${WRK[@]}" -d"${WARMUP}s" "$URL" "${ARGS[@]}" >/dev/null

echo "== bantin with writers, ${DURATION}s"
HITS0=$(metric bantin_page_cache_hits_total); MISSES0=$(metric bantin_page_cache_misses_total)
TICKS0=$(ticks "$BANTIN_PID")
python3 bench/traffic.py write "$URL" "$TOKEN" "$WORK/paths.txt" "$DURATION" "$SEED" > "$WORK/writer.json" &
WRITER=$!; PIDS+=($WRITER)
OUT=$("${WRK[@]}" -d"${DURATION}s" "$URL" "${ARGS[@]}")
TICKS1=$(ticks "$BANTIN_PID"); LOAD=$(load)
HITS1=$(metric bantin_page_cache_hits_total); MISSES1=$(metric bantin_page_cache_misses_total)
wait "$WRITER"
BANTIN_ROW=$(summary "bantin, page cache, with writers" "$OUT")
ENTRIES=$(metric bantin_page_cache_entries); BYTES=$(metric bantin_page_cache_bytes)
BUDGET=$(metric bantin_page_cache_max_bytes)
HWM=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$BANTIN_PID/status")
RSS=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$BANTIN_PID/status")
# Anonymous memory (heap, stacks) against file pages mapped in (the search index, the binary).
ANON=$(awk '/RssAnon/ {printf "%.0f", $2/1024}' "/proc/$BANTIN_PID/status")
FILE=$(awk '/RssFile/ {printf "%.0f", $2/1024}' "/proc/$BANTIN_PID/status")

# Figures.
TICK=$(getconf CLK_TCK)
REQS=$(cut -d'|' -f6 <<<"$BANTIN_ROW")
read -r HIT_RATIO CPU <<<"$(python3 -c "
h, m = $HITS1 - $HITS0, $MISSES1 - $MISSES0
print(f'{100 * h / max(1, h + m):.1f}', f'{($TICKS1 - $TICKS0) / $TICK * 1000 / max(1, $REQS):.3f}')")"
WRITES=$(python3 - "$WORK/writer.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = {"vote": "rating votes", "edit": "edits", "new": "new articles"}
rows = [f"| {names[k]} | {c['changes']} | {c['fresh_at_once']} | {c['stale']} | {c['errors']} | {c['slowest_ms']} ms |"
        for k, c in r["counts"].items()]
print("| change | made | on the page at the first fetch | stale after 1 s | errors | slowest to show |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
for p in r["problems"]:
    print(f"\n- {p}", end="")
PY
)
STALE=$(python3 -c "import json; r=json.load(open('$WORK/writer.json')); print(sum(c['stale'] for c in r['counts'].values()), sum(c['errors'] for c in r['counts'].values()))")

NGINX_RPS=$(cut -d'|' -f2 <<<"$NGINX_ROW")
TABLE="| run | requests/s | vs nginx | p50 | p99 | errors | requests |
|---|---|---|---|---|---|---|"
for r in "$NGINX_ROW" "$BANTIN_ROW"; do
  IFS='|' read -r name rps p50 p99 errs reqs <<<"$r"
  ratio=$(python3 -c "print(f'{float(\"$rps\")/float(\"$NGINX_RPS\"):.2f}×')")
  TABLE+=$'\n'"| $name | $rps | $ratio | $p50 | $p99 | $errs | $reqs |"
done
MACHINE="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
FIGURES="Page cache over the measured run: hit ratio ${HIT_RATIO} % ($((HITS1 - HITS0)) hits, $((MISSES1 - MISSES0)) misses); at the end it held ${ENTRIES} pages in $((BYTES / 1048576)) MiB of its $((BUDGET / 1048576)) MiB budget. bantin peak RSS (VmHWM) ${HWM} MiB, ${RSS} MiB at the end (${ANON} MiB anonymous, ${FILE} MiB file pages); server CPU time ${CPU} ms per request (utime + stime over the measured run, divided by wrk's requests; the writers' few hundred requests are included in the time). Stale pages and writer errors: $(cut -d' ' -f1 <<<"$STALE") and $(cut -d' ' -f2 <<<"$STALE"). Load average at the end of the run: $LOAD (the host is shared)."
echo
echo "$TABLE"
echo
echo "$WRITES"
echo
echo "$FIGURES"

if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — traffic, $ARTICLES synthetic articles, at $(git rev-parse --short HEAD)"
    echo
    echo "Machine: $MACHINE. Command: \`bench/traffic.sh --articles $ARTICLES --duration $DURATION --warmup $WARMUP --connections $CONNECTIONS --threads $THREADS --seed $SEED --compressed $COMPRESSED\`"
    echo "(wrk \`-t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/traffic.lua\` over $(grep -c '^a ' "$WORK/paths.txt") article paths from the sitemaps and $(grep -c '^c ' "$WORK/paths.txt") categories, after a ${WARMUP} s warm-up of reads; wrk shares the cores with the server; $COMPRESSED of reader requests accept gzip and brotli, the rest plain bytes; nginx answers every path with the seed page, $SIZE bytes, a gzip copy to the former)."
    echo
    echo "$TABLE"
    echo
    echo "$WRITES"
    echo
    echo "$FIGURES"
  } >> bench/RESULTS.md
  echo "(appended to bench/RESULTS.md)"
fi
