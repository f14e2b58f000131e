"""One request's worker time for each benchmarked page, without the load: where the milliseconds go.

    python bench/worker_time.py TARGETS.json [PAGE ...] [--repeat N] [--cprofile PAGE] [--queries PAGE]

TARGETS.json is what `bench/prepare.py prepare` writes. Each page is requested in-process through Django's
test client (production settings, the same middleware) as its benchmark role; the median wall time of
N requests and the query count are printed. With --cprofile, the named page's requests run under cProfile
and the top functions by cumulative time are printed. Under `make bench`'s load of 10 users on 2 workers a
page's median latency is about five times the figure printed here, which is what to aim at.
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

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from clinic.models import User  # noqa: E402

ROLES = {
    "patient_search": "frontdesk",
    "patient_page": "practitioner",
    "course_page": "practitioner",
    "session_log_get": "practitioner",
    "day_calendar": "frontdesk",
    "week_calendar": "frontdesk",
    "outcomes_dashboard": "clinicadmin",
    "outcomes_dashboard_filtered": "clinicadmin",
    "outcomes_csv": "clinicadmin",
    "floor": None,
    "peer_admin": "clinicadmin",
}


def url_of(targets, page):
    if page in ("floor", "peer_admin"):
        return targets[page]
    return targets["pages"][page]


def client_for(role):
    client = Client(HTTP_HOST="127.0.0.1")
    if role:
        client.force_login(User.objects.get(username=role))
    return client


def measure(client, url, repeat):
    client.get(url)  # warm the template cache and the connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("targets")
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cprofile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--queries", help="print the SQL of one request of this page, with each query's time")
    args = parser.parse_args()
    targets = json.loads(Path(args.targets).read_text())
    if args.queries:
        client = client_for(ROLES[args.queries])
        url = url_of(targets, args.queries)
        client.get(url)
        timed = []

        def timer(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timed.append(((time.perf_counter() - started) * 1000, sql))

        with connection.execute_wrapper(timer):
            client.get(url)
        for elapsed, sql in timed:
            print(f"{elapsed:8.2f} ms  {sql[:400]}")
        print(f"{sum(elapsed for elapsed, _ in timed):8.2f} ms in {len(timed)} queries")
        return
    if args.cprofile:
        page = args.cprofile
        client = client_for(ROLES[page])
        url = url_of(targets, page)
        client.get(url)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        return
    for page in args.pages or list(ROLES):
        client = client_for(ROLES[page])
        median_ms, queries = measure(client, url_of(targets, page), args.repeat)
        print(f"{page:<30}{median_ms:>9.1f} ms{queries:>6} queries", flush=True)


if __name__ == "__main__":
    main()
