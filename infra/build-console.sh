#!/usr/bin/env bash
# Builds the web console (Leptos → WebAssembly) into OUTDIR (default: console/dist), offline:
#   - the wasm32 target through rustup, when missing;
#   - wasm-bindgen-cli pinned to the exact wasm-bindgen version of Cargo.lock, installed from
#     crates.io only when the installed one differs (~10 min once);
#   - cargo build --release for wasm32-unknown-unknown, then wasm-bindgen --target web.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cd "$(dirname "$0")/.."
out="${1:-console/dist}"
profile="${NUVEM_CONSOLE_PROFILE:-release}"
started=$SECONDS

command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust 1.95 (rustup) first"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >/dev/null
fi

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$want" ] || die "Cargo.lock names no wasm-bindgen"
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (have: ${have:-none}); about 10 minutes, once"
    # Not --locked: its lock file pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$want" --force --quiet
fi

log "building the console ($profile)"
flags=(--target wasm32-unknown-unknown -p nuvem-console)
[ "$profile" = release ] && flags+=(--release)
cargo build "${flags[@]}"
target_dir="${CARGO_TARGET_DIR:-target}"
wasm="$target_dir/wasm32-unknown-unknown/$profile/nuvem_console.wasm"
[ -f "$wasm" ] || die "$wasm was not built"

rm -rf "$out.tmp"
mkdir -p "$out.tmp/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$out.tmp/pkg" "$wasm"
cp console/static/index.html console/static/boot.js console/static/style.css "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
size=$(stat -c %s "$out/pkg/nuvem_console_bg.wasm")
gz=$(gzip -9 -c "$out/pkg/nuvem_console_bg.wasm" | wc -c)
log "console built in $out: wasm $((size / 1024)) KiB ($((gz / 1024)) KiB gzipped), $((SECONDS - started)) s"
