"""Pages of search results whose total comes with the rows: one query instead of a COUNT and then the page.

A search (a name fragment, a phone number) is matched over the whole registry; Django's Paginator runs that
match twice, once for COUNT(*) and once for the page. COUNT(*) OVER () gives every row of the page the total
of the same scan. The patient list page and the API's patient search both page their searches this way.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Window


class CountedPagePaginator(Paginator):
    """A Paginator whose page() reads the rows and the total in one query (then `count` needs none).

    A page past the end has no row to carry the total: it raises EmptyPage as Paginator does, and a caller
    that then asks for `count` (get_page() does, to show the last page) pays the COUNT on that rare path.
    """

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list.annotate(page_total=Window(Count("*")))[bottom : bottom + self.per_page])
        if not rows and (number > 1 or not self.allow_empty_first_page):
            raise EmptyPage(self.error_messages["no_results"])
        self.count = rows[0].page_total if rows else 0
        return self._get_page(rows, number, self)
