from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from apps.uploads.views import admin_thumbnail

from .health import healthz


def home(request):
    return redirect("uploads:new" if request.user.is_authenticated else "login")


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/jobs/<uuid:job_uuid>/thumbnail/", admin_thumbnail, name="admin_thumbnail"),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("history/", include("apps.history.urls")),
    path("faces/", include("apps.face_registry.urls")),
    path("", include("apps.api.urls")),
    path("", include("apps.uploads.urls")),
]
