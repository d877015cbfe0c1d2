from django.urls import path

from . import views

app_name = "uploads"

urlpatterns = [
    path("upload/", views.new, name="new"),
    path("upload/estimate/", views.estimate, name="estimate"),
    path("jobs/<uuid:job_uuid>/status/", views.status, name="status"),
    path("jobs/status/", views.statuses, name="statuses"),
    path("jobs/<uuid:job_uuid>/input/", views.input_file, name="input"),
    path("jobs/<uuid:job_uuid>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("jobs/<uuid:job_uuid>/outputs/<slug:kind>/", views.output_file, name="output"),
]
