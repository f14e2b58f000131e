"""Clinic admins' page for API tokens: the list, issuing one (its key shown once) and revoking."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from api import tokens
from api.forms import TokenIssueForm
from api.models import ApiToken
from clinic.forms import apply_service_errors


def _list(request, form, *, status=200):
    rows = ApiToken.objects.select_related("user", "created_by").prefetch_related("user__groups")
    return render(request, "api/tokens.html", {"tokens": rows, "form": form}, status=status)


@require_GET
@permission_required("api.view_apitoken", raise_exception=True)
def token_list(request):
    return _list(request, TokenIssueForm())


@never_cache
@require_POST
@permission_required("api.add_apitoken", raise_exception=True)
def token_issue(request):
    form = TokenIssueForm(request.POST)
    if form.is_valid():
        try:
            token, key = tokens.token_issue(issued_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # The key is in this response only: never stored, never redirected to, never cached.
            return render(request, "api/token_issued.html", {"token": token, "key": key})
    return _list(request, form, status=400)


@require_POST
@permission_required("api.change_apitoken", raise_exception=True)
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    try:
        tokens.token_revoke(token=token, revoked_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Token “{token.name}” of {token.user} revoked: it stops working at once.")
    return redirect("tokens:token-list")
