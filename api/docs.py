"""The OpenAPI schema (drf-spectacular) and its Swagger UI, for staff only.

The schema answers a token or a session (so a client can fetch it with its key); the docs page is a page
like any other, behind the sign-in, and loads Swagger UI from the drf-spectacular-sidecar package through
our static files, its start-up script from this site (no inline script, so the Content-Security-Policy
stands).
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.permissions import StaffMember


class SchemaView(SpectacularAPIView):
    permission_classes = [StaffMember]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [StaffMember]
    url_name = "api:schema"
    title = "ProloTrack API"
