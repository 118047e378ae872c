#!/usr/bin/env bash
# Fuzzes bantin-core for a bounded time: every target in turn for SECONDS (default 60) with
# cargo-fuzz (libFuzzer), on the stable toolchain. Exits non-zero if any target finds a crash,
# that is a broken invariant; the input is left in fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# FUZZ_SANITIZER=none skips AddressSanitizer (faster, but blind to memory errors in the unsafe
# code of dependencies); the default is address, as in cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=(sanitize_html slug_and_fold article_url page_query)
fi
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

# cargo-fuzz passes -Z flags (sanitizer coverage, the sanitizer itself) that rustc accepts
# only on nightly; RUSTC_BOOTSTRAP=1 lets the stable compiler take them.
export RUSTC_BOOTSTRAP=1
build_flags=(--release --debug-assertions --sanitizer "${FUZZ_SANITIZER:-address}")

cargo fuzz build "${build_flags[@]}"

failed=()
for target in "${targets[@]}"; do
  case $target in
    sanitize_html) dict=dict/html.dict ;;
    article_url | page_query) dict=dict/query.dict ;;
    *) dict= ;;
  esac
  # New inputs go to work/TARGET (not committed); corpus/TARGET holds the seeds, read only.
  mkdir -p "work/$target"
  log="work/$target.log"
  echo "== $target: ${seconds}s"
  status=0
  cargo fuzz run "${build_flags[@]}" "$target" "work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    ${dict:+-dict="$dict"} >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  if [ "$status" -eq 0 ]; then
    echo "   ok: ${runs:-?} runs, ${speed:-?} execs/s, ${cov:-cov: ?}"
  else
    echo "   FAILED (exit $status); the end of $log:"
    tail -n 40 "$log" | sed 's/^/   | /'
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash"
