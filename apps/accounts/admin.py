from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from .forms import AdminLoginForm
from .models import ApiClient, User

admin.site.register(User, UserAdmin)
# The admin's sign-in is the most valuable one to guess: it is throttled like the site's.
admin.site.login_form = AdminLoginForm


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = (
        "name", "owner", "enabled", "token_prefix", "daily_quota", "rate_limit_per_minute",
        "last_used_at", "created_at",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "owner__username", "token_prefix", "baidu_api_key", "meitu_api_key")
    list_select_related = ("owner",)
    fields = (
        "name", "owner", "enabled", "daily_quota", "rate_limit_per_minute", "token_prefix",
        "baidu_api_key", "meitu_api_key", "created_at", "last_used_at",
    )
    readonly_fields = ("token_prefix", "baidu_api_key", "meitu_api_key", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new client gets fresh secrets, shown once in a message.
        client, secrets = ApiClient.issue(
            obj.owner, obj.name, enabled=obj.enabled, daily_quota=obj.daily_quota,
            rate_limit_per_minute=obj.rate_limit_per_minute,
        )
        obj.pk = client.pk
        obj.refresh_from_db()
        shown = ", ".join(f"{key}: {value}" for key, value in secrets.items())
        messages.warning(request, f"Copy these now, they are shown only once — {shown}")
