#!/usr/bin/env bash
# Measures a desktop binary the way the issue asks: time from exec to its window being mapped,
# and the memory (RSS, and PSS which counts shared pages once) of all its processes 3 s later.
# Runs under Xvfb in a private D-Bus session with a throwaway HOME and data directory.
#   scripts/measure-desktop.sh BINARY WINDOW_TITLE [RUNS]
# Used for Salesdesk and for bench/minimal-tauri (the baseline); needs xdotool and xvfb.
set -euo pipefail
bin="$(realpath "$1")"; title="$2"; runs="${3:-5}"

if [ "${MEASURE_INNER:-}" != 1 ]; then
  sandbox="$(mktemp -d)"; trap 'rm -rf "$sandbox"' EXIT
  mkdir -p "$sandbox"/{home,data,runtime}; chmod 700 "$sandbox/runtime"
  exec env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS MEASURE_INNER=1 HOME="$sandbox/home" \
    XDG_RUNTIME_DIR="$sandbox/runtime" SALESDESK_DATA_DIR="$sandbox/data" NO_AT_BRIDGE=1 \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
field() { awk -v k="$1:" '$1==k {s+=$2} END {print s+0}'; }

for i in $(seq "$runs"); do
  t0=$(date +%s%N)
  "$bin" >/dev/null 2>&1 &
  app=$!
  xdotool search --sync --onlyvisible --name "^${title}\$" >/dev/null
  t1=$(date +%s%N)
  sleep 3
  pids="$app $(descendants "$app")"
  rollups=""; n=0
  for p in $pids; do [ -r "/proc/$p/smaps_rollup" ] && rollups+="/proc/$p/smaps_rollup " && n=$((n+1)); done
  rss=$(cat $rollups | field Rss); pss=$(cat $rollups | field Pss)
  printf 'run %d: window mapped after %d ms; %d processes; RSS %d MiB; PSS %d MiB\n' \
    "$i" $(( (t1 - t0) / 1000000 )) "$n" $((rss / 1024)) $((pss / 1024))
  kill "$app"; wait "$app" 2>/dev/null || true
  sleep 0.5
done
