#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 30) on the stable
# toolchain, starting from the committed corpus and crash reproducers. Exits non-zero when a
# target crashes, or when CI=true and the fuzzer cannot be set up. See README.md.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-30}"
targets=(device_response token_response error_response flow)

unavailable() {
    if [ "${CI:-}" = "true" ]; then
        echo "error: $1; the fuzz run cannot happen in CI" >&2
        exit 1
    fi
    echo "warning: $1; skipping the fuzz run (set CI=true to make this an error)" >&2
    exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: installing it from crates.io"
    cargo install --locked cargo-fuzz --version 0.13.2 || unavailable "cargo-fuzz could not be installed"
fi
# libfuzzer-sys compiles libFuzzer itself.
command -v c++ >/dev/null 2>&1 || unavailable "no C++ compiler (c++) for libFuzzer"

# cargo-fuzz passes -Z flags (sanitizer coverage); RUSTC_BOOTSTRAP lets a stable toolchain
# accept them. No sanitizer: the code under test forbids `unsafe`, and coverage alone is
# what guides the fuzzer.
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none || unavailable "the fuzz targets do not build"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    inputs=("corpus/$t")
    [ -d "regressions/$t" ] && inputs+=("regressions/$t")
    echo "== $t: ${seconds}s"
    # New inputs go to the scratch directory; the committed corpus is only read. Every
    # existing input is run first, so a regression fails at once.
    if ! cargo fuzz run -s none "$t" "$work/$t" "${inputs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 \
        -dict=protocol.dict -print_final_stats=1 2>"$work/$t.log"; then
        # The panic message, then how to reproduce (the backtrace in between is long).
        grep -A 4 'panicked at' "$work/$t.log" >&2 || true
        grep -E -A 2 '^(Failing input|Reproduce with)' "$work/$t.log" >&2 || tail -n 30 "$work/$t.log" >&2
        failed+=("$t")
    else
        grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
            "$work/$t.log" || true
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (reproducers under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets ran ${seconds}s each without a crash"
