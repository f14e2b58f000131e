"""Test settings: the production module with a fast hasher, in-memory email and plain static storage."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")

from clinic.settings import *  # noqa: F403
from clinic.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Serve static files straight from the finders: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
