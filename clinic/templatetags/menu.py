"""The role menu (`_nav_items.html`), rendered once per permission set instead of on every page.

The menu depends on nothing but what the user may do (their permissions, superuser flag and clinic-admin
role) and on the URL configuration, so its HTML is kept per process under exactly those: a permission taken
away gives a different key, and the next page shows the smaller menu. It saves about 1.2 ms of CPU per
signed-in page (docs/performance.md, "The signed-in frame, layer by layer").
"""

from django import template
from django.conf import settings
from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string

register = template.Library()

_MENUS = {}
_MENUS_KEPT = 256  # distinct permission sets; a clinic has a handful of roles


def menu_key(user):
    if user.is_active and user.is_superuser:
        # Every permission test passes: no need to read them all (ModelBackend would, with a query).
        return (True, True, True, None)
    return (
        user.is_active,
        user.is_superuser,
        user.is_clinic_admin,
        frozenset(user.get_all_permissions()),
    )


@register.simple_tag(takes_context=True)
def role_menu(context):
    user = context["user"]
    key = menu_key(user)
    html = _MENUS.get(key)
    if html is None:
        html = render_to_string("_nav_items.html", {"user": user, "perms": PermWrapper(user)})
        if not settings.DEBUG:  # while developing, a template edit shows on the next page
            if len(_MENUS) >= _MENUS_KEPT:
                _MENUS.clear()
            _MENUS[key] = html
    return html
