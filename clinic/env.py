"""Small readers for settings taken from environment variables.

Kept apart from settings.py so the parsing rules can be tested without reloading settings.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name, default=False, environ=os.environ):
    value = environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(TRUE_WORDS | FALSE_WORDS)}, not {value!r}.")


def env_int(name, default, environ=os.environ):
    value = environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name, default=(), environ=os.environ):
    value = environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key(*, debug, environ=os.environ):
    """The SECRET_KEY; a fixed development key is allowed only while DEBUG is on."""
    value = environ.get("SECRET_KEY", "")
    if value:
        return value
    if debug:
        return "development-only-secret-key-never-use-in-production"
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")


def database_config(url, *, base_dir):
    """Parse DATABASE_URL; an empty value means the embedded SQLite file."""
    if not url:
        url = f"sqlite:///{base_dir / 'db.sqlite3'}"
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Keep connections between requests and check them before reuse (psycopg 3).
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
        # No JIT: the report queries are planned as "expensive" at scale and PostgreSQL then spends
        # longer compiling them than running them (seconds on the outcomes dashboard).
        # random_page_cost 1.1 (PostgreSQL's default 4 assumes spinning disks): the clinic's working set is in
        # memory or on SSD, and at 4 the planner scanned all 20,000 patients for a name search (10 ms) instead
        # of using the trigram index (3 ms), its row estimate for LIKE '%…%' being a guess either way.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off -c random_page_cost=1.1".strip()
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers and a writer work at once; IMMEDIATE takes the write lock at BEGIN so
        # concurrent writers queue instead of failing with "database is locked" mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL.")
    return config


TASK_BACKENDS = ("database", "redis")


def tasks_config(environ=os.environ):
    """(TASKS, extra INSTALLED_APPS, RQ_QUEUES) for TASKS_BACKEND: the database (default) or Redis.

    The database backend needs nothing beyond the clinic's own database; Redis (django-tasks-rq, installed
    from requirements-redis.txt) is for a clinic whose web and worker processes run on several servers.
    """
    backend = environ.get("TASKS_BACKEND", "database").strip().lower() or "database"
    if backend == "database":
        tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
        return tasks, ["django_tasks_db"], {}
    if backend == "redis":
        url = environ.get("REDIS_URL", "")
        if not url:
            raise ImproperlyConfigured("TASKS_BACKEND=redis needs REDIS_URL, e.g. redis://127.0.0.1:6379/0.")
        tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
        return tasks, ["django_rq", "django_tasks_rq"], {"default": {"URL": url}}
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {list(TASK_BACKENDS)}, not {backend!r}.")
