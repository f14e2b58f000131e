"""CONSENT_UPLOAD_MAX_BYTES and RESEARCH_KEY come from the environment with safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parents[2]
READ = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.CONSENT_UPLOAD_MAX_BYTES, s.RESEARCH_KEY == s.SECRET_KEY, s.RESEARCH_KEY[:6])"
)


def settings_with(**env):
    environ = {k: v for k, v in os.environ.items() if k not in ("CONSENT_UPLOAD_MAX_BYTES", "RESEARCH_KEY")}
    environ.update(DJANGO_SETTINGS_MODULE="clinic.settings", DEBUG="1", **env)
    result = subprocess.run(  # noqa: S603  (our own interpreter and code, not input)
        [sys.executable, "-c", READ], cwd=BASE, env=environ, capture_output=True, text=True, check=True
    )
    size, same, prefix = result.stdout.split()
    return int(size), same == "True", prefix


def test_uploads_default_to_10_mb_and_the_research_key_to_the_secret_key():
    assert settings_with()[:2] == (10 * 1024 * 1024, True)


def test_both_can_be_set_from_the_environment():
    assert settings_with(CONSENT_UPLOAD_MAX_BYTES="2048", RESEARCH_KEY="rk-0123456789") == (
        2048,
        False,
        "rk-012",
    )


def test_the_research_pseudonyms_follow_the_research_key(settings):
    from outcomes.exports import pseudonym

    settings.RESEARCH_KEY = "one key"
    first = pseudonym("patient", 7)
    settings.RESEARCH_KEY = "another key"
    assert pseudonym("patient", 7) != first
    settings.SECRET_KEY = "rotated secret key " * 3
    settings.RESEARCH_KEY = "one key"
    assert pseudonym("patient", 7) == first  # rotating SECRET_KEY leaves the pseudonyms alone
