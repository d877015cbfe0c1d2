from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        from apps.uploads import allowance

        from . import access, webhooks  # noqa: F401  (webhooks connects the job_finished receiver)

        allowance.register_client_counter(access.take_work)
