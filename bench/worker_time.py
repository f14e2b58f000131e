"""One request's worker time for each benchmarked page, without the load: where the milliseconds go.

    python bench/worker_time.py TARGETS.json [PAGE ...] [--repeat N] [--cold] [--cprofile PAGE]
                                [--queries PAGE] [--layers]

TARGETS.json is what `bench/prepare.py prepare` writes. Each page is requested in-process through Django's
test client (production settings, the same middleware) as its benchmark role; the median wall time of
N requests and the query count are printed. With --cprofile, the named page's requests run under cProfile
and the top functions by cumulative time are printed. Under `make bench`'s load of 10 users on 2 workers a
page's median latency is about five times the figure printed here, which is what to aim at.

PROFILE_SORT=tottime orders the --cprofile listing by each function's own time instead of cumulative time.

With --layers, each named page's requests are timed layer by layer (bench/layers.py): every middleware
of the chain on its own, the session load, the user, OTP device and role loads, the view, template
rendering, the access-log entry and SQL, each exclusive of the others, as process CPU time and wall time
per request (mean of --repeat). CPU time is the figure to quote on a machine shared with other work.

With --cold, the report data version is bumped before each request (outside the timing), as any write a
report reads does: the outcomes pages then compute their report instead of serving it from the cache.

The API requests (`api_patient_search`, `api_course_read`) send the bearer token bench/prepare.py issued
for their role, and no session, as in `make bench`.

`session_log_post` is the benchmark's POST (bench/pages.py): a first save that completes
a scheduled pool session with three components and three injections. Each one runs inside a transaction that
is rolled back, so the same pool session is completed every time and the pool is left for `make bench`; a
POST that does not redirect back to its page with the rows saved stops the run. Its query count leaves out
the SAVEPOINT / RELEASE SAVEPOINT that the service's atomic block becomes inside that transaction (in the
benchmark it is the outermost block); the rolled-back COMMIT is not timed either.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from pages import API_PAGES, ROLES, session_post_data  # noqa: E402 - bench/, this script's folder

from clinic.models import User  # noqa: E402
from courses.models import SessionStatus, TreatmentSession  # noqa: E402


def url_of(targets, page):
    if page in ("floor", "peer_admin"):
        return targets[page]
    if page == "session_log_post":
        return targets["post_template"].replace("/0/", f"/{_post_session(targets)}/")
    return targets["pages"][page]


def _post_session(targets):
    """A pool session still scheduled (earlier benchmark runs completed some of the pool)."""
    waiting = TreatmentSession.objects.filter(
        pk__in=targets["post_sessions"], status=SessionStatus.SCHEDULED, version=1
    )
    pk = waiting.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        raise SystemExit("No scheduled session left in the POST pool: run bench/prepare.py prepare.")
    return pk


class _Saved(Exception):
    """Leaves the measuring transaction, which rolls it back."""


def _is_savepoint(sql):
    return sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))


def request(client, url, data=None, wrap=None):
    """GET `url`, or POST `data` to it inside a rolled-back transaction after checking it saved.

    `wrap` is a context manager entered around the request alone (a timer, a profiler, a query capture).
    """
    if data is None:
        with _nothing() if wrap is None else wrap:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return response
    try:
        with transaction.atomic():
            with _nothing() if wrap is None else wrap:
                response = client.post(url, data)
            _check_saved(url, response)
            raise _Saved
    except _Saved:
        pass
    return response


def _check_saved(url, response):
    if response.status_code != 302 or not response["Location"].endswith(url):
        raise SystemExit(f"POST {url} did not save: status {response.status_code}")
    pk = int(url.rstrip("/").split("/")[-2])
    session = TreatmentSession.objects.get(pk=pk)
    if (
        session.status != SessionStatus.COMPLETED
        or session.components.count() != 3
        or session.injections.count() != 3
    ):
        raise SystemExit(f"POST {url} redirected but the session is not completed with its 3 + 3 rows")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self.started) * 1000
        return False


def client_for(role, api_key=None):
    """A client signed in as `role`, or for an API request, one sending the role's bearer token."""
    if api_key:
        return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    client = Client(HTTP_HOST="127.0.0.1")
    if role:
        user = User.objects.get(username=role)
        client.force_login(user)
        # A clinic admin signs in with a second factor: mark the session verified with their app, as typing
        # its code does (bench/run.py signs in through the form with the code).
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


def _report_changed():
    """What a write that a report reads does: the next outcomes request computes its report again."""
    from outcomes import versions

    versions._bump()


def measure(client, url, repeat, data=None, cold=False):
    request(client, url, data)  # warm the template cache and the connection
    times = []
    for _ in range(repeat):
        if cold:
            _report_changed()
        timer = _Timer()
        request(client, url, data, wrap=timer)
        times.append(timer.ms)
    if cold:
        _report_changed()
    queries = CaptureQueriesContext(connection)
    request(client, url, data, wrap=queries)
    return statistics.median(times), sum(1 for q in queries.captured_queries if not _is_savepoint(q["sql"]))


def _page(targets, page):
    """(client, url, POST data or None) of a benchmarked page."""
    data = session_post_data(targets) if page == "session_log_post" else None
    role = ROLES[page]
    api_key = None
    if page in API_PAGES:
        if "api_keys" not in targets:
            raise SystemExit(f"{page} needs API keys: write the targets again (bench/prepare.py prepare).")
        api_key = targets["api_keys"][role]
    return client_for(role, api_key), url_of(targets, page), data


def _print_layers(targets, page, repeat, cold):
    import layers as layering  # bench/, this script's folder

    client, url, data = _page(targets, page)
    request(client, url, data)  # loads the middleware chain, warms the caches and the connection
    layers = layering.Layers()
    layering.instrument(client.handler, layers)

    class _Layered:
        def __enter__(self):
            layers._mark = None
            layers.enter("test client (not in a worker)")
            self.sql = connection.execute_wrapper(layers.sql)
            self.sql.__enter__()

        def __exit__(self, *exc):
            self.sql.__exit__(*exc)
            layers.leave()
            layers._mark = None
            return False

    request(client, url, data, wrap=_Layered())
    layers.reset()
    for _ in range(repeat):
        if cold:
            _report_changed()
        request(client, url, data, wrap=_Layered())
    measured = layers.snapshot()  # before the query-counting request, which the layers would time too
    queries = CaptureQueriesContext(connection)
    request(client, url, data, wrap=queries)
    layering.print_table(page, measured, repeat, len(queries.captured_queries))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("targets")
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cprofile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--queries", help="print the SQL of one request of this page, with each query's time")
    parser.add_argument("--layers", action="store_true", help="time each layer (bench/layers.py)")
    parser.add_argument("--cold", action="store_true", help="bump the report version before each request")
    parser.add_argument(
        "--json",
        help="write {page: {worker_ms, queries}} of every page, and the dashboard cold, to this file",
    )
    args = parser.parse_args()
    targets = json.loads(Path(args.targets).read_text())
    if args.queries:
        client, url, data = _page(targets, args.queries)
        request(client, url, data)
        if args.cold:
            _report_changed()
        timed = []

        def timer(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timed.append(((time.perf_counter() - started) * 1000, sql))

        request(client, url, data, wrap=connection.execute_wrapper(timer))
        for elapsed, sql in timed:
            print(f"{elapsed:8.2f} ms  {sql[:400]}")
        print(f"{sum(elapsed for elapsed, _ in timed):8.2f} ms in {len(timed)} queries")
        return
    if args.cprofile:
        client, url, data = _page(targets, args.cprofile)
        request(client, url, data)
        profiler = cProfile.Profile()
        for _ in range(args.repeat):
            if args.cold:
                _report_changed()
            request(client, url, data, wrap=profiler)
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)
        return
    if args.layers:
        for page in args.pages or list(ROLES):
            _print_layers(targets, page, args.repeat, args.cold)
        return
    if args.json:
        found = {}
        for page in args.pages or list(ROLES):
            client, url, data = _page(targets, page)
            median_ms, queries = measure(client, url, args.repeat, data)
            found[page] = {"worker_ms": round(median_ms, 1), "queries": queries}
        # The first dashboard request after any write that a report reads: the report is computed again.
        client, url, data = _page(targets, "outcomes_dashboard")
        median_ms, queries = measure(client, url, args.repeat, data, cold=True)
        found["outcomes_dashboard_cold"] = {"worker_ms": round(median_ms, 1), "queries": queries}
        Path(args.json).write_text(json.dumps(found, indent=2) + "\n")
        return
    for page in args.pages or list(ROLES):
        client, url, data = _page(targets, page)
        median_ms, queries = measure(client, url, args.repeat, data, cold=args.cold)
        label = f"{page} (cold)" if args.cold else page
        print(f"{label:<36}{median_ms:>9.1f} ms{queries:>6} queries", flush=True)


if __name__ == "__main__":
    main()
