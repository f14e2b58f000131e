"""Authorisation: Django's ModelBackend, with a user's roles and permissions read in one query.

Every page asks what the signed-in user may do: the view's `permission_required`, the role menu, the
"Signed in as … (role)" badge. ModelBackend answers from three queries (the user's own permissions, their
groups' permissions, and the group names for the badge); `load_access()` reads all three in one UNION and
fills ModelBackend's per-request caches, so the answers are the same and only the query count changes.
Nothing is kept beyond the request: a role taken away applies on the user's next page.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Value


def load_access(user):
    """Fill `user`'s role names and ModelBackend's permission caches from one query."""
    groups = (
        Group.objects.filter(user=user)
        .values_list("name", "permissions__content_type__app_label", "permissions__codename")
        .order_by()
    )
    own = (
        Permission.objects.filter(user=user)
        .values_list(Value(None, output_field=CharField()), "content_type__app_label", "codename")
        .order_by()
    )
    role_names, group_perms, user_perms = set(), set(), set()
    for group_name, app_label, codename in groups.union(own, all=True):
        if group_name is not None:
            role_names.add(group_name)
        if codename is not None:
            (group_perms if group_name is not None else user_perms).add(f"{app_label}.{codename}")
    user.__dict__["role_names"] = frozenset(role_names)  # User.role_names is a cached_property
    if user.is_active and not user.is_superuser:
        # The attributes ModelBackend caches its answers in (django.contrib.auth.backends).
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms


class RoleBackend(ModelBackend):
    """ModelBackend whose permission lookups share `load_access()`'s single query."""

    def get_all_permissions(self, user_obj, obj=None):
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_perm_cache")
        ):
            load_access(user_obj)
        return super().get_all_permissions(user_obj, obj)
