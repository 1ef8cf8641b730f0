#!/usr/bin/env bash
# down.sh [--purge] DIR - stop every test-bed server started in DIR by
# dovecot-up.sh, cyrus-up.sh, radicale-up.sh, xandikos-up.sh or bottlecrm-up.sh, and its
# --watch watcher.
# Kills only the PIDs from DIR's own pid files (checked against their command
# line, so a reused PID is never hit): TERM (gunicorn: INT), then KILL after 5 s.
# --purge: then delete DIR (only if it holds the .crmsync-testbed marker).
# Idempotent; exits 0 when nothing runs.
set -u
TB_NAME=down.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PURGE=no
[ "${1:-}" = --purge ] && { PURGE=yes; shift; }
DIR=${1:?usage: down.sh [--purge] DIR}
[ -d "$DIR" ] || exit 0
DIR=$(cd "$DIR" && pwd)

# stop PIDFILE PATTERN NAME [SIGNAL]
stop() {
  local pidf=$1 pat=$2 name=$3 sig=${4:-TERM} pid i
  [ -s "$pidf" ] || return 0
  pid=$(cat "$pidf")
  if tb_alive "$pid" "$pat"; then
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do tb_alive "$pid" "$pat" || break; sleep 0.1; done
    if tb_alive "$pid" "$pat"; then
      kill -9 "$pid" 2>/dev/null || true
      echo "killed $name $pid (did not stop on TERM)"
    else
      echo "stopped $name $pid"
    fi
  fi
  rm -f "$pidf"
}

stop "$DIR/run/master.pid" dovecot dovecot   # Dovecot master stops its children
stop "$DIR/run/cyrus-master.pid" cyrus/bin/master cyrus   # master stops its children
stop "$DIR/syslog.pid" syslog-catch.py syslog-catch   # after Cyrus: its last words
stop "$DIR/radicale.pid" radicale radicale
stop "$DIR/xandikos.pid" xandikos xandikos
stop "$DIR/gunicorn.pid" gunicorn bottlecrm INT   # INT: quick shutdown (TERM waits for requests)
# The watcher, unless it is the one running us (it execs down.sh).
if [ -s "$DIR/watch.pid" ] && [ "$(cat "$DIR/watch.pid")" != $$ ]; then
  stop "$DIR/watch.pid" watch.sh watcher >/dev/null
fi
rm -f "$DIR/watch.pid"
if [ "$PURGE" = yes ] && [ -f "$DIR/.crmsync-testbed" ]; then
  rm -rf "$DIR"
fi
exit 0
