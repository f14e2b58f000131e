from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.functional import cached_property

from clinic import roles


class UserQuerySet(models.QuerySet):
    def with_role(self, role):
        return self.filter(groups__name=role, is_active=True)

    def practitioners(self):
        """Active practitioners, for choosing who treats or owns a patient."""
        return self.with_role(roles.PRACTITIONER).order_by("last_name", "first_name", "username")


class ClinicUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A member of clinic staff. What they may do comes from their role groups."""

    objects = ClinicUserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @cached_property
    def role_names(self):
        # Read with the permissions in one query (clinic.backends), which fills this cached value.
        from clinic.backends import load_access

        load_access(self)
        return self.__dict__["role_names"]

    def has_role(self, role):
        return role in self.role_names

    @property
    def is_practitioner(self):
        return self.has_role(roles.PRACTITIONER)

    @property
    def is_front_desk(self):
        return self.has_role(roles.FRONT_DESK)

    @property
    def is_clinic_admin(self):
        return self.is_superuser or self.has_role(roles.CLINIC_ADMIN)

    @property
    def role_label(self):
        names = [role for role in roles.ROLES if role in self.role_names]
        if not names and self.is_superuser:
            return "Superuser"
        return ", ".join(names) or "No role"

    @property
    def initials(self):
        parts = [self.first_name[:1], self.last_name[:1]]
        return "".join(parts).upper() or self.username[:2].upper()
