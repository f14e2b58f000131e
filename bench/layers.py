"""Where one signed-in request's time goes, layer by layer (`bench/worker_time.py --layers`).

Every layer is timed exclusively: a stack of the layers entered (each middleware of the chain, its
process_view hook, the session load, the user and role loads, the view, template rendering, the audit
entry written, SQL), and the time between two events is charged to the layer on top. So a query run while
a template renders counts as SQL, not as template time, and each middleware's figure is its own code only.

Both clocks are kept: process CPU time (what the worker spends; waiting for PostgreSQL costs none) and wall
time (which includes that wait, and everything else the machine is doing). On a loaded machine, quote CPU.
"""

import time
from collections import defaultdict
from functools import wraps


class Layers:
    def __init__(self):
        self.cpu = defaultdict(float)
        self.wall = defaultdict(float)
        self.calls = defaultdict(int)
        self.stack = ["(outside the middleware)"]
        self._mark = None

    def _charge(self):
        cpu, wall = time.process_time(), time.perf_counter()
        if self._mark is not None:
            top = self.stack[-1]
            self.cpu[top] += cpu - self._mark[0]
            self.wall[top] += wall - self._mark[1]
        self._mark = (cpu, wall)

    def enter(self, name):
        self._charge()
        self.stack.append(name)
        self.calls[name] += 1

    def leave(self):
        self._charge()
        self.stack.pop()

    def wrap(self, name, func):
        @wraps(func)
        def layered(*args, **kwargs):
            self.enter(name)
            try:
                return func(*args, **kwargs)
            finally:
                self.leave()

        layered.__layered__ = True
        return layered

    def sql(self, execute, sql, params, many, context):
        self.enter("SQL (driver and database)")
        try:
            return execute(sql, params, many, context)
        finally:
            self.leave()

    def snapshot(self):
        copy = Layers()
        copy.cpu.update(self.cpu)
        copy.wall.update(self.wall)
        copy.calls.update(self.calls)
        return copy

    def reset(self):
        self.cpu.clear()
        self.wall.clear()
        self.calls.clear()
        self._mark = None


def _patch(owner, attribute, layers, name):
    func = getattr(owner, attribute)
    if getattr(func, "__layered__", False):  # wrapped for an earlier page: time it for this one instead
        func = func.__wrapped__
    setattr(owner, attribute, layers.wrap(name, func))


def _patch_nav(layers):
    """The role menu (`_nav.html`, included by base.html) as a layer of its own within the page's template."""
    from django.template import base

    render = base.Template.render
    if getattr(render, "__layered__", False):
        render = render.__wrapped__

    @wraps(render)
    def layered(template, context):
        if template.name != "_nav.html":
            return render(template, context)
        layers.enter("templates: _nav.html (role menu)")
        try:
            return render(template, context)
        finally:
            layers.leave()

    layered.__layered__ = True
    base.Template.render = layered


def instrument(handler, layers):
    """Wrap `handler`'s loaded middleware chain, and the shared layers (session, user, roles, templates)."""
    from importlib import import_module

    from auditlog.models import LogEntry
    from django.conf import settings
    from django.contrib import auth
    from django.template.backends import django as django_backend
    from django.template.backends import jinja2 as jinja2_backend
    from django_otp.middleware import OTPMiddleware

    import clinic.backends

    def wrap_chain(link):
        instance = getattr(link, "__wrapped__", None)
        if instance is None or not hasattr(instance, "get_response"):
            return layers.wrap("view: URL, view code, ORM", link)
        instance.get_response = wrap_chain(instance.get_response)
        return layers.wrap(f"middleware: {type(instance).__name__}", link)

    handler._middleware_chain = wrap_chain(handler._middleware_chain)
    handler._view_middleware = [
        layers.wrap(f"middleware: {method.__self__.__class__.__name__}.process_view", method)
        for method in handler._view_middleware
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    _patch(store, "load", layers, "session: load")
    _patch(store, "save", layers, "session: save")
    _patch(auth, "get_user", layers, "user: load")
    _patch(OTPMiddleware, "_verify_user_sync", layers, "user: OTP device")
    _patch(clinic.backends, "load_access", layers, "user: roles and permissions")
    _patch(django_backend.Template, "render", layers, "templates (Django)")
    _patch(jinja2_backend.Template, "render", layers, "templates (Jinja2)")
    _patch_nav(layers)
    _patch(LogEntry.objects, "log_create", layers, "access log: entry written")


def print_table(page, layers, repeat, queries):
    total_cpu = sum(layers.cpu.values())
    total_wall = sum(layers.wall.values())
    print(f"\n{page}: per request, mean of {repeat}; {queries} queries")
    print(f"  {'layer':<58}{'CPU ms':>8}{'wall ms':>9}{'calls':>7}")
    for name in sorted(layers.cpu, key=lambda n: -layers.cpu[n]):
        print(
            f"  {name:<58}{layers.cpu[name] * 1000 / repeat:>8.2f}"
            f"{layers.wall[name] * 1000 / repeat:>9.2f}{layers.calls[name] / repeat:>7.1f}"
        )
    print(f"  {'total':<58}{total_cpu * 1000 / repeat:>8.2f}{total_wall * 1000 / repeat:>9.2f}")
