"""Authorisation: Django's ModelBackend, with a user's roles and permissions read in one query.

Every page asks what the signed-in user may do: the view's `permission_required`, the role menu, the
"Signed in as … (role)" badge. ModelBackend answers from three queries (the user's own permissions, their
groups' permissions, and the group names for the badge); `load_access()` reads all three in one UNION and
fills ModelBackend's per-request caches, so the answers are the same and only the query count changes.
`RoleBackend.get_user()` (what `auth.get_user` calls on every signed-in request) reads the user's row and
those rows together, in one statement. Nothing is kept beyond the request: a role taken away applies on the
user's next page.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


@cache
def _access_sql(user_model):
    """The one statement: (role name or NULL, app label, codename) for the user's roles and own permissions.

    Written once as plain SQL (the same UNION the ORM built before, minus its compilation on every request,
    about 1.5 ms of CPU per page). Table names come from the models, so it follows the schema.
    """
    user_groups = user_model.groups.through._meta.db_table
    user_perms = user_model.user_permissions.through._meta.db_table
    group = Group._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    permission = Permission._meta.db_table
    content_type = ContentType._meta.db_table
    # The table names come from the models; the user's id is a parameter.
    return (
        f"SELECT g.name, ct.app_label, p.codename FROM {user_groups} ug "  # noqa: S608
        f"INNER JOIN {group} g ON g.id = ug.group_id "
        f"LEFT JOIN {group_perms} gp ON gp.group_id = g.id "
        f"LEFT JOIN {permission} p ON p.id = gp.permission_id "
        f"LEFT JOIN {content_type} ct ON ct.id = p.content_type_id "
        "WHERE ug.user_id = %s "
        "UNION ALL "
        f"SELECT NULL, ct.app_label, p.codename FROM {user_perms} up "
        f"INNER JOIN {permission} p ON p.id = up.permission_id "
        f"INNER JOIN {content_type} ct ON ct.id = p.content_type_id "
        "WHERE up.user_id = %s"
    )


def _fill(user, rows):
    """`user`'s role names and ModelBackend's caches from (role or NULL, app label, codename) rows."""
    role_names, group_perms, user_perms = set(), set(), set()
    for group_name, app_label, codename in rows:
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


def load_access(user):
    """Fill `user`'s role names and ModelBackend's permission caches from one query."""
    model = type(user)
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(_access_sql(model), [user.pk, user.pk])
        rows = cursor.fetchall()
    _fill(user, rows)


# Each database's way of joining a column's values into one string.
_AGGREGATE = {
    "postgresql": "string_agg({value}, chr(30))",
    "sqlite": "group_concat({value}, char(30))",
}
_TAB = {"postgresql": "chr(9)", "sqlite": "char(9)"}


@cache
def _user_sql(user_model, vendor):
    """The user's row and, in one more column, every (permission, role) row of `_access_sql` joined into one
    string: records split by ASCII 30, the permission (or '') and the role (or '') by a tab."""
    columns = ", ".join(f"u.{field.column}" for field in user_model._meta.concrete_fields)
    # `_access_sql`'s UNION with each permission as one 'app_label.codename' value.
    access = (
        _access_sql(user_model)
        .replace(
            "SELECT g.name, ct.app_label, p.codename",
            "SELECT g.name, ct.app_label || '.' || p.codename AS perm",
        )
        .replace("SELECT NULL, ct.app_label, p.codename", "SELECT '', ct.app_label || '.' || p.codename")
    )
    pair = f"COALESCE(a.perm, '') || {_TAB[vendor]} || COALESCE(a.name, '')"
    aggregate = _AGGREGATE[vendor].format(value=pair)
    return (
        f"SELECT {columns}, (SELECT {aggregate} FROM ({access}) a) AS access_rows "  # noqa: S608
        f"FROM {user_model._meta.db_table} u WHERE u.{user_model._meta.pk.column} = %s"
    )


def load_user(user_model, user_id):
    """The user `user_id` with its roles and permissions filled, from one query; None if there is none.

    What `auth.get_user` runs on every signed-in request: the user's row and `load_access()`'s rows
    together, instead of a query for each.
    """
    database = router.db_for_read(user_model)
    vendor = connections[database].vendor
    if vendor not in _AGGREGATE:
        user = user_model._default_manager.filter(pk=user_id).first()
        return user
    found = list(
        user_model._default_manager.db_manager(database).raw(
            _user_sql(user_model, vendor), [user_id, user_id, user_id]
        )
    )
    if not found:
        return None
    user = found[0]
    rows = []
    for record in (user.__dict__.pop("access_rows", None) or "").split(chr(30)):
        if not record:
            continue
        perm, _, role = record.partition("\t")
        app_label, _, codename = perm.partition(".")
        rows.append((role or None, app_label or None, codename or None))
    _fill(user, rows)
    return user


class RoleBackend(ModelBackend):
    """ModelBackend whose user read and permission lookups share one query per request (`load_user()`)."""

    def get_user(self, user_id):
        user = load_user(self._user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()

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
