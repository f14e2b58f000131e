"""Settings of the worker process that tests/clinic/test_outbox_worker.py starts and lets die.

The test settings with the database queue, and e-mails written to files (the test reads them from another
process) by a backend that kills its own process when about to send to CRASH_SENDING_TO.
"""

import os

from clinic.settings_test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
EMAIL_BACKEND = "tests.clinic.crashing_mail.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("TEST_EMAIL_DIR", "")
