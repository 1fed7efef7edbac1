#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every check: UI type check, lint and unit
# tests, rustfmt, clippy, and every Rust test including the end-to-end test of the real
# desktop window under Xvfb. Exits non-zero when anything fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
start=$(date +%s)

apt_install "${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
need_toolchains
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "Installing tauri-driver (WebDriver for the desktop app)"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
npm_install

say "UI: svelte-check, eslint, vitest"
(cd ui && npm run --silent check && npm run --silent lint && npm test --silent)
build_ui

say "Rust: rustfmt, clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# This also builds the desktop binary that the end-to-end test drives.
say "Rust: building the tests and the desktop app"
cargo test --workspace --locked --no-run

# Tests run with their own HOME and XDG folders, a private D-Bus session and a virtual display,
# so nothing of the user's (keyring, config, data) is touched and nothing is left running.
sandbox="$(mktemp -d -t salesdesk-test-XXXXXX)"
cleanup() {
  # The desktop portal that GTK activates mounts a FUSE folder in XDG_RUNTIME_DIR and may take
  # a moment to exit after the bus closes: unmount it, then remove the sandbox.
  local status=$?
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    fusermount -u "$sandbox/runtime/doc" 2>/dev/null || true
    rm -rf "$sandbox" 2>/dev/null && break
    sleep 0.5
  done
  exit "$status"
}
trap cleanup EXIT
mkdir -p "$sandbox"/{home,config,cache,share,runtime}
chmod 700 "$sandbox/runtime"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$sandbox/home" XDG_CONFIG_HOME="$sandbox/config" XDG_CACHE_HOME="$sandbox/cache" \
  XDG_DATA_HOME="$sandbox/share" XDG_RUNTIME_DIR="$sandbox/runtime"
export SALESDESK_DATA_DIR="$sandbox/data-should-not-be-used" SALESDESK_E2E_REQUIRED=1
export SALESDESK_ARTIFACTS="$ROOT/artifacts" NO_AT_BRIDGE=1
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS

say "Rust: all tests (private D-Bus session, Xvfb)"
dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test --workspace --locked

if [ -e "$SALESDESK_DATA_DIR" ]; then
  die "a test wrote to the default data directory instead of its own temporary one"
fi
say "All checks passed in $(( $(date +%s) - start )) s. Screenshots: artifacts/"
