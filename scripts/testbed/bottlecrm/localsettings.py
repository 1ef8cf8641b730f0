# BottleCRM (PyPI django-crm) settings for a throwaway loopback test server.
from crm.settings import *  # noqa: F401,F403
import os
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ["CRM_SQLITE"],
    # gunicorn runs 2+ worker processes on one SQLite file: wait for locks
    # instead of failing, take the write lock up front, no fsync (test data).
    "OPTIONS": {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
    },
}}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# crm.settings logs to files named relative to the working directory
# (server.log, security_audit.log): put them into the instance's directory.
if os.environ.get("CRM_LOG_DIR"):
    for _handler in LOGGING.get("handlers", {}).values():  # noqa: F405
        if "filename" in _handler:
            _handler["filename"] = os.path.join(os.environ["CRM_LOG_DIR"], os.path.basename(_handler["filename"]))
