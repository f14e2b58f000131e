"""Pages of API lists: 25 rows by default, `page_size` up to 100; a page or size that is not a plain
positive number is refused with a 400 saying so, before any offset reaches the database."""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from clinic.inputs import MAX_PAGE
from clinic.pagination import CountedPagePaginator

WHOLE_NUMBER = re.compile(r"^\d{1,9}$")


def _number(request, name, *, most):
    value = request.query_params.get(name)
    if value is None:
        return None
    if not WHOLE_NUMBER.match(value) or not 1 <= int(value) <= most:
        raise ValidationError({name: [f"A whole number from 1 to {most}."]})
    return int(value)


class ClinicPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        _number(request, self.page_query_param, most=MAX_PAGE)
        _number(request, self.page_size_query_param, most=self.max_page_size)
        return super().paginate_queryset(queryset, request, view)


class SearchPagination(ClinicPagination):
    """The patient list's pages: a search (`q`) reads its page and total in one query, as the patient list
    page does, rather than running the registry-wide match twice (a COUNT, then the page). The answer is the
    same (`count`, `next`, `previous`, `results`; a page past the end is a 404)."""

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get("q", "").strip():
            self.django_paginator_class = CountedPagePaginator
        return super().paginate_queryset(queryset, request, view)
