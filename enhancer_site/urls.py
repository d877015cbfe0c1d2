from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from apps.monitoring import urls as monitoring_urls
from apps.uploads.views import admin_thumbnail

from .health import healthz
from .landing import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/jobs/<uuid:job_uuid>/thumbnail/", admin_thumbnail, name="admin_thumbnail"),
    *monitoring_urls.urlpatterns,
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("history/", include("apps.history.urls")),
    path("faces/", include("apps.face_registry.urls")),
    path("", include("apps.api.urls")),
    path("", include("apps.uploads.urls")),
]
