# Runs on import (mkdb.py, ../bottlecrm-tenant.sh) or `django-admin shell < bootstrap.py`.
# Creates (or reuses) a superuser, an org, the user's ADMIN profile in it and a
# new personal access token; prints ORG_ID=... and PAT=... (the raw token).
# Env: CRM_ORG_NAME [TestOrg], CRM_ADMIN_EMAIL [admin@example.test].
import os
from django.contrib.auth import get_user_model
from common.models import Org, Profile, PersonalAccessToken
User = get_user_model()
user, _ = User.objects.get_or_create(email=os.environ.get("CRM_ADMIN_EMAIL", "admin@example.test"))
user.is_superuser = True; user.is_staff = True; user.is_active = True
user.set_password("admin-pass-123"); user.save()
org, _ = Org.objects.get_or_create(name=os.environ.get("CRM_ORG_NAME", "TestOrg"))
profile, _ = Profile.objects.get_or_create(user=user, org=org, defaults={"role": "ADMIN"})
profile.role = "ADMIN"; profile.is_active = True; profile.save()
raw, pat = PersonalAccessToken.generate(profile, "ci-token")
print("ORG_ID=%s" % org.id)
print("PAT=%s" % raw)
