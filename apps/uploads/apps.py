from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "apps.uploads"
    label = "uploads"

    def ready(self) -> None:
        from . import cleanup, costs  # noqa: F401  (cleanup connects the receivers that delete files)
        from .signals import job_finished

        # Every finished job teaches the cost model its duration (costs.observe).
        job_finished.connect(costs.observe_finished, dispatch_uid="uploads.costs.observe")
