#!/usr/bin/env bash
# dovecot-up.sh [--watch PID [--purge]] DIR PORT IMAPS_PORT [USERS]
#
# Start a throwaway, self-contained Dovecot 2.3 IMAP server on 127.0.0.1,
# independent of any system service: config, certificate, passwd file, maildirs,
# logs and sockets all live in DIR.
#   PORT        plain IMAP (LOGIN allowed without TLS; STARTTLS offered)
#   IMAPS_PORT  implicit TLS; 0 = off
#   USERS       "login:password ..." initial accounts (default: none)
#   --watch PID stop the server (down.sh) when process PID exits (env TB_WATCH_PID)
#   --purge     with --watch: also delete DIR then
#   env TB_IMAP_SELF_SIGNED=1: a self-signed server certificate, no CA
#
# Rootless: Dovecot refuses uid 0 for login and mail processes, so when the
# caller is root the whole instance runs as the system user $TB_IMAP_RUNAS
# (default tbmail, created if missing) via setpriv; DIR and its parents must
# be enterable by that user (a mkdtemp dir is 0700: chmod 0755 it).
#
# Users can be added while the server runs, no restart: write the file
# DIR/users.d/LOGIN holding the line "LOGIN:{PLAIN}PASSWORD" (create it under
# another name and rename it: atomic); usable at once. Lines appended to
# DIR/users work too, but only from the next second on (Dovecot 2.3 checks a
# passwd-file's mtime/size at most once per second). Maildirs are created on first login under DIR/mail/<login>/Maildir
# (LAYOUT=fs, hierarchy separator "/"; SPECIAL-USE Drafts Sent Junk Trash Archive).
# Deliver a message:  doveadm -c DIR/dovecot.conf save -u LOGIN -m MAILBOX <msg
#
# Output (stdout, eval-able KEY=VALUE lines):
#   TB_IMAP_PID TB_IMAP_PORT TB_IMAPS_PORT TB_IMAP_DIR TB_IMAP_CONF
#   TB_IMAP_CA (PEM of the throwaway CA that signed the server certificate
#   TB_IMAP_CERT: CN=localhost, SAN DNS:localhost, IP:127.0.0.1; trust TB_IMAP_CA)
#   TB_IMAP_USERS_FILE TB_IMAP_USERS_DIR TB_IMAP_RUNAS
# Exit status: 0 up, 3 not installed, 1 other failure (message + log tail on stderr).
# Daemon output goes to DIR/log/, never to the caller's stdout/stderr.
# shellcheck disable=SC2015 # "A && B || die": die exits
set -euo pipefail
TB_NAME=dovecot-up.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_parse_opts "$@"
set -- "${TB_ARGS[@]}"
[ $# -ge 3 ] && [ $# -le 4 ] || tb_die "usage: dovecot-up.sh [--watch PID [--purge]] DIR PORT IMAPS_PORT [USERS]"
PORT=$2 SPORT=$3 USERS=${4:-}
tb_check_port "$PORT"
[ "$SPORT" = 0 ] || tb_check_port "$SPORT"
command -v dovecot >/dev/null || tb_missing "dovecot not installed"
tb_prepare_dir "$1"
DIR=$TB_DIR
CONF=$DIR/dovecot.conf
PIDF=$DIR/run/master.pid
if [ -s "$PIDF" ] && tb_alive "$(cat "$PIDF")" dovecot; then
  tb_die "a dovecot already runs for $DIR (pid $(cat "$PIDF")); stop it with down.sh"
fi

# The unprivileged user that runs the whole instance.
if [ "$(id -u)" = 0 ]; then
  RUNAS=${TB_IMAP_RUNAS:-tbmail}
  if ! id "$RUNAS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUNAS" 2>/dev/null ||
      id "$RUNAS" >/dev/null 2>&1 || tb_die "cannot create user $RUNAS"   # lost a race: fine
  fi
else
  RUNAS=$(id -un)
fi
RUID=$(id -u "$RUNAS") RGID=$(id -g "$RUNAS") RGRP=$(id -gn "$RUNAS")
AS_RUNAS=()
[ "$(id -u)" = 0 ] && AS_RUNAS=(setpriv "--reuid=$RUID" "--regid=$RGID" --init-groups)
"${AS_RUNAS[@]}" test -x "$DIR/." ||
  tb_die "user $RUNAS cannot enter $DIR: make it and its parents mode 0755"

mkdir -p "$DIR/run" "$DIR/log" "$DIR/mail" "$DIR/ssl" "$DIR/users.d"
if [ ! -s "$DIR/ssl/cert.pem" ] && [ "${TB_IMAP_SELF_SIGNED:-0}" = 1 ]; then
  # TB_IMAP_SELF_SIGNED=1: a self-signed server certificate instead, as
  # `openssl req -x509` makes it by default (CA:TRUE, the case rustls calls
  # CaUsedAsEndEntity); TB_IMAP_CA is then that certificate itself.
  (
    cd "$DIR/ssl" &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1" \
        -keyout key.pem -out cert.pem &&
      cp cert.pem ca.pem
  ) >"$DIR/log/openssl.log" 2>&1 || tb_fail_log "$DIR/log/openssl.log" "openssl failed"
elif [ ! -s "$DIR/ssl/cert.pem" ]; then
  # A throwaway CA (TB_IMAP_CA, what clients trust) and a server certificate it
  # signs: CN=localhost, SAN DNS:localhost, IP:127.0.0.1 and "DNS:127.0.0.1" (for
  # clients such as mbsync 1.4 that only string-match DNS names). A separate CA
  # because webpki/rustls rejects a self-signed CA:TRUE cert used as the server's.
  # (errexit is off in the subshell, the left side of ||: hence the && chain)
  (
    EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    cd "$DIR/ssl" &&
      openssl req -x509 "${EC[@]}" -days 3650 -subj "/CN=crmsync test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout ca.key -out ca.pem &&
      openssl req -new "${EC[@]}" -subj /CN=localhost -keyout key.pem -out server.csr &&
      printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >server.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$$$RANDOM" \
        -days 3650 -extfile server.ext -out cert.pem &&
      rm -f ca.key server.csr server.ext
  ) >"$DIR/log/openssl.log" 2>&1 || tb_fail_log "$DIR/log/openssl.log" "openssl failed"
fi
# passwd-file, {PLAIN} passwords (see the header for adding users later).
: >"$DIR/users"
for up in $USERS; do echo "${up%%:*}:{PLAIN}${up#*:}" >>"$DIR/users"; done

SSLCONF="ssl = yes
ssl_cert = <$DIR/ssl/cert.pem
ssl_key = <$DIR/ssl/key.pem"
[ -r /usr/share/dovecot/dh.pem ] && SSLCONF="$SSLCONF
ssl_dh = </usr/share/dovecot/dh.pem"

cat >"$CONF" <<EOF
# Generated by scripts/testbed/dovecot-up.sh - rootless Dovecot, every process runs as $RUNAS.
base_dir = $DIR/run
state_dir = $DIR/run/state
log_path = $DIR/log/dovecot.log
info_log_path = $DIR/log/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = $RUNAS
default_internal_group = $RGRP
default_login_user = $RUNAS
first_valid_uid = $RUID
last_valid_uid = $RUID
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests try wrong passwords: no failure delay, and no per-IP auth penalty
# (anvil would delay every later login from 127.0.0.1 by 4..15 s). Dovecot 2.3
# disables the penalty when auth cannot connect to anvil-auth-penalty (mode 0).
auth_failure_delay = 0
$SSLCONF
# Hierarchy separator "/" (LAYOUT=fs: "." is allowed in names), as on most
# servers; the usual SPECIAL-USE mailboxes (flagged in LIST once they exist).
mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox "Sent Messages" {
    special_use = \Sent
  }
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Archive {
    special_use = \Archive
  }
}
# throwaway data: trade durability for speed
mail_fsync = never
mail_max_userip_connections = 1000
# Two passdbs: DIR/users (initial USERS, appendable) and one file per user in
# DIR/users.d/ (what tests add). Dovecot 2.3 stat()s a passwd-file at most once
# per second, so a line appended to DIR/users in the same second as the last
# login is not seen yet; a new users.d file is read on its user's first lookup.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/users
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/users.d/%u
}
userdb {
  driver = static
  args = uid=$RUID gid=$RGID home=$DIR/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $SPORT
    ssl = yes
  }
}
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth-worker {
  user = $RUNAS
}
EOF
[ "$(id -u)" = 0 ] && chown -R "$RUID:$RGID" "$DIR"
chmod 0755 "$DIR"

# Dovecot daemonizes itself; keep its fds off the caller's pipes anyway.
"${AS_RUNAS[@]}" dovecot -c "$CONF" </dev/null >>"$DIR/log/dovecot.stdout" 2>&1 ||
  tb_fail_log "$DIR/log/dovecot.log" "dovecot failed to start (see also $DIR/log/dovecot.stdout)"
for _ in $(seq 50); do [ -s "$PIDF" ] && break; sleep 0.1; done
[ -s "$PIDF" ] || tb_fail_log "$DIR/log/dovecot.log" "dovecot wrote no pid file"
PID=$(cat "$PIDF")
tb_wait_port "$PORT" "$PID" dovecot || tb_fail_log "$DIR/log/dovecot.log" "dovecot did not come up on port $PORT"
[ "$SPORT" = 0 ] || tb_wait_port "$SPORT" "$PID" dovecot ||
  tb_fail_log "$DIR/log/dovecot.log" "dovecot did not come up on port $SPORT"
tb_start_watcher
cat <<EOF
TB_IMAP_PID=$PID
TB_IMAP_PORT=$PORT
TB_IMAPS_PORT=$SPORT
TB_IMAP_DIR=$DIR
TB_IMAP_CONF=$CONF
TB_IMAP_CA=$DIR/ssl/ca.pem
TB_IMAP_CERT=$DIR/ssl/cert.pem
TB_IMAP_USERS_FILE=$DIR/users
TB_IMAP_USERS_DIR=$DIR/users.d
TB_IMAP_RUNAS=$RUNAS
EOF
