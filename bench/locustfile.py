"""One page under load: BENCH_PAGE names it, BENCH_TARGETS is the JSON written by bench/prepare.py.

Each simulated user signs in as the page's role once (an API request sends the role's bearer token
instead, as another system would, with no session), then requests the page without pause. Every
response's X-Query-Count header is kept; at the end the counts (and, for the session POST, the ids of
the sessions saved) go to BENCH_OUT.
"""

import json
import os
from collections import Counter

from locust import FastHttpUser, events, task
from pages import API_PAGES, ROLES, session_post_data  # bench/ is on the path: locust adds its folder

with open(os.environ["BENCH_TARGETS"]) as targets_file:
    TARGETS = json.load(targets_file)
PAGE = os.environ["BENCH_PAGE"]
QUERY_COUNTS = Counter()
POSTED = []
POOL = list(TARGETS["post_sessions"])


def _url(page):
    if page == "floor":
        return TARGETS["floor"]
    if page == "peer_admin":
        return TARGETS["peer_admin"]
    return TARGETS["pages"][page]


class Clinician(FastHttpUser):
    # A page slower than this counts as a failure (gunicorn's own worker timeout is 30 s).
    network_timeout = 25.0
    connection_timeout = 5.0

    def on_start(self):
        # Signed in beforehand by bench/run.py: one session per role, shared by the page's users.
        username = ROLES[PAGE]
        if PAGE in API_PAGES:
            self.headers = {"Authorization": f"Bearer {TARGETS['api_keys'][username]}"}
            return
        cookies = TARGETS["cookies"][username] if username else {}
        self.csrf = cookies.get("csrftoken", "")
        self.headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}

    @task
    def page(self):
        if PAGE == "session_log_post":
            self._post()
            return
        # A redirect is a failure: a page that sends its user elsewhere (to sign in, to the second factor)
        # was not measured.
        with self.client.get(
            _url(PAGE), name=PAGE, headers=self.headers, catch_response=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            QUERY_COUNTS[response.headers.get("X-Query-Count", "?")] += 1

    def _post(self):
        if not POOL:
            self.stop()
            return
        pk = POOL.pop()
        url = TARGETS["post_template"].replace("/0/", f"/{pk}/")
        data = session_post_data(TARGETS)
        data["csrfmiddlewaretoken"] = self.csrf
        with self.client.post(
            url, data=data, name=PAGE, headers=self.headers, catch_response=True, allow_redirects=False
        ) as response:
            QUERY_COUNTS[response.headers.get("X-Query-Count", "?")] += 1
            if response.status_code == 302 and response.headers.get("Location", "").endswith(url):
                POSTED.append(pk)
            else:
                response.failure(f"not saved: status {response.status_code}")


@events.test_stop.add_listener
def _write_counts(environment, **kwargs):
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump({"queries": dict(QUERY_COUNTS), "posted": POSTED}, out)
