#!/usr/bin/env bash
# watch.sh PID STARTTIME DIR [--purge] - started (detached) by the *-up.sh
# scripts for --watch PID: waits until process PID (the one with that start
# time) is gone, then stops the servers of DIR with down.sh.
set -u
TB_NAME=watch.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PID=$1 START=$2 DIR=$3
while [ "$(tb_pid_start "$PID")" = "$START" ]; do sleep 0.5; done
echo "$(date '+%F %T') watch.sh: process $PID is gone, stopping servers in $DIR"
exec "$TB_HERE/down.sh" ${4:+"$4"} "$DIR"
