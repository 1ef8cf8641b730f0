# lib.sh - helpers shared by the scripts/testbed/*-up.sh scripts (sourced, bash).
# shellcheck shell=bash

TB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_REPO=$(cd "$TB_HERE/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this
TB_HOME=${CRMSYNC_TESTBED_HOME:-$TB_REPO/.testbed}

# dovecot, doveadm, useradd live in sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

tb_die() { echo "$TB_NAME: $*" >&2; exit 1; }
# tb_missing MSG: a server that is not installed: exit 3 (callers may skip).
tb_missing() { echo "$TB_NAME: $* (run scripts/testbed/install.sh)" >&2; exit 3; }

# tb_parse_opts "$@": sets TB_WATCH, TB_PURGE and the array TB_ARGS (positionals).
#   --watch PID   stop the server (scripts/testbed/down.sh) once process PID exits
#                 (env: TB_WATCH_PID)
#   --purge       with --watch: also delete DIR then (env: TB_PURGE=yes)
tb_parse_opts() {
  TB_WATCH=${TB_WATCH_PID:-}
  TB_PURGE=${TB_PURGE:-no}
  TB_ARGS=()
  while [ $# -gt 0 ]; do
    case $1 in
      --watch) [ $# -ge 2 ] || tb_die "--watch needs a PID"; TB_WATCH=$2; shift 2 ;;
      --watch=*) TB_WATCH=${1#--watch=}; shift ;;
      --purge) TB_PURGE=yes; shift ;;
      -h|--help) awk 'NR > 1 && /^#/ && !/shellcheck/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      --) shift; TB_ARGS+=("$@"); break ;;
      -*) tb_die "unknown option $1" ;;
      *) TB_ARGS+=("$1"); shift ;;
    esac
  done
  if [ -n "$TB_WATCH" ]; then
    case $TB_WATCH in *[!0-9]*|'') tb_die "--watch: not a PID: $TB_WATCH" ;; esac
    [ -d "/proc/$TB_WATCH" ] || tb_die "--watch: no process $TB_WATCH"
  fi
}

# tb_prepare_dir DIR: create DIR (absolute, no whitespace) and mark it as ours.
tb_prepare_dir() {
  mkdir -p "$1"
  TB_DIR=$(cd "$1" && pwd)
  case $TB_DIR in *[[:space:]]*) tb_die "DIR must not contain whitespace: $TB_DIR" ;; esac
  : >"$TB_DIR/.crmsync-testbed"   # down.sh --purge only deletes dirs holding this marker
}

# tb_check_port PORT
tb_check_port() {
  case $1 in ''|*[!0-9]*) tb_die "bad port: '$1'" ;; esac
  if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then tb_die "bad port: $1"; fi
}

# tb_pid_start PID: the process start time (clock ticks since boot), to tell a
# process from a later one that reuses its PID.
tb_pid_start() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 0
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo "${20}"
}

# tb_alive PID PATTERN: PID is a live process whose command line matches PATTERN
# (a reaped-late zombie has an empty cmdline, so this is stricter than kill -0).
tb_alive() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -q -- "$2"; }

# tb_owns_port PORT PID: PID holds the socket listening on 127.0.0.1:PORT.
# (Stricter than "something accepts connections there": a port grabbed by
# another process between our probe and the server's bind is not mistaken for
# our server.)
tb_owns_port() {
  local hex inode
  printf -v hex '%04X' "$1"
  inode=$(awk -v a="0100007F:$hex" '$2 == a && $4 == "0A" { print $10; exit }' /proc/net/tcp)
  [ -n "$inode" ] || return 1
  [ -n "$(find "/proc/$2/fd" -lname "socket:\[$inode\]" 2>/dev/null | head -n 1)" ]
}

# tb_wait_port PORT PID PATTERN [TRIES]: wait (0.1 s steps) until process PID
# listens on 127.0.0.1:PORT; give up early when PID (its command line matching
# PATTERN) is gone.
tb_wait_port() {
  local port=$1 pid=$2 pat=$3 tries=${4:-100} i
  for ((i = 0; i < tries; i++)); do
    tb_owns_port "$port" "$pid" && return 0
    tb_alive "$pid" "$pat" || return 1
    sleep 0.1
  done
  return 1
}

# tb_start_watcher: if --watch PID was given, start a detached watcher that runs
# `down.sh [--purge] DIR` once PID is gone. Its output goes to DIR/watch.log.
tb_start_watcher() {
  [ -n "$TB_WATCH" ] || return 0
  local start purge=
  start=$(tb_pid_start "$TB_WATCH")
  [ -n "$start" ] || tb_die "--watch: no process $TB_WATCH"
  [ "$TB_PURGE" = yes ] && purge=--purge
  # setsid: own session, so a ^C to the test's process group cannot kill it;
  # all fds away from the caller's pipes.
  setsid "$TB_HERE/watch.sh" "$TB_WATCH" "$start" "$TB_DIR" $purge \
    </dev/null >>"$TB_DIR/watch.log" 2>&1 &
  echo $! >"$TB_DIR/watch.pid"
}

# tb_fail_log FILE MSG: print MSG and the tail of FILE to stderr, stop the
# partly started server, exit 1.
tb_fail_log() {
  echo "$TB_NAME: $2" >&2
  [ -f "$1" ] && { echo "--- tail of $1:" >&2; tail -n 30 "$1" >&2; }
  "$TB_HERE/down.sh" "$TB_DIR" >/dev/null 2>&1 || true
  exit 1
}
