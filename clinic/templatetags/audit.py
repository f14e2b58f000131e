from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

register = template.Library()


@register.simple_tag
def history_url(obj):
    """The clinic:history URL of an audited record."""
    content_type = ContentType.objects.get_for_model(obj)
    return reverse("clinic:history", args=[content_type.pk, obj.pk])


@register.filter
def in_minutes(duration):
    """A timedelta as '15 minutes'."""
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes} minute" + ("" if minutes == 1 else "s")
