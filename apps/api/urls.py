"""Every API surface: native (``/api/``), VK (``/api/v1/``), Baidu (``/oauth``, ``/rest``), Meitu (``/v1``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import developer, downloads, spaces, views
from .compat import baidu, meitu, vk

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("jobs", views.JobViewSet, basename="job")
router.register("spaces", spaces.SpaceViewSet, basename="space")

urlpatterns = [
    # VK Cloud Vision
    path("api/v1/photo/improve", vk.photo_improve, name="vk-photo-improve"),
    path("api/v1/persons/set", vk.persons_set, name="vk-persons-set"),
    path("api/v1/persons/recognize", vk.persons_recognize, name="vk-persons-recognize"),
    path("api/v1/persons/delete", vk.persons_delete, name="vk-persons-delete"),
    path("api/v1/persons/truncate", vk.persons_truncate, name="vk-persons-truncate"),
    # Baidu image-process
    path("oauth/2.0/token", baidu.token, name="baidu-token"),
    path("rest/2.0/image-process/v1/<slug:method_name>", baidu.image_process, name="baidu-image-process"),
    # The document's "请求URL" says image-process; its curl samples say image-classify.
    path("rest/2.0/image-classify/v1/<slug:method_name>", baidu.image_process, name="baidu-image-classify"),
    # Meitu MTLab
    path("v1/aiquality", meitu.aiquality, name="meitu-aiquality"),
    path("api/results/<str:token>/", downloads.signed_output, name="signed-output"),
    # Native API and its documentation
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("api/", include(router.urls)),
    path("developer/", developer.index, name="developer"),
    path("developer/<int:client_id>/revoke/", developer.revoke, name="developer-revoke"),
]
