"""The one CSV writer for every file ProloTrack produces (report tables, the research export).

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and a tab or carriage return
can hide one, so a catalogue or staff name such as `=HYPERLINK(...)` would act on the computer of whoever
opens the download. Following OWASP's CSV injection guidance, such a text cell is written with a leading
single quote (`'=HYPERLINK(...)`), which the spreadsheet shows as text; the csv module quotes and escapes
the rest.

Numbers stay numbers: an int, float or Decimal is never touched, and neither is a text cell that is
nothing but a plain decimal number (`-3`, `-0.5`, the form the research export writes its decimals in),
since a spreadsheet reads that as a number and it cannot hold a formula. Anything else starting with a
trigger character (`-3+1`, `+3`, `-`, `@SUM(A1)`) is treated as text and gets the quote.
"""

import csv
import re
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cell(value):
    """The value as it is safe to write into a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _SafeWriter:
    """csv.writer with every cell passed through `cell`."""

    def __init__(self, file):
        self._writer = csv.writer(file)

    def writerow(self, row):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(file):
    return _SafeWriter(file)


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(header, rows, filename):
    """A CSV download built in memory: for report tables of a few hundred rows."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    out = writer(response)
    out.writerow(header)
    out.writerows(rows)
    return _attachment(response, filename)


class _Echo:
    def write(self, value):
        return value


def streaming_csv_response(header, rows, filename):
    """A CSV download written row by row as `rows` (any iterable) is consumed: for large exports."""
    out = writer(_Echo())

    def lines():
        yield out.writerow(header)
        for row in rows:
            yield out.writerow(row)

    return _attachment(StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8"), filename)
