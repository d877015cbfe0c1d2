from django.apps import AppConfig


class FaceRegistryConfig(AppConfig):
    name = "apps.face_registry"
    label = "face_registry"
