from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "apps.uploads"
    label = "uploads"

    def ready(self) -> None:
        # cleanup connects the receivers that delete files; tasks registers the job task in every
        # process, as jobs are published by name and Celery ignores always_eager (tests) for a
        # name it does not know.
        from . import cleanup, costs, tasks  # noqa: F401
        from .signals import job_finished

        # Every finished job teaches the cost model its duration (costs.observe).
        job_finished.connect(costs.observe_finished, dispatch_uid="uploads.costs.observe")
