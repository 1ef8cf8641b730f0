#!/usr/bin/env bash
# install.sh - install the real-server test bed used by the e2e tests:
#   * Debian packages: dovecot-imapd openssl python3-venv eatmydata curl
#     systemd (systemd-analyze, for the contrib/systemd/ units' test)
#   * Radicale (CalDAV/CardDAV) in a venv:  $TESTBED/radicale-venv
#   * Xandikos (CalDAV/CardDAV) in a venv:  $TESTBED/xandikos-venv
#   * BottleCRM (PyPI django-crm, a Django REST CRM) in a venv on Python >= 3.12:
#                                           $TESTBED/bottlecrm-venv
#   * Cyrus IMAP 3.6 (Debian cyrus-common + cyrus-imapd, which conflict with
#     dovecot-imapd in apt): `apt-get download`ed and unpacked with dpkg-deb -x
#     into $TESTBED/cyrus-root (run from there by cyrus-up.sh), its libraries
#     (libical3 libpcre3 libxapian30) and sasl2-bin from apt, and the system
#     user `cyrus` (group mail) when run as root.
# $TESTBED is $REPO/.testbed unless CRMSYNC_TESTBED_HOME is set.
#
# Idempotent and quiet: prints nothing on success. Only what is missing is
# installed; `apt-get update` runs at most once, and only if a package must be
# installed. A venv counts as installed when its marker file holds the exact
# pinned requirement (bump a pin below and the venv is rebuilt). Warm: < 1 s.
# Output of the installers goes to $TESTBED/install.log (shown on failure).
#
# Env (all optional):
#   CRMSYNC_TESTBED_HOME  where the venvs live                   [$REPO/.testbed]
#   CRMSYNC_PYTHON312     python (>= 3.12) for the BottleCRM venv [auto: pyenv
#                         3.12*/3.13*, then python3.12/python3.13/python3 on PATH,
#                         then Debian's python3.12/python3.13 packages if apt has them]
#   CRMSYNC_RADICALE_PYTHON python for the Radicale and Xandikos venvs [/usr/bin/python3]
#   CRMSYNC_TESTBED_NO_APT=1  never call apt-get (fail if a package is missing)
set -euo pipefail

RADICALE_SPEC="radicale==3.9.0"
XANDIKOS_SPEC="xandikos==0.4.10"
BOTTLECRM_SPECS=("django-crm==1.35.0")  # pulls in gunicorn (used by bottlecrm-up.sh)
APT_PKGS=(dovecot-imapd openssl python3-venv eatmydata curl systemd)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TB=${CRMSYNC_TESTBED_HOME:-$REPO/.testbed}
mkdir -p "$TB"
LOG=$TB/install.log
# One install at a time (two test runs started together).
exec 9>"$TB/.install.lock"
flock 9

fail() { echo "scripts/testbed/install.sh: $*" >&2; exit 1; }
# run CMD...: append its output to the log; on failure show the log tail.
run() {
  echo "+ [$(date +%T)] $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 </dev/null || {
    echo "scripts/testbed/install.sh: FAILED: $*  (log: $LOG)" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  }
}

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=(sudo -n); fi
fi
APT_UPDATED=no
apt_update_once() {
  [ "$APT_UPDATED" = yes ] && return 0
  [ "${CRMSYNC_TESTBED_NO_APT:-0}" = 1 ] && fail "missing Debian packages and CRMSYNC_TESTBED_NO_APT=1"
  command -v apt-get >/dev/null || fail "apt-get not found: install by hand: ${APT_PKGS[*]}"
  run "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q
  APT_UPDATED=yes
}
apt_install() {
  apt_update_once
  run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@"
}
deb_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

# --- 1. Debian packages --------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do deb_installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi
# Debian's postinst may enable the system-wide dovecot service; the test bed never
# uses it (it runs private instances), and policy-rc.d usually keeps it stopped.

# venv_ok VENV MARKER_TEXT: the venv is complete and built from these pins.
venv_ok() { [ -x "$1/bin/python" ] && [ -f "$1/.crmsync-installed" ] && [ "$(cat "$1/.crmsync-installed")" = "$2" ]; }

# pip_venv VENV SPEC BIN: VENV holds exactly SPEC (pip requirement) with
# bin/BIN, built on the system python ($CRMSYNC_RADICALE_PYTHON overrides).
pip_venv() {
  local venv=$1 spec=$2 bin=$3 py
  venv_ok "$venv" "$spec" && [ -x "$venv/bin/$bin" ] && return 0
  py=${CRMSYNC_RADICALE_PYTHON:-}
  if [ -z "$py" ]; then
    if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=$(command -v python3) || fail "no python3"; fi
  fi
  rm -rf "$venv"
  run "$py" -m venv "$venv"
  run "$venv/bin/pip" install -q --disable-pip-version-check "$spec"
  echo "$spec" >"$venv/.crmsync-installed"
}

# --- 2. Radicale and Xandikos (issue 15: the DAV servers of the matrix) -----------
pip_venv "$TB/radicale-venv" "$RADICALE_SPEC" radicale
pip_venv "$TB/xandikos-venv" "$XANDIKOS_SPEC" xandikos

# --- 3. BottleCRM (needs Python >= 3.12) -------------------------------------------
py_ok() {  # usable python >= 3.12 with a working venv module
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}
find_py312() {
  local c
  if [ -n "${CRMSYNC_PYTHON312:-}" ]; then
    py_ok "$CRMSYNC_PYTHON312" && { echo "$CRMSYNC_PYTHON312"; return 0; }
    fail "CRMSYNC_PYTHON312=$CRMSYNC_PYTHON312 is not a Python >= 3.12 with venv"
  fi
  # pyenv installs (3.12 first: the version BottleCRM was verified with).
  for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3; do
    [ -x "$c" ] && py_ok "$c" && { echo "$c"; return 0; }
  done
  for c in python3.12 python3.13 python3.14 python3; do
    c=$(command -v "$c" 2>/dev/null) || continue
    py_ok "$c" && { echo "$c"; return 0; }
  done
  return 1
}
BVENV=$TB/bottlecrm-venv
BMARK="${BOTTLECRM_SPECS[*]}"
if ! venv_ok "$BVENV" "$BMARK" || [ ! -x "$BVENV/bin/gunicorn" ]; then
  PY312=$(find_py312) || {
    # Last resort: a Debian python3.12/3.13 package (bookworm has none; trixie has 3.13).
    if [ "${CRMSYNC_TESTBED_NO_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
      apt_update_once
      for v in 3.13 3.12; do
        if apt-cache show "python$v-venv" >/dev/null 2>&1; then
          apt_install "python$v" "python$v-venv"
          break
        fi
      done
    fi
    PY312=$(find_py312) || fail "BottleCRM (django-crm 1.35.0) needs Python >= 3.12 with the venv module, and none was found
  (looked in \$PYENV_ROOT/versions/3.12*, python3.12/python3.13 on PATH, Debian packages python3.12/python3.13).
  Install one, e.g. 'pyenv install 3.12' or 'apt-get install python3.12 python3.12-venv' where available,
  or point CRMSYNC_PYTHON312 at it."
  }
  rm -rf "$BVENV"
  run "$PY312" -m venv "$BVENV"
  run "$BVENV/bin/pip" install -q --disable-pip-version-check "${BOTTLECRM_SPECS[@]}"
  echo "$BMARK" >"$BVENV/.crmsync-installed"
fi
# --- 4. Cyrus IMAP, unpacked beside Dovecot -----------------------------------------
# apt would remove dovecot-imapd to install cyrus-imapd; the test bed only
# needs the binaries, so the two packages are unpacked into $CROOT and run from
# there (LD_LIBRARY_PATH=$CROOT/usr/lib/x86_64-linux-gnu). The marker holds the
# unpacked versions.
CYRUS_DEBS=(cyrus-common cyrus-imapd)
CYRUS_LIBS=(libical3 libpcre3 libxapian30 sasl2-bin libsasl2-modules)
CROOT=$TB/cyrus-root
missing=()
for p in "${CYRUS_LIBS[@]}"; do deb_installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi
if [ ! -x "$CROOT/usr/lib/cyrus/bin/master" ] || [ ! -s "$CROOT/.crmsync-installed" ]; then
  command -v apt-get >/dev/null || fail "apt-get not found: cannot fetch ${CYRUS_DEBS[*]}"
  DL=$(mktemp -d "$TB/.cyrus-dl.XXXXXX")
  # _apt cannot write into a 0700 mktemp dir; apt then downloads as root (a warning only).
  chmod 0755 "$DL"
  if ! (cd "$DL" && apt-get download "${CYRUS_DEBS[@]}") >>"$LOG" 2>&1 </dev/null; then
    apt_update_once
    (cd "$DL" && run apt-get download "${CYRUS_DEBS[@]}")
  fi
  rm -rf "$CROOT.new"
  mkdir -p "$CROOT.new"
  for deb in "$DL"/*.deb; do run dpkg-deb -x "$deb" "$CROOT.new"; done
  (cd "$DL" && for deb in *.deb; do echo "$deb"; done) >"$CROOT.new/.crmsync-installed"
  rm -rf "$DL" "$CROOT"
  mv "$CROOT.new" "$CROOT"
fi
[ -x "$CROOT/usr/lib/cyrus/bin/master" ] || fail "Cyrus unpacked into $CROOT has no usr/lib/cyrus/bin/master"
if [ "$(id -u)" = 0 ] && ! id cyrus >/dev/null 2>&1; then
  run useradd --system --gid mail --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cyrus
fi
exit 0
