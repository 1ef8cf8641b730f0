# python mkdb.py (environment from bottlecrm-up.sh): build a fresh BottleCRM
# SQLite database at $CRM_SQLITE - schema straight from the models
# (fastsettings.py), then bootstrap.py (admin, org, token; prints ORG_ID/PAT).
# One Python process for both: Django's start-up costs ~1.5 s each time.
import django

django.setup()
from django.core.management import call_command  # noqa: E402

call_command("migrate", run_syncdb=True, interactive=False, verbosity=1)
import bootstrap  # noqa: E402,F401  (runs on import)
