from django.urls import path

from . import views

app_name = "face_registry"

urlpatterns = [
    path("", views.spaces, name="spaces"),
    path("spaces/<uuid:space_uuid>/", views.space_detail, name="space"),
    path("spaces/<uuid:space_uuid>/enroll/", views.space_enroll, name="space_enroll"),
    path("spaces/<uuid:space_uuid>/recognize/", views.space_recognize, name="recognize"),
    path("spaces/<uuid:space_uuid>/truncate/", views.space_truncate, name="truncate"),
    path("persons/<uuid:person_uuid>/", views.person_detail, name="person"),
    path("persons/<uuid:person_uuid>/enroll/", views.person_enroll, name="person_enroll"),
    path("persons/<uuid:person_uuid>/delete/", views.person_delete, name="person_delete"),
    path("faces/<uuid:face_uuid>/delete/", views.face_delete, name="face_delete"),
    path("faces/<uuid:face_uuid>/thumbnail/", views.face_thumbnail, name="face_thumbnail"),
    path(
        "admin/faces/<uuid:face_uuid>/thumbnail/",
        views.admin_face_thumbnail,
        name="admin_face_thumbnail",
    ),
]
