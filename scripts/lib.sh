# Shared helpers for the setup, run and test scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# Installs the Debian/Ubuntu packages given that are not installed yet; safe to run again.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get: see the README for other systems"
  say "Installing system packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building the desktop app needs (Tauri 2 on Linux: WebKitGTK 4.1 and friends).
BUILD_PACKAGES=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev)
# What running it without a display needs.
RUN_PACKAGES=(xvfb xauth dbus dbus-x11)
# What the tests add: WebDriver for WebKit, a real Secret Service, PostgreSQL server binaries.
TEST_PACKAGES=(webkit2gtk-driver gnome-keyring postgresql)

need_toolchains() {
  command -v cargo >/dev/null || die "Rust is not installed: install it with rustup (https://rustup.rs), then run this again"
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  local v; v="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' \
    || die "Node.js $v is too old: the UI build needs Node.js 20.19 or newer"
}

# npm packages, exactly as locked; skipped when node_modules already matches the lock file.
npm_install() {
  local stamp="$ROOT/ui/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/ui/package-lock.json" "$ROOT/ui/node_modules/.salesdesk-lock"; then
    say "Installing npm packages (npm ci)"
    (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/ui/package-lock.json" "$ROOT/ui/node_modules/.salesdesk-lock"
  fi
}

build_ui() {
  say "Building the UI"
  (cd "$ROOT/ui" && npm run --silent build)
}
