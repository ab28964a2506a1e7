from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "PNET Pathways administration"
admin.site.site_title = "PNET Pathways admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("pathways.urls")),
]

handler400 = "pnetsite.errors.bad_request"
handler404 = "pnetsite.errors.page_not_found"
handler500 = "pnetsite.errors.server_error"
