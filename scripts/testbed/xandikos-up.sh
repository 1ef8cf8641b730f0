#!/usr/bin/env bash
# xandikos-up.sh [--watch PID [--purge]] DIR PORT
#
# Start a throwaway Xandikos CalDAV/CardDAV server (`xandikos serve`, single
# user, plain HTTP) on 127.0.0.1:PORT from the venv made by
# scripts/testbed/install.sh ($CRMSYNC_TESTBED_HOME/xandikos-venv, default
# $REPO/.testbed; override the binary with TB_XANDIKOS_BIN).
#   --watch PID stop the server (down.sh) when process PID exits (env TB_WATCH_PID)
#   --purge     with --watch: also delete DIR then
#
# Xandikos has no accounts of its own: every request is the one principal
# /user/ (the current-user-principal), whatever credentials it carries. Its
# home sets are /user/calendars/ and /user/contacts/, made empty at start
# (--autocreate, no default collections); make collections with MKCALENDAR /
# extended MKCOL (RFC 4791, RFC 5689). One instance per test keeps tests
# apart (tests/e2e/harness.rs: xandikos()).
# Runs under eatmydata (no fsync) when available: throwaway data.
#
# Output (stdout, eval-able KEY=VALUE lines):
#   TB_XANDIKOS_PID TB_XANDIKOS_PORT TB_XANDIKOS_URL TB_XANDIKOS_DIR
#   TB_XANDIKOS_PRINCIPAL TB_XANDIKOS_CALENDARS TB_XANDIKOS_CONTACTS (paths)
# Exit status: 0 up, 3 not installed, 1 other failure (message + log tail on stderr).
# Daemon output goes to DIR/xandikos.log, never to the caller's stdout/stderr.
# shellcheck disable=SC2015 # "A && B || die": die exits
set -euo pipefail
TB_NAME=xandikos-up.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_parse_opts "$@"
set -- "${TB_ARGS[@]}"
[ $# -eq 2 ] || tb_die "usage: xandikos-up.sh [--watch PID [--purge]] DIR PORT"
PORT=$2
tb_check_port "$PORT"
XAN=${TB_XANDIKOS_BIN:-$TB_HOME/xandikos-venv/bin/xandikos}
[ -x "$XAN" ] || tb_missing "xandikos not installed at $XAN"
tb_prepare_dir "$1"
DIR=$TB_DIR
PIDF=$DIR/xandikos.pid
if [ -s "$PIDF" ] && tb_alive "$(cat "$PIDF")" xandikos; then
  tb_die "a xandikos already runs for $DIR (pid $(cat "$PIDF")); stop it with down.sh"
fi
mkdir -p "$DIR/data" "$DIR/state"

# Xandikos does not daemonize: detach it (own session, fds to files).
# eatmydata execs the command, so $! is Xandikos's own PID. --state-dir keeps
# it out of $XDG_DATA_HOME; no systemd socket activation.
NOSYNC=()
command -v eatmydata >/dev/null && NOSYNC=(eatmydata)
cd "$DIR"
setsid "${NOSYNC[@]}" "$XAN" serve -d "$DIR/data" --autocreate \
  --current-user-principal /user/ --no-detect-systemd --state-dir "$DIR/state" \
  -l 127.0.0.1 -p "$PORT" </dev/null >>"$DIR/xandikos.log" 2>&1 &
PID=$!
echo "$PID" >"$PIDF"
# Up to 120 s: a loaded CI machine imports aiohttp, dulwich and icalendar slowly
# (tb_wait_port gives up at once if the process dies).
tb_wait_port "$PORT" "$PID" xandikos 1200 ||
  tb_fail_log "$DIR/xandikos.log" "xandikos did not come up on port $PORT"
tb_start_watcher
cat <<EOF
TB_XANDIKOS_PID=$PID
TB_XANDIKOS_PORT=$PORT
TB_XANDIKOS_URL=http://127.0.0.1:$PORT/
TB_XANDIKOS_DIR=$DIR
TB_XANDIKOS_PRINCIPAL=/user/
TB_XANDIKOS_CALENDARS=/user/calendars/
TB_XANDIKOS_CONTACTS=/user/contacts/
EOF
