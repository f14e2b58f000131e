"""The API token page (tokens:...), among the pages that manage staff accounts."""

from django.urls import path

from api import token_views

app_name = "tokens"

urlpatterns = [
    path("", token_views.token_list, name="token-list"),
    path("issue/", token_views.token_issue, name="token-issue"),
    path("<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
]
