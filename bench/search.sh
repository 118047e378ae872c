#!/usr/bin/env bash
# Search at scale: bantin's index against the SQL `LIKE '%…%'` search NukeViet and WordPress run.
#
#   bench/search.sh [--articles N] [--duration SECONDS] [--no-like] [--no-record]
#
# Builds release; makes a fresh data folder with the demo content plus N synthetic articles
# (`bantin demo`, default 100000); times `bantin reindex` and measures the index folder; serves
# it and runs a fixed list of queries (with and without diacritics, one to six words, Telex,
# document numbers) against /api/v1/search: per query the hit count and median latency, then the
# whole list cycled by wrk from 1 and from 16 connections (p50/p99). The same queries then run as
# SQL LIKE on the same SQLite file (python3's sqlite3, the words as typed, every word in title,
# lead or body, newest 10 and the count — what those portals do), from 1 and from 16 processes.
# `--no-like` leaves the baseline out (at 1 000 000 articles it runs for hours). Besides wall
# times it reports CPU time (the reindex's user + sys; the server's per query during the wrk
# runs), which a busy shared machine disturbs far less. Appends the tables to
# bench/RESULTS.md. Loopback only. Needs wrk, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=100000 DURATION=10 RECORD=1 LIKE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --articles) ARTICLES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --no-record) RECORD=0; shift ;;
    --no-like) LIKE=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y wrk curl python3" >&2; exit 1; }
done

cargo build --release --quiet
BIN=target/release/bantin
export BANTIN_MAX_CONNECTIONS_PER_ADDRESS=100000
WORK=$(mktemp -d /tmp/bantin-search-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

QUERIES=(
  "hoc tap"
  "học tập"
  "Học tập và làm theo"
  "hoc tap lam theo guong bac"
  "chuyển đổi số"
  "chuyen doi so trong co quan nha nuoc"
  "cải cách hành chính"
  "cai cach"
  "nông thôn mới"
  "hòa"
  "hoà"
  "Đà Nẵng"
  "da nang"
  "hocj taapj"
  "chuyeenr ddooir soos"
  "05-CT/TW"
  "123/QĐ-UBND"
  "21-KL/TW"
  "phòng chống thiên tai"
  "xây dựng Đảng ở cơ sở"
)

# 1. Data: the demo content (first start), then synthetic articles.
DATA=$WORK/data
P=$(free_port)
BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$P" >/dev/null &
PIDS+=($!); wait_up "http://127.0.0.1:$P/healthz"; kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
echo "== bantin demo --articles $ARTICLES"
T0=$(date +%s.%N)
$BIN demo --data "$DATA" --articles "$ARTICLES" >/dev/null
DEMO_S=$(secs "$T0" "$(date +%s.%N)")
DB_MB=$(du -sm "$DATA/bantin.db" | cut -f1)

# 2. Full reindex, timed; the index's size.
echo "== bantin reindex"
T0=$(date +%s.%N)
TIMEFORMAT='%U %S'
REINDEX_CPU=$( { time $BIN reindex --data "$DATA" >/dev/null; } 2>&1 | tail -n 1 | awk '{printf "%.1f", $1 + $2}')
REINDEX_S=$(secs "$T0" "$(date +%s.%N)")
LOAD_AVG=$(cut -d' ' -f1-3 /proc/loadavg)
INDEX_MB=$(du -sm "$DATA/search" | cut -f1)

# 3. Serve; per-query hits and median latency through the JSON API.
BP=$(free_port)
BANTIN_LOG=warn $BIN serve --data "$DATA" --listen "127.0.0.1:$BP" >/dev/null &
BANTIN_PID=$!; PIDS+=($BANTIN_PID)
wait_up "http://127.0.0.1:$BP/healthz"
printf '%s\n' "${QUERIES[@]}" > "$WORK/queries.txt"
python3 - "$BP" "$WORK/queries.txt" "$WORK/paths.txt" > "$WORK/per_query.txt" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
port, qfile, pfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
queries = [l.rstrip("\n") for l in open(qfile, encoding="utf-8") if l.strip()]
conn = http.client.HTTPConnection("127.0.0.1", port)
paths = []
for q in queries:
    path = "/api/v1/search?q=" + urllib.parse.quote(q)
    paths.append(path)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        conn.request("GET", path)
        body = conn.getresponse().read()
        times.append((time.perf_counter() - t) * 1000)
    data = json.loads(body)
    assert data["indexed"], "the index answers"
    print(f"{q}\t{data['total']}\t{statistics.median(times):.2f}")
open(pfile, "w").write("\n".join(paths))
PY
{
  echo 'local paths = {'
  while IFS= read -r p; do echo "  \"$p\","; done < "$WORK/paths.txt"
  echo '}'
  echo 'local i = 0'
  echo 'request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end'
} > "$WORK/queries.lua"
server_ticks() { awk '{print $14 + $15}' "/proc/$BANTIN_PID/stat"; }
wrk_run() { # connections threads
  local out t0 t1
  wrk -t"$2" -c"$1" -d2s -s "$WORK/queries.lua" "http://127.0.0.1:$BP" >/dev/null 2>&1 || true
  t0=$(server_ticks)
  out=$(wrk -t"$2" -c"$1" -d"${DURATION}s" --latency -s "$WORK/queries.lua" "http://127.0.0.1:$BP")
  t1=$(server_ticks)
  # The server's CPU time (user + sys) per request, in ms.
  local cpu
  cpu=$(python3 -c "print(f'{($t1 - $t0) * 1000 / $(getconf CLK_TCK) / max(1, $(awk '/requests in/ {print $1}' <<<"$out")):.1f} ms')")
  printf '%s|%s|%s|%s\n' "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" "$cpu"
}
echo "== wrk, the query list cycled"
ONE=$(wrk_run 1 1)
SIXTEEN=$(wrk_run 16 2)
RSS=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$BANTIN_PID/status")
kill "$BANTIN_PID"; wait "$BANTIN_PID" 2>/dev/null || true

# 4. The LIKE baseline on the same database file.
if [ "$LIKE" = 1 ]; then
echo "== SQL LIKE baseline"
python3 - "$DATA/bantin.db" "$WORK/queries.txt" "$WORK/like.txt" <<'PY' > "$WORK/like_summary.txt"
import multiprocessing, re, sqlite3, statistics, sys, time
db, qfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
queries = [l.rstrip("\n") for l in open(qfile, encoding="utf-8") if l.strip()]
now = int(time.time())

def sql_for(q):
    words = [w.lower() for w in q.split()][:16]
    pats = ["%" + re.sub(r"([%_\\])", r"\\\1", w) + "%" for w in words]
    cond = "status = 'published' AND publish_at <= ? AND (expire_at IS NULL OR expire_at > ?)"
    args = [now, now]
    for p in pats:
        cond += " AND (LOWER(title) LIKE ? ESCAPE '\\' OR LOWER(lead) LIKE ? ESCAPE '\\' OR LOWER(body_html) LIKE ? ESCAPE '\\')"
        args += [p, p, p]
    return cond, args

def run(conn, q):
    cond, args = sql_for(q)
    t = time.perf_counter()
    conn.execute(f"SELECT id, title FROM articles WHERE {cond} ORDER BY publish_at DESC, id DESC LIMIT 10", args).fetchall()
    n = conn.execute(f"SELECT COUNT(*) FROM articles WHERE {cond}", args).fetchone()[0]
    return (time.perf_counter() - t) * 1000, n

def worker(_):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    return [run(conn, q)[0] for q in queries]

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
single = []
with open(out, "w", encoding="utf-8") as f:
    for q in queries:
        runs = [run(conn, q) for _ in range(3)]
        single += [r[0] for r in runs]
        f.write(f"{q}\t{runs[0][1]}\t{statistics.median(r[0] for r in runs):.1f}\n")
with multiprocessing.Pool(16) as pool:
    t = time.perf_counter()
    many = [x for xs in pool.map(worker, range(16)) for x in xs]
    wall = time.perf_counter() - t
print(f"{len(single) / (sum(single) / 1000):.1f}|{pct(single, 50):.1f}ms|{pct(single, 99):.1f}ms")
print(f"{len(many) / wall:.1f}|{pct(many, 50):.1f}ms|{pct(many, 99):.1f}ms")
PY
else
  sed 's/$/\t–\t–/' "$WORK/queries.txt" > "$WORK/like.txt"
  printf '–|–|–\n–|–|–\n' > "$WORK/like_summary.txt"
fi
LIKE_ONE=$(sed -n 1p "$WORK/like_summary.txt")"|–"; LIKE_SIXTEEN=$(sed -n 2p "$WORK/like_summary.txt")"|–"

# 5. Tables.
PERQ="| query | bantin hits | bantin median | LIKE hits | LIKE median |
|---|---|---|---|---|"
while IFS=$'\t' read -r q hits ms && IFS=$'\t' read -r _ lhits lms <&3; do
  PERQ+=$'\n'"| \`$q\` | $hits | $ms ms | $lhits | $lms ms |"
done < "$WORK/per_query.txt" 3< "$WORK/like.txt"
LOAD="| run | queries/s | p50 | p99 | server CPU per query |
|---|---|---|---|---|"
for r in "bantin index, 1 client|$ONE" "bantin index, 16 clients|$SIXTEEN" "SQL LIKE, 1 client|$LIKE_ONE" "SQL LIKE, 16 clients|$LIKE_SIXTEEN"; do
  IFS='|' read -r name qps p50 p99 cpu <<<"$r"
  LOAD+=$'\n'"| $name | $qps | $p50 | $p99 | $cpu |"
done
MACHINE="$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
SUMMARY="$ARTICLES synthetic articles + demo content: \`bantin demo\` ${DEMO_S} s, database ${DB_MB} MB; \`bantin reindex\` ${REINDEX_S} s wall (${REINDEX_CPU} s CPU; load average during the run ${LOAD_AVG}), index ${INDEX_MB} MB; server peak RSS ${RSS} MiB"
echo; echo "$SUMMARY"; echo; echo "$PERQ"; echo; echo "$LOAD"
if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — search, $ARTICLES synthetic articles"
    echo
    echo "Machine: $MACHINE. Command: \`bench/search.sh --articles $ARTICLES --duration $DURATION$([ "$LIKE" = 1 ] || echo ' --no-like')\`."
    echo "bantin: \`GET /api/v1/search?q=…\` over loopback (HTTP, JSON, snippets included); per-query median of 30 sequential requests; load rows: wrk cycling the list, \`-c1 -t1\` and \`-c16 -t2\`, ${DURATION} s after a 2 s warm-up, sharing the cores with the server."
    echo "LIKE: the same words as typed, each in title, lead or body (\`LOWER(col) LIKE '%w%'\`), newest 10 plus the count, on the same SQLite file through python3's sqlite3 (no HTTP, so it is flattered); 1 client: 3 runs of the list; 16 clients: 16 processes running the list once each."
    echo
    echo "$SUMMARY."
    echo
    echo "$PERQ"
    echo
    echo "$LOAD"
  } >> bench/RESULTS.md
  echo "(appended to bench/RESULTS.md)"
fi
