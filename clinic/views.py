from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
@login_not_required
def healthz(request):
    """Liveness for load balancers: 200 once the database answers, 503 otherwise. No data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


def home(request):
    """Each role's starting point: links to the day's work for the signed-in user's roles."""
    return render(request, "home.html")


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
