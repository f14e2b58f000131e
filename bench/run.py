# ruff: noqa: S603, S310 - runs our own tools (manage.py, gunicorn, locust) and reads our loopback server
"""`make bench`: ProloTrack's pages under load at clinic scale, against a floor and a peer.

Against DATABASE_URL (PostgreSQL for published figures): seeds the scale data if missing, collects the
static files, starts gunicorn (2 sync workers, production settings) on 127.0.0.1, then drives each page
with locust (10 users, BENCH_SECONDS each, no think time), and writes bench/results/latest.json and a
table. BENCH_SCALE (default 20000) is the number of patients seeded when none are there.

Two API requests run beside the pages that answer the same question (bench/pages.py API_PAGES), with a
bearer token: each API row carries its ratio to that page, and a line says so when the API is slower.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from pages import API_PAGES  # bench/, this script's folder

BASE = Path(__file__).resolve().parent.parent
BIN = BASE / ".venv" / "bin"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
HOST = f"http://127.0.0.1:{PORT}"
USERS = 10
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
SCALE = int(os.environ.get("BENCH_SCALE", "20000"))
PAGES = [
    "patient_search",
    "api_patient_search",
    "patient_page",
    "course_page",
    "api_course_read",
    "session_log_get",
    "session_log_post",
    "day_calendar",
    "week_calendar",
    "outcomes_dashboard",
    "outcomes_dashboard_filtered",
    "outcomes_csv",
]
PASSWORD = "prolotrack-demo"  # noqa: S105 - the README's demo sign-in
ROLES = ("frontdesk", "practitioner", "clinicadmin")
RESULTS = BASE / "bench" / "results" / "latest.json"


def django_env():
    """Production settings, minus what needs HTTPS (the benchmark talks plain HTTP on loopback)."""
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": env.get("SECRET_KEY") or "bench-only-secret-key-not-for-production-use-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "QUERY_COUNT_HEADER": "1",
            "LOG_LEVEL": "WARNING",
            # 10 users without think time are far over a real integration's rate: the API rows measure
            # the endpoints (the throttle's check still runs), not 429s.
            "API_THROTTLE_USER": "1000000/minute",
        }
    )
    return env


def run(args, env, **kwargs):
    subprocess.run(args, env=env, cwd=BASE, check=True, **kwargs)


def wait_for_server():
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{HOST}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz")


@contextlib.contextmanager
def serving(env):
    """gunicorn with 2 sync workers for the duration; afterwards, queries it left running are cancelled."""
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "clinic.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "error",
        ],
        env=env,
        cwd=BASE,
        start_new_session=True,
    )
    try:
        wait_for_server()
        yield
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        subprocess.run([BIN / "python", "bench/prepare.py", "quiet"], env=env, cwd=BASE, check=True)


def _csrf(page):
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


def sign_in(username, env):
    """A signed-in session for `username`, made before the timed runs (password hashing is deliberately
    slow, and is not what the pages are measured for); the page's 10 users share it. A clinic admin also
    gives the demo authenticator's code (`manage.py demo_code`): without it every page of theirs would only
    redirect to the second-factor page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = _csrf(opener.open(f"{HOST}/accounts/login/").read())
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    answer = opener.open(f"{HOST}/accounts/login/", data=form.encode())
    if "/accounts/two-factor/verify/" in answer.geturl():
        code = subprocess.run(
            [BIN / "python", "manage.py", "demo_code", username],
            env={**env, "DEBUG": "1"},
            cwd=BASE,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        form = urllib.parse.urlencode({"code": code, "csrfmiddlewaretoken": _csrf(answer.read())})
        answer = opener.open(answer.geturl(), data=form.encode())
        if "/accounts/two-factor/verify/" in answer.geturl():
            raise SystemExit(f"{username}'s second factor was refused: run seed_demo for the demo staff.")
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"Could not sign in as {username}: run seed_demo for the demo staff.")
    return cookies


def measure(page, env, work):
    """Run locust on one page; (figures, details) from its CSV and the query counts it saw."""
    prefix = work / page
    out = work / f"{page}.json"
    env = {**env, "BENCH_PAGE": page, "BENCH_TARGETS": str(work / "targets.json"), "BENCH_OUT": str(out)}
    subprocess.run(
        [
            BIN / "locust",
            "-f",
            BASE / "bench" / "locustfile.py",
            "--headless",
            "--users",
            str(USERS),
            "--spawn-rate",
            str(USERS),
            "--run-time",
            f"{SECONDS}s",
            "--host",
            HOST,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "10",
        ],
        env=env,
        cwd=BASE,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    row = _stats_row(Path(f"{prefix}_stats.csv"), page)
    if row is None:
        return {"p50_ms": None, "p95_ms": None, "rps": 0.0, "queries": None, "requests": 0, "failures": 0}, {
            "queries": {},
            "posted": [],
        }
    details = json.loads(out.read_text()) if out.exists() else {"queries": {}, "posted": []}
    counts = [int(k) for k, n in details["queries"].items() if k.isdigit() for _ in range(n)]
    figures = {
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "rps": round(float(row["Requests/s"]), 1),
        "queries": int(statistics.median(counts)) if counts else None,
    }
    if counts and max(counts) != figures["queries"]:
        figures["queries_max"] = max(counts)
    figures["requests"] = int(row["Request Count"])
    figures["failures"] = int(row["Failure Count"])
    return figures, details


def _stats_row(path, name):
    import csv

    with path.open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == name:
                return row
    return None  # not one request finished in the time


def _ms(value):
    return "-" if value is None else f"{value:.0f}"


def _ratio(value, base):
    return None if value is None or not base else round(value / base, 2)


def compare_with_pages(pages):
    """Each API row gains `vs_page`: its page and the ratios of its p50 and p95 to the page's."""
    for request, page in API_PAGES.items():
        if request in pages and page in pages:
            ours, theirs = pages[request], pages[page]
            ours["vs_page"] = {
                "page": page,
                "p50_ratio": _ratio(ours["p50_ms"], theirs["p50_ms"]),
                "p95_ratio": _ratio(ours["p95_ms"], theirs["p95_ms"]),
            }


def slower_than_pages(pages):
    """A sentence for each API request whose median is above its page's (issue 19 wants none)."""
    sentences = []
    for request, figures in pages.items():
        versus = figures.get("vs_page")
        if versus and versus["p50_ratio"] is not None and versus["p50_ratio"] > 1:
            page = versus["page"]
            sentences.append(
                f"SLOWER: {request} p50 {_ms(figures['p50_ms'])} ms is {versus['p50_ratio']:.2f}x "
                f"{page}'s {_ms(pages[page]['p50_ms'])} ms: the API should be no slower than its page."
            )
    return sentences


def table(results):
    lines = [f"{'page':<30}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'queries':>9}{'fails':>7}{'worker ms':>11}"]
    rows = [
        *results["pages"].items(),
        ("floor (/healthz)", results["floor"]),
        ("peer (admin)", results["peer_admin"]),
    ]
    for name, figures in rows:
        line = (
            f"{name:<30}{_ms(figures['p50_ms']):>9}{_ms(figures['p95_ms']):>9}{figures['rps']:>9.1f}"
            f"{figures['queries'] if figures['queries'] is not None else '-':>9}{figures['failures']:>7}"
            f"{(figures.get('worker') or {}).get('worker_ms', '-'):>11}"
        )
        versus = figures.get("vs_page")
        if versus and versus["p50_ratio"] is not None:
            line += f"   {versus['p50_ratio']:.2f}x {versus['page']} (p50)"
        lines.append(line)
    return "\n".join(lines)


def ensure_database(url):
    """Create the PostgreSQL database DATABASE_URL names when it is missing, so a first run can migrate it
    (SQLite creates its file itself)."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            print(f"Creating the database {name}.", flush=True)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main():
    env = django_env()
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("NOTE: DATABASE_URL is not PostgreSQL: these are SQLite figures, not the published ones.")
    ensure_database(url)
    started = time.monotonic()
    load_at_start = round(os.getloadavg()[0], 1)
    work = Path(tempfile.mkdtemp(prefix="prolo-bench-"))
    python = str(BIN / "python")
    run([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    run([python, "bench/prepare.py", "prepare", str(SCALE), str(work / "targets.json")], env)
    run([python, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    targets = json.loads((work / "targets.json").read_text())
    results = {"scale": targets["scale"], "pages": {}, "floor": None, "peer_admin": None}
    verified = None
    for page in ["floor", *PAGES, "peer_admin"]:
        # A fresh server per page: a slow page's requests still running must not weigh on the next one.
        with serving(env):
            if "cookies" not in targets:
                targets["cookies"] = {username: sign_in(username, env) for username in ROLES}
                (work / "targets.json").write_text(json.dumps(targets))
            figures, details = measure(page, env, work)
        print(f"  {page}: p50 {_ms(figures['p50_ms'])} ms, p95 {_ms(figures['p95_ms'])} ms", flush=True)
        if page == "session_log_post":
            posted = work / "posted.json"
            posted.write_text(json.dumps(details["posted"]))
            verified = subprocess.run([python, "bench/prepare.py", "verify", str(posted)], env=env, cwd=BASE)
        if page in ("floor", "peer_admin"):
            results[page] = figures
        else:
            results["pages"][page] = figures
    # Each page's single-request worker time in process (no network, no concurrency) and the outcomes
    # dashboard cold, the first request after a write (bench/worker_time.py).
    worker = work / "worker.json"
    run(
        [python, "bench/worker_time.py", str(work / "targets.json"), "--json", str(worker), "--repeat", "10"],
        env,
    )
    worker_times = json.loads(worker.read_text())
    for page, figures in results["pages"].items():
        figures["worker"] = worker_times.get(page)
    results["outcomes_dashboard_cold"] = worker_times.get("outcomes_dashboard_cold")
    results["run"] = {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "users": USERS,
        "seconds_per_page": SECONDS,
        "gunicorn_workers": 2,
        "cpus": os.cpu_count(),
        "posts_verified": verified is not None and verified.returncode == 0,
        "total_seconds": round(time.monotonic() - started),
        # Other work on the machine inflates every figure: a quiet 2-core machine stays below 2.
        "load_average_at_start": load_at_start,
        "load_average_at_end": round(os.getloadavg()[0], 1),
    }
    compare_with_pages(results["pages"])
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    cold = results["outcomes_dashboard_cold"]
    if cold:
        print(f"outcomes dashboard, first request after a write: {cold['worker_ms']} ms of worker time")
    for sentence in slower_than_pages(results["pages"]):
        print(sentence)
    print(f"Written {RESULTS.relative_to(BASE)} in {results['run']['total_seconds']} s.")
    if verified is None or verified.returncode != 0:
        sys.exit("The session POSTs did not all save: see above.")


if __name__ == "__main__":
    main()
