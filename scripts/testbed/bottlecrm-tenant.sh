#!/usr/bin/env bash
# bottlecrm-tenant.sh DIR NAME - add an org NAME (a tenant: its own accounts,
# contacts, ...) to the running BottleCRM of DIR (see bottlecrm-up.sh), with the
# admin user as its ADMIN and a new personal access token for it.
# Output (eval-able): CRM_TOKEN=... CRM_ORG_ID=...   Takes ~1.5 s (Django start-up).
set -euo pipefail
TB_NAME=bottlecrm-tenant.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 2 ] || tb_die "usage: bottlecrm-tenant.sh DIR NAME"
DIR=$1
[ -f "$DIR/env.sh" ] || tb_die "no BottleCRM in $DIR (start it with bottlecrm-up.sh)"
# shellcheck source=/dev/null
. "$DIR/env.sh"
OUT=$(CRM_ORG_NAME=$2 python -c 'import django; django.setup(); import bootstrap' \
  </dev/null 2>"$DIR/tenant.log") || {
  echo "$TB_NAME: bootstrap failed:" >&2; tail -n 30 "$DIR/tenant.log" >&2; exit 1
}
TOKEN=$(sed -n 's/^PAT=//p' <<<"$OUT")
[ -n "$TOKEN" ] || tb_die "no token printed: $OUT"
echo "CRM_TOKEN=$TOKEN"
echo "CRM_ORG_ID=$(sed -n 's/^ORG_ID=//p' <<<"$OUT")"
