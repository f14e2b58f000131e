"""Markup assertions that read HTML as HTML: attribute order, entities and whitespace between tags do not
matter, the elements and their text do (Django's assertInHTML)."""

from html.parser import HTMLParser

from django.test import SimpleTestCase

_checker = SimpleTestCase()


def assert_in_html(needle, haystack, count=None):
    _checker.assertInHTML(needle, haystack, count=count)


class _Rows(HTMLParser):
    """Every table body row of a page: [(cell texts, cell links, row class)], text whitespace-collapsed."""

    def __init__(self):
        super().__init__()
        self.rows, self.in_body, self.cell = [], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tbody":
            self.in_body += 1
        elif tag == "tr" and self.in_body:
            self.rows.append(([], [], attrs.get("class") or ""))
        elif tag in ("td", "th") and self.in_body and self.rows:
            self.cell = []
            self.rows[-1][0].append(self.cell)
            self.rows[-1][1].append([])
        elif tag == "a" and self.cell is not None:
            self.rows[-1][1][-1].append(attrs.get("href"))
        if tag in ("div", "p", "li", "br") and self.cell is not None:
            self.cell.append(" ")  # a block starts a new word

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body -= 1
        elif tag in ("td", "th"):
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html):
    parser = _Rows()
    parser.feed(html)
    return [
        ([" ".join("".join(cell).split()) for cell in cells], links, css) for cells, links, css in parser.rows
    ]
