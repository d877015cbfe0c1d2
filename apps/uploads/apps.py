from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "apps.uploads"
    label = "uploads"

    def ready(self) -> None:
        from . import cleanup  # noqa: F401  (connects the receivers that delete files)
