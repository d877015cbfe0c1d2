from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Job, OperationCost, Output


class OutputInline(admin.TabularInline):
    model = Output
    extra = 0
    fields = ("kind", "format", "width", "height", "bytes", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "preview", "uuid", "owner", "operation", "status", "progress", "source", "provider",
        "created_at", "duration_seconds",
    )
    list_filter = ("status", "cost_class", "operation", "source", "provider", "created_at")
    search_fields = (
        "uuid", "owner__username", "input_name", "error_code", "error_message", "request_id"
    )
    list_select_related = ("owner",)
    readonly_fields = (
        "preview", "uuid", "status", "progress", "error_code", "error_message", "provider", "info",
        "attempts", "input_file", "input_name", "input_format", "input_width", "input_height",
        "input_bytes", "thumbnail", "created_at", "started_at", "finished_at",
        "cost_class", "cost_key", "estimate_seconds", "request_id", "worker", "heartbeat_at",
    )
    inlines = [OutputInline]
    date_hierarchy = "created_at"

    @admin.display(description="")
    def preview(self, job: Job):
        if not job.thumbnail:
            return ""
        # The admin is staff-only; the thumbnail view still checks the owner, so serve it here.
        url = reverse("admin_thumbnail", args=[job.uuid])
        return format_html('<img src="{}" style="max-height:64px;max-width:96px">', url)

    @admin.display(description="seconds")
    def duration_seconds(self, job: Job):
        return None if job.duration is None else round(job.duration, 1)


@admin.register(Output)
class OutputAdmin(admin.ModelAdmin):
    list_display = ("job", "kind", "format", "width", "height", "bytes", "created_at")
    list_filter = ("kind", "format")
    search_fields = ("job__uuid", "job__owner__username")
    list_select_related = ("job",)
    readonly_fields = ("job", "kind", "file", "format", "width", "height", "bytes", "created_at")


@admin.register(OperationCost)
class OperationCostAdmin(admin.ModelAdmin):
    """The cost model: editable, so an admin can correct an estimate by hand (jobs keep moving it)."""

    list_display = ("key", "overhead_seconds", "seconds_per_megapixel", "samples", "source", "updated_at")
    list_filter = ("operation", "source")
    search_fields = ("key",)
    readonly_fields = ("samples", "updated_at")
