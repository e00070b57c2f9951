#!/usr/bin/env bash
# Reruns every benchmark of device-grant against oauth2 5.x and the hand-written floor, and
# prints the tables of BENCHMARKS.md.
#
#   benches/run.sh                 everything (about 15 minutes on 2 cores)
#   FOOTPRINT=0 benches/run.sh     everything but the six clean release builds
#
# Results land in target/bench-results/ (table.md is the printed tables). Instruction counts
# come from valgrind's callgrind and do not depend on the machine's load; times and build
# times do, so run it on an otherwise idle machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/bench-results"
BIN="$TARGET/release"
LOOPBACK_FLOWS="${LOOPBACK_FLOWS:-500}"   # flows per timed loopback run
LOOPBACK_RUNS="${LOOPBACK_RUNS:-7}"        # rounds of timed runs (every implementation once a round)
PENDING_FLOWS_REQWEST="${PENDING_FLOWS_REQWEST:-10000}" # parked flows, reqwest (tasks)
PENDING_FLOWS_UREQ="${PENDING_FLOWS_UREQ:-1000}"        # parked flows, ureq (threads)
PENDING=2                                  # pending answers per flow (K)
mkdir -p "$OUT"
rm -rf "$TARGET/criterion" "$OUT"/{machine.txt,callgrind.tsv,loopback.jsonl,pending.jsonl,memory.json,table.md}
# With FOOTPRINT=0 the table keeps the footprint of the last run that built it.
export BENCH_OUT="$OUT"

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)" >&2; }

step "machine"
{
  echo "nproc: $(nproc)"
  lscpu | head -n 15
  rustc --version
  valgrind --version
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

step "build"
cargo build --release -p device-grant-benches --bins
cargo build --release -p device-grant-sim --bin device-grant-sim
cargo bench -p device-grant-benches --no-run

step "time: criterion (parsers, poll step, complete in-memory flows)"
cargo bench -p device-grant-benches --bench core -- --noplot

step "memory: 100,000 pending flows"
cargo bench -p device-grant-benches --bench memory

# Instructions per operation: callgrind counts only `measured_section`, so setup is left out.
callgrind_per_op() { # n, args...
  local n=$1; shift
  local total
  total=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    '--toggle-collect=*measured_section*' "$BIN/measure" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  echo $((total / n))
}

step "instructions: in-memory work"
: > "$OUT/callgrind.tsv"
for imp in device-grant device-grant-http oauth2 floor floor-http; do
  for k in 2 10; do
    printf 'flow\t%s\tK=%s\t%s\n' "$imp" "$k" "$(callgrind_per_op 500 flow "$imp" "$k" 500)" >> "$OUT/callgrind.tsv"
  done
done
for what in device token pending; do
  for format in json form; do
    for imp in device-grant oauth2 extractor; do
      [[ $imp == oauth2 && $format == form ]] && continue # oauth2 reads JSON only
      printf 'parse\t%s\t%s/%s\t%s\n' "$imp" "$what" "$format" \
        "$(callgrind_per_op 1000 parse "$imp" "$what" "$format" 1000)" >> "$OUT/callgrind.tsv"
    done
  done
done
for imp in device-grant device-grant-http floor; do
  printf 'step\t%s\t\t%s\n' "$imp" "$(callgrind_per_op 1000 step "$imp" 1000)" >> "$OUT/callgrind.tsv"
done

step "loopback: the simulated server in its own process, $PENDING pending answers per flow"
# A fresh server for every run: it records every request it sees, and a server that has
# recorded tens of thousands of them answers more slowly.
start_server() { # pending answers per flow
  coproc SIM { exec "$BIN/device-grant-sim" serve --no-interval --no-enforce-interval --approve-after-polls "$1"; }
  read -r device token client_id <&"${SIM[0]}"
}
stop_server() {
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
}
trap stop_server EXIT
IMPLS=(device-grant-ureq floor-ureq oauth2-ureq device-grant-reqwest floor-reqwest oauth2-reqwest)
# Instructions per flow over the whole process (ureq resolves on a thread of its own, which
# callgrind's toggle would miss): the difference between 220 and 20 flows, over 200.
count_loopback() { # implementation, flows
  start_server "$PENDING"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN/measure" loopback \
    "$1" "$PENDING" "$2" "$device" "$token" "$client_id" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  stop_server
}
for imp in "${IMPLS[@]}"; do
  a=$(count_loopback "$imp" 20 || true)
  b=$(count_loopback "$imp" 220 || true)
  [[ -n $a && -n $b ]] || { echo "$imp failed under callgrind" >&2; continue; }
  printf 'loopback\t%s\tK=%s\t%s\n' "$imp" "$PENDING" $(((b - a) / 200)) >> "$OUT/callgrind.tsv"
done
# CPU time: rounds of one run of every implementation, so that the ratios can be taken within a
# round, where the load of the machine is about the same for all.
: > "$OUT/loopback.jsonl"
for _ in $(seq "$LOOPBACK_RUNS"); do
  for imp in "${IMPLS[@]}"; do
    start_server "$PENDING"
    "$BIN/measure" loopback "$imp" "$PENDING" "$LOOPBACK_FLOWS" "$device" "$token" "$client_id" >> "$OUT/loopback.jsonl" ||
      echo "$imp failed" >&2
    stop_server
  done
done
echo "load average after the loopback runs: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

step "heap per pending flow through the drivers"
: > "$OUT/pending.jsonl"
for client in reqwest ureq; do
  flows=$PENDING_FLOWS_REQWEST
  [[ $client == ureq ]] && flows=$PENDING_FLOWS_UREQ
  for imp in device-grant floor; do
    start_server "$PENDING"
    "$BIN/pending" "$client" "$imp" "$flows" "$device" "$token" "$client_id" >> "$OUT/pending.jsonl"
    stop_server
  done
done
trap - EXIT

if [[ "${FOOTPRINT:-1}" != 0 ]]; then
  step "footprint: six minimal programs, each a clean release build with -j2"
  "$ROOT/benches/footprint.sh"
fi

step "report"
"$BIN/report" "$OUT" "$TARGET/criterion" | tee "$OUT/table.md"
