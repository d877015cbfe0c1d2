from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        from apps.uploads import allowance
        from apps.uploads.signals import job_finished

        # tasks: registered, as in uploads; params_schema: its OpenAPI extension registered.
        from . import access, params_schema, tasks, webhooks  # noqa: F401

        allowance.register_client_counter(access.take_work)
        job_finished.connect(webhooks.queue_delivery, dispatch_uid="api.webhooks.deliver")
