#!/usr/bin/env bash
# Regenerates the peer table of sim/README.md and the raw results next to it
# (sim/peers/results.json) from a fresh clone: builds the kit, this project's CLI, both
# drivers' generic examples (in their harness mode, DEVICE_GRANT_KIT=1) and the oauth2-rs
# peer (pinned by its own Cargo.lock), installs MSAL for Python (pinned in
# msal/requirements.txt) in a venv and openid-client (pinned in openid-client/package-lock.json)
# with npm ci, runs the kit against each client, and rewrites the table.
# Needs cargo, python3 with venv, Node 20 with npm, and the crates.io, PyPI and npm
# registries. Takes ~20 minutes (measured: 19.5, including a first release build of oauth2-rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
peers="$root/sim/peers"
out="$peers/out"
mkdir -p "$out"
target=${CARGO_TARGET_DIR:-$root/target}

cargo build --locked -p device-grant-sim -p device-grant-cli
cargo build --locked -p device-grant-ureq --example blocking_generic
cargo build --locked -p device-grant-reqwest --example async_generic
# Copies: a shared target directory may be rebuilt from another tree meanwhile.
mkdir -p "$out/bin"
cp "$target/debug/device-grant-sim" "$target/debug/device-grant" \
  "$target/debug/examples/blocking_generic" "$target/debug/examples/async_generic" "$out/bin/"
kit="$out/bin/device-grant-sim"
export DEVICE_GRANT="$out/bin/device-grant"
(cd "$peers/oauth2-rs" && CARGO_TARGET_DIR="$target/peers" cargo build --release --locked)
oauth2rs="$target/peers/release/oauth2-rs-peer"
venv="$out/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$peers/msal/requirements.txt"
(cd "$peers/openid-client" && npm ci --silent --no-audit --no-fund)

run() { # name, kit options..., -- command...
  local name=$1; shift
  echo "== $name" >&2
  "$kit" check --json "$out/$name.json" "$@" >"$out/$name.txt" 2>/dev/null || true
  tail -1 "$out/$name.txt" >&2
}
run device-grant-cli -- "$root/sim/kit/device-grant-cli.sh"
run ureq-example -- env DEVICE_GRANT_KIT=1 "$out/bin/blocking_generic"
run reqwest-example -- env DEVICE_GRANT_KIT=1 "$out/bin/async_generic"
run reference-python -- python3 "$root/sim/kit/clients/reference.py"
run oauth2-rs-reqwest --whole-seconds -- "$oauth2rs" reqwest
run oauth2-rs-ureq --whole-seconds -- "$oauth2rs" ureq
run msal-python --whole-seconds -- "$venv/bin/python" "$peers/msal/peer.py"
run openid-client -- node "$peers/openid-client/peer.mjs"

python3 "$peers/table.py" "$out" "$peers/results.json" "$root/README.md" "$root/sim/README.md"
# The raw results name the commands as run; keep them relative to the repository.
sed -i -e "s|$target/|target/|g" -e "s|$root/||g" "$peers/results.json"
