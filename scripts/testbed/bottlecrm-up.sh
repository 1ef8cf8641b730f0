#!/usr/bin/env bash
# bottlecrm-up.sh [--watch PID [--purge]] DIR PORT
#
# Start a fresh BottleCRM (PyPI django-crm 1.35.0, Django REST Framework) on
# 127.0.0.1:PORT with a new SQLite database DIR/crm.sqlite3, served by gunicorn
# from the venv made by scripts/testbed/install.sh
# ($CRMSYNC_TESTBED_HOME/bottlecrm-venv, default $REPO/.testbed; override with
# TB_BOTTLECRM_VENV). The schema is built straight from the models
# (bottlecrm/fastsettings.py) instead of running the 253 migrations, once;
# later starts copy that database (start-up then ~2-3 s).
#   --watch PID stop the server (down.sh) when process PID exits (env TB_WATCH_PID)
#   --purge     with --watch: also delete DIR then
#
# Creates a superuser admin@example.test, org "TestOrg" and a personal access
# token: send "Authorization: Bearer $CRM_TOKEN". More orgs (tenants, each with
# its own token) while it runs: scripts/testbed/bottlecrm-tenant.sh DIR NAME.
#
# Output (stdout, eval-able KEY=VALUE lines):
#   CRM_URL CRM_TOKEN CRM_ORG_ID TB_CRM_PID TB_CRM_PORT TB_CRM_DIR
# Exit status: 0 up, 3 not installed, 1 other failure (message + log tail on stderr).
# Daemon output goes to DIR/*.log, never to the caller's stdout/stderr.
# shellcheck disable=SC2015 # "A && B || die": die exits
set -euo pipefail
TB_NAME=bottlecrm-up.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tb_parse_opts "$@"
set -- "${TB_ARGS[@]}"
[ $# -eq 2 ] || tb_die "usage: bottlecrm-up.sh [--watch PID [--purge]] DIR PORT"
PORT=$2
tb_check_port "$PORT"
VENV=${TB_BOTTLECRM_VENV:-$TB_HOME/bottlecrm-venv}
[ -x "$VENV/bin/gunicorn" ] && [ -x "$VENV/bin/django-admin" ] ||
  tb_missing "BottleCRM not installed in $VENV"
tb_prepare_dir "$1"
DIR=$TB_DIR
PIDF=$DIR/gunicorn.pid
if [ -s "$PIDF" ] && tb_alive "$(cat "$PIDF")" gunicorn; then
  tb_die "a bottlecrm already runs for $DIR (pid $(cat "$PIDF")); stop it with down.sh"
fi

# The environment of every Django process of this instance (also used by
# bottlecrm-tenant.sh).
cat >"$DIR/env.sh" <<EOF
export PYTHONPATH=$TB_HERE/bottlecrm
export DJANGO_SETTINGS_MODULE=fastsettings
export CRM_SQLITE=$DIR/crm.sqlite3 CRM_LOG_DIR=$DIR
export SECRET_KEY=test-secret-key-for-ci-only-0123456789abcdef
export ENV_TYPE=dev DEBUG=true PYTHONDONTWRITEBYTECODE=1
export PATH=$VENV/bin:\$PATH
EOF
# shellcheck source=/dev/null
. "$DIR/env.sh"
cd "$DIR"   # cwd of the server: never the caller's

# A fresh database = a copy of a template built once (schema + admin, org and
# token: ~8 s) and cached in $TB_HOME/bottlecrm-db/<hash of the settings and
# pins>/. All copies share the admin token, each has its own data.
KEY=$(cat "$TB_HERE"/bottlecrm/*.py "$VENV/.crmsync-installed" 2>/dev/null | sha256sum | cut -c1-16)
TPL=$TB_HOME/bottlecrm-db/$KEY
if [ ! -s "$TPL/bootstrap.out" ]; then
  mkdir -p "$TB_HOME/bottlecrm-db"
  (
    flock 9   # concurrent test processes: one builds, the others wait
    # (errexit is off in here: this subshell is the left side of ||)
    [ -s "$TPL/bootstrap.out" ] && exit 0
    rm -rf "$TPL.tmp" && mkdir -p "$TPL.tmp" || exit 1
    CRM_SQLITE=$TPL.tmp/crm.sqlite3 python "$TB_HERE/bottlecrm/mkdb.py" \
      </dev/null >"$TPL.tmp/bootstrap.out" 2>"$DIR/mkdb.log" || exit 1
    grep -q '^PAT=' "$TPL.tmp/bootstrap.out" || exit 1
    rm -f "$TPL.tmp"/crm.sqlite3-*   # closed cleanly: WAL checkpointed
    rm -rf "$TPL" && mv "$TPL.tmp" "$TPL"
  ) 9>"$TB_HOME/bottlecrm-db/.lock" || tb_fail_log "$DIR/mkdb.log" "building the database failed"
fi
rm -f "$DIR"/crm.sqlite3*
cp "$TPL/crm.sqlite3" "$DIR/crm.sqlite3"
TOKEN=$(sed -n 's/^PAT=//p' "$TPL/bootstrap.out")
ORG=$(sed -n 's/^ORG_ID=//p' "$TPL/bootstrap.out")
[ -n "$TOKEN" ] || tb_fail_log "$TPL/bootstrap.out" "no token in the database template"

# Two workers (2 cores here), threads so that slow requests do not queue;
# --preload: import Django once in the master, not once per worker.
setsid gunicorn --bind "127.0.0.1:$PORT" --workers 2 --threads 4 --preload --timeout 120 \
  --graceful-timeout 3 --pid "$PIDF" --access-logfile - --error-logfile - \
  crm.wsgi:application </dev/null >>"$DIR/gunicorn.log" 2>&1 &
PID=$!
echo "$PID" >"$PIDF"   # gunicorn rewrites it with the same PID (the master)
tb_wait_port "$PORT" "$PID" gunicorn 300 ||
  tb_fail_log "$DIR/gunicorn.log" "gunicorn did not come up on port $PORT"
# Ready = a worker answers.
ok=no
for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz/" 2>/dev/null; then ok=yes; break; fi
  tb_alive "$PID" gunicorn || break
  sleep 0.1
done
[ $ok = yes ] || tb_fail_log "$DIR/gunicorn.log" "bottlecrm /healthz/ did not answer"
tb_start_watcher
cat <<EOF
CRM_URL=http://127.0.0.1:$PORT
CRM_TOKEN=$TOKEN
CRM_ORG_ID=$ORG
TB_CRM_PID=$PID
TB_CRM_PORT=$PORT
TB_CRM_DIR=$DIR
EOF
