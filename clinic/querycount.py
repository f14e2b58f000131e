"""`X-Query-Count` on every response, for the benchmark (bench/): how many SQL queries served it.

Hooked into MIDDLEWARE only when the QUERY_COUNT_HEADER environment variable is on, first in the list so
the session, user and permission queries of the other middleware are counted too. A streamed response
(the research export) is counted up to its first byte: the header leaves before the rows are read.
"""

from django.db import connections


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _Counter()
        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(counter.count)
        return response
