"""Query-string filters of the API lists (django-filter). Dates are clinic dates (clinic.inputs): a year
such as 0001 or 9999 is refused with a 400, as a page's form refuses it."""

import datetime

import django_filters
from django import forms
from django.utils import timezone

from clinic.inputs import ClinicDateField
from clinic.models import User
from courses.models import CourseStatus, SessionStatus, TreatmentCourse, TreatmentSession
from patients import selectors as patient_selectors
from patients.models import Patient


class ClinicDateFilter(django_filters.DateFilter):
    field_class = ClinicDateField


class IdFilter(django_filters.NumberFilter):
    """A record id: a whole number the database can hold."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(*args, **kwargs)


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class PatientFilter(django_filters.FilterSet):
    """The patient list's search box and filters, answered by the page's own selector."""

    q = django_filters.CharFilter(
        label="Name, MRN, date of birth (day first) or phone number", max_length=200, method="keep"
    )
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("archived", "Archived"), ("all", "All")],
        empty_label=None,
        method="keep",
        help_text="Default: active.",
    )
    practitioner = django_filters.ModelChoiceFilter(
        field_name="primary_practitioner", queryset=User.objects.all(), method="keep"
    )
    sort = django_filters.ChoiceFilter(
        choices=[(f"{sign}{key}", f"{sign}{key}") for key in patient_selectors.SORTS for sign in ("", "-")],
        method="keep",
    )

    class Meta:
        model = Patient
        fields = ()

    def keep(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return patient_selectors.patient_list(
            query=data.get("q") or "",
            status=data.get("status") or "active",
            practitioner=data.get("practitioner"),
            sort=data.get("sort") or patient_selectors.DEFAULT_SORT,
        )


class CourseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "Planned or active"), *CourseStatus.choices], method="by_status"
    )
    patient = IdFilter(field_name="patient_id")
    practitioner = django_filters.ModelChoiceFilter(queryset=User.objects.all())
    condition = IdFilter(field_name="condition_id")
    deviation = django_filters.BooleanFilter(field_name="is_protocol_deviation")
    start_from = ClinicDateFilter(field_name="start_date", lookup_expr="gte")
    start_to = ClinicDateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = TreatmentCourse
        fields = ()

    def by_status(self, queryset, name, value):
        return queryset.open() if value == "open" else queryset.filter(status=value)


class VisitFilter(django_filters.FilterSet):
    date_from = ClinicDateFilter(method="on_or_after", help_text="Visits starting on or after this day.")
    date_to = ClinicDateFilter(method="on_or_before", help_text="Visits starting on or before this day.")
    practitioner = django_filters.ModelChoiceFilter(queryset=User.objects.all())
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)
    course = IdFilter(field_name="course_id")
    patient = IdFilter(field_name="patient_id")

    class Meta:
        model = TreatmentSession
        fields = ()

    def on_or_after(self, queryset, name, value):
        return queryset.filter(starts_at__gte=_day_start(value))

    def on_or_before(self, queryset, name, value):
        return queryset.filter(starts_at__lt=_day_start(value + datetime.timedelta(days=1)))


class TreatmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)

    class Meta:
        model = TreatmentSession
        fields = ()
