#!/usr/bin/env bash
# `make run`: installs what is missing, builds, and starts the desktop app in local mode.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

apt_install "${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}"
need_toolchains
npm_install
build_ui
say "Building the desktop app (release)"
cargo build --release --locked -p salesdesk-desktop

app="$ROOT/target/release/salesdesk-desktop"
launch=("$app")
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # Without a session bus GTK starts helper daemons that outlive the app.
  launch=(dbus-run-session -- "${launch[@]}")
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  say "No display found: running Salesdesk under a virtual X display (Xvfb). The window is not visible;"
  say "use a desktop session to see it. Data: ${SALESDESK_DATA_DIR:-the OS data directory} (see README)."
  launch=(xvfb-run -a -s "-screen 0 1280x800x24" "${launch[@]}")
fi
say "Starting Salesdesk (local mode)"
exec "${launch[@]}"
