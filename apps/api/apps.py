from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        from apps.uploads import allowance
        from apps.uploads.signals import job_finished

        from . import access, tasks, webhooks  # noqa: F401  (tasks: registered, as in uploads)

        allowance.register_client_counter(access.take_work)
        job_finished.connect(webhooks.queue_delivery, dispatch_uid="api.webhooks.deliver")
