from django.urls import path

from . import views

# Mounted by enhancer_site/urls.py: the admin pages before admin.site.urls, /metrics at the root.
admin_urlpatterns = [
    path("admin/operations/", views.operations_view, name="admin_operations"),
    path("admin/operations/jobs/<uuid:job_uuid>/cancel/", views.cancel_view,
         name="admin_operations_cancel"),
    path("admin/operations/jobs/<uuid:job_uuid>/retry/", views.retry_view,
         name="admin_operations_retry"),
]
urlpatterns = [
    path("metrics", views.metrics_view, name="metrics"),
    *admin_urlpatterns,
]
