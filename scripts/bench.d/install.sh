#!/usr/bin/env bash
# scripts/bench.d/install.sh - what scripts/bench needs beyond the test bed
# (scripts/testbed/install.sh: Dovecot, Radicale, eatmydata, curl):
#   * Debian packages: isync (mbsync), vdirsyncer (for scripts/bench-calendar),
#     time (GNU /usr/bin/time -v for peak RSS).
# Idempotent and quiet like the test-bed installer: only what is missing is
# installed, `apt-get update` at most once and only when needed; installer
# output goes to $TESTBED/install.log (shown on failure).
# Env: CRMSYNC_TESTBED_HOME [$REPO/.testbed], CRMSYNC_TESTBED_NO_APT=1 (never
# call apt-get: fail naming what is missing).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TB=${CRMSYNC_TESTBED_HOME:-$REPO/.testbed}
mkdir -p "$TB"
LOG=$TB/install.log
exec 9>"$TB/.install.lock"
flock 9

APT_PKGS=(isync vdirsyncer time)
fail() { echo "scripts/bench.d/install.sh: $*" >&2; exit 1; }
run() {
  echo "+ [$(date +%T)] $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 </dev/null || {
    echo "scripts/bench.d/install.sh: FAILED: $*  (log: $LOG)" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  }
}
deb_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }
missing=()
for p in "${APT_PKGS[@]}"; do deb_installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "${CRMSYNC_TESTBED_NO_APT:-0}" = 1 ] && fail "missing Debian packages (${missing[*]}) and CRMSYNC_TESTBED_NO_APT=1"
command -v apt-get >/dev/null || fail "apt-get not found: install by hand: ${missing[*]}"
SUDO=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=(sudo -n); fi
run "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
