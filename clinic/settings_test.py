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
# The test client speaks plain HTTP; tests that check the redirect turn it back on.
SECURE_SSL_REDIRECT = False
# Django's test client signs in without a request, which django-axes refuses; tests/clinic/test_lockout.py
# turns it on to prove the lockout.
AXES_ENABLED = False
# Tasks run at once, in the process that enqueues them (after commit). tests/clinic/test_outbox_worker.py
# switches to the database backend and runs its real worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
