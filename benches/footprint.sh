#!/usr/bin/env bash
# The footprint part of run.sh, runnable alone: for each minimal program in benches/footprint/,
# its unique crates (`cargo tree -e normal`), a clean release build with -j2 (wall and CPU
# seconds), and its stripped size; then each program gets a real token from the simulated
# server after one pending answer. Writes target/bench-results/footprint.tsv (name, crates,
# wall s, CPU s, stripped bytes, load average when the build started).
#
#   FOOTPRINT_ROUNDS=n          builds of each program, interleaved (default 2)
#   FOOTPRINT_PROGRAMS="a b"    only these programs (default: all)
#   FOOTPRINT_APPEND=1          add to footprint.tsv instead of starting it over
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/bench-results"
BIN="$TARGET/release"
FOOTPRINT_TARGET="${FOOTPRINT_TARGET:-/tmp/device-grant-footprint}"
ROUNDS="${FOOTPRINT_ROUNDS:-2}"
PROGRAMS=(floor-ureq device-grant-ureq device-grant-ureq-idna-unicode device-grant-ureq-idna-none
  oauth2-ureq floor-reqwest device-grant-reqwest oauth2-reqwest)
if [[ -n "${FOOTPRINT_PROGRAMS:-}" ]]; then read -r -a PROGRAMS <<< "$FOOTPRINT_PROGRAMS"; fi
mkdir -p "$OUT"
[[ -x "$BIN/device-grant-sim" ]] || cargo build --release -p device-grant-sim --bin device-grant-sim

[[ "${FOOTPRINT_APPEND:-0}" == 1 ]] || : > "$OUT/footprint.tsv"
for name in "${PROGRAMS[@]}"; do
  (cd "$ROOT/benches/footprint/$name" && cargo fetch --locked -q)
done
for round in $(seq "$ROUNDS"); do
  for name in "${PROGRAMS[@]}"; do
    dir="$ROOT/benches/footprint/$name"
    target="$FOOTPRINT_TARGET/$name"
    crates=$(cd "$dir" && cargo tree --locked -e normal --prefix none |
      sed -e 's/ (\*)$//' -e 's/ (proc-macro)$//' | sort -u | grep -vc '^footprint-')
    rm -rf "$target"
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "round $round: building $name (load $load)" >&2
    # Wall seconds, then user + system CPU seconds of the whole build.
    times=$( { cd "$dir" && /usr/bin/time -f '%e %U %S' \
      cargo build --release --locked --offline -j2 -q --target-dir "$target"; } 2>&1 | tail -n 1)
    read -r wall user sys <<< "$times"
    strip -o "$target/stripped" "$target/release/footprint-$name"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$crates" "$wall" \
      "$(echo "$user + $sys" | awk '{print $1 + $3}')" "$(stat -c %s "$target/stripped")" "$load" >> "$OUT/footprint.tsv"
  done
done

# Each program really gets a token: all against one server, at the same time, after one
# pending answer (no interval sent, so each waits the RFC's 5 s twice).
coproc SIM { exec "$BIN/device-grant-sim" serve --no-interval --no-enforce-interval --approve-after-polls 1; }
trap 'kill "$SIM_PID" 2>/dev/null || true' EXIT
read -r device token client_id <&"${SIM[0]}"
pids=()
for name in "${PROGRAMS[@]}"; do
  "$FOOTPRINT_TARGET/$name/stripped" "$device" "$token" "$client_id" > "$OUT/smoke-$name.txt" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for name in "${PROGRAMS[@]}"; do
  printf '%s: %s\n' "$name" "$(tail -n 1 "$OUT/smoke-$name.txt")" >&2
done
