"""Production settings: HTTPS, secure cookies, browser protections, Content-Security-Policy, deploy check."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

BASE = Path(__file__).resolve().parents[2]
# The production environment documented in the README's "Security" section.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k7Qz-4vLx9_tR2mWp8sYb3nHc6jFd1gUe5aXo0iVq7ZrT2yNw-Ks3Pm8",
    "ALLOWED_HOSTS": "prolo.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://prolo.example.org",
    "BEHIND_PROXY": "1",
}


def clean_environment():
    """The environment without test-only switches (DJANGO_ALLOW_ASYNC_UNSAFE from the browser tests...)."""
    prefixes = ("DJANGO_", "SECURE_", "SESSION_", "AXES_", "CSRF_", "DEBUG", "DATABASE_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def run_settings(extra_env, code):
    env = clean_environment()
    env.update({"DJANGO_SETTINGS_MODULE": "clinic.settings", **PRODUCTION_ENV, **extra_env})
    return subprocess.run(  # noqa: S603  (our own test code, not input)
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; {code}"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_deploy_check_passes_with_the_documented_production_environment():
    env = {**clean_environment(), **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_https_protections_are_switched_off():
    env = {**clean_environment(), **PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_production_defaults_are_strict():
    result = run_settings(
        {},
        "print(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS,"
        " settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_PROXY_SSL_HEADER)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == (
        "True 31536000 True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_the_proxy_header_is_trusted_only_when_configured():
    result = run_settings({"BEHIND_PROXY": "0"}, "print(settings.SECURE_PROXY_SSL_HEADER)")
    assert result.stdout.split("\n")[-2] == "None"


def test_development_keeps_plain_http_and_no_hsts():
    result = run_settings(
        {"DEBUG": "1"},
        "print(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE)",
    )
    assert result.stdout.split("\n")[-2] == "False 0 False"


def test_plain_http_is_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_every_response_carries_the_browser_protections(client, db):
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_content_security_policy_allows_only_our_own_files(client, db):
    policy = client.get(reverse("login"), secure=True)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }


def test_session_and_csrf_cookies_are_secure_and_http_only(client, practitioner):
    response = client.post(
        reverse("login"),
        {"username": practitioner.username, "password": "correct-horse-battery"},
        secure=True,
    )
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] is True
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    csrf = client.get(reverse("password_change"), secure=True).cookies.get("csrftoken")
    if csrf is not None:
        assert csrf["secure"] is True


def test_htmx_is_told_not_to_inject_its_indicator_style(client_for, practitioner):
    html = client_for(practitioner).get(reverse("home"), secure=True).content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false}\'>' in html


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JSON_SCRIPT = re.compile(r'<script[^>]*type="application/json"', re.IGNORECASE)


@pytest.mark.parametrize(
    "template",
    sorted(p.relative_to(BASE) for root in ("templates", "jinja2") for p in (BASE / root).rglob("*.html")),
    ids=str,
)
def test_no_template_has_inline_script_or_event_handlers(template):
    text = (BASE / template).read_text()
    inline = [m.group(0) for m in INLINE_SCRIPT.finditer(text) if not JSON_SCRIPT.match(m.group(0))]
    assert not inline, f"{template}: move the script to static/js and load it with src"
    assert not EVENT_HANDLER.search(text), f"{template}: use a static script with data-* attributes"


def test_pages_render_no_inline_script(client_for, clinic_admin):
    html = client_for(clinic_admin).get(reverse("home"), secure=True).content.decode()
    assert not INLINE_SCRIPT.search(html)
