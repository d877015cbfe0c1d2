from django.urls import path

from . import views

app_name = "history"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("delete/", views.bulk_delete, name="bulk_delete"),
    path("results.zip", views.bulk_zip, name="bulk_zip"),
    path("<uuid:job_uuid>/", views.job_detail, name="detail"),
    path("<uuid:job_uuid>/results.zip", views.job_zip, name="zip"),
    path("<uuid:job_uuid>/thumbnail.jpg", views.job_thumbnail, name="thumbnail"),
    path("<uuid:job_uuid>/delete/", views.job_delete, name="delete"),
    path("<uuid:job_uuid>/rerun/", views.job_rerun, name="rerun"),
]
