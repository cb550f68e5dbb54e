#!/usr/bin/env bash
# Install what is missing and run every test: formatting, lints, unit and integration tests on
# SQLite and a real PostgreSQL server, and the end-to-end tests of cloudctl against the built server.
# .ci/run calls this. Debug builds keep the clean build within CI's budget.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
step() { log "== $* ($(date +%T), ${SECONDS}s elapsed)"; }

cd "$(dirname "$0")/.."

step "host packages and daemons"
bash infra/install.sh
bash infra/daemons.sh start

command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust 1.95 (rustup) first"

step "guest images (nuvem-tiny, built offline from Debian packages)"
export NUVEM_TEST_IMAGES_DIR="${NUVEM_TEST_IMAGES_DIR:-/var/cache/nuvem/images}"
bash infra/images/build-tiny.sh "$NUVEM_TEST_IMAGES_DIR/nuvem-tiny"

step "container base images (nuvem/busybox, nuvem/debian, built offline from Debian packages)"
bash infra/images/build-containers.sh

step "web console (Leptos to WebAssembly; installs the pinned wasm-bindgen-cli once)"
bash infra/build-console.sh console/dist
export NUVEM_TEST_CONSOLE_DIR="$PWD/console/dist"

step "PostgreSQL for the tests"
NUVEM_TEST_POSTGRES_URL=$(bash infra/postgres-test.sh start)
export NUVEM_TEST_POSTGRES_URL

step "S3 engine for the tests (SeaweedFS, throwaway)"
export NUVEM_TEST_S3_DIR=/tmp/nuvem-test-s3
rm -rf "$NUVEM_TEST_S3_DIR"
NUVEM_TEST_S3_ENGINE=$(bash infra/seaweedfs.sh start "$NUVEM_TEST_S3_DIR")
export NUVEM_TEST_S3_ENGINE
export NUVEM_TEST_S3_CLIENTS="${NUVEM_S3_CLIENTS_VENV:-/opt/nuvem/s3-clients}/bin"
trap 'bash infra/postgres-test.sh stop >/dev/null 2>&1 || true; bash infra/seaweedfs.sh stop "$NUVEM_TEST_S3_DIR" >/dev/null 2>&1 || true' EXIT

step "formatting"
cargo fmt --all -- --check

step "lints (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build"
cargo build --workspace --bins --examples --locked

step "tests"
# A plain `cargo test` lists the tests that need PostgreSQL, root, libvirt/QEMU or Chromium as
# ignored; here they run too, and with CI=true a test that cannot run fails instead of skipping.
export CI="${CI:-true}"
cargo test --workspace --locked -- --include-ignored

step "all tests passed"
