from django.apps import AppConfig


class FaceRegistryConfig(AppConfig):
    name = "apps.face_registry"
    label = "face_registry"

    def ready(self) -> None:
        from . import cleanup  # noqa: F401  (connects the receivers that delete thumbnails)
