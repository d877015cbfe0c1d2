from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import Face, Person, Space

# Deleting here goes through the services, like everywhere else, so thumbnail files are
# removed and every worker's in-memory index notices (Space.version is bumped).


def _thumbnail(face: Face):
    if not face.thumbnail:
        return ""
    url = reverse("face_registry:admin_face_thumbnail", args=[face.uuid])
    return format_html('<img src="{}" style="max-height:64px;max-width:64px">', url)


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "owner", "client", "person_count", "version", "created_at")
    list_filter = ("number", ("client", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("uuid", "name", "owner__username", "client__name")
    list_select_related = ("owner", "client")
    readonly_fields = ("uuid", "version", "created_at")
    raw_id_fields = ("owner", "client")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(person_total=Count("persons"))

    def delete_model(self, request, obj: Space) -> None:
        services.delete_space(obj)

    def delete_queryset(self, request, queryset) -> None:
        for space in queryset:
            services.delete_space(space)

    @admin.display(description="persons", ordering="person_total")
    def person_count(self, space: Space) -> int:
        return space.person_total


class FaceInline(admin.TabularInline):
    model = Face
    extra = 0
    fields = ("preview", "uuid", "image_name", "left", "top", "right", "bottom", "created_at")
    readonly_fields = fields
    can_delete = False  # delete a face from its own page, through services.delete_face
    show_change_link = True

    @admin.display(description="")
    def preview(self, face: Face):
        return _thumbnail(face)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("tag", "name", "space", "face_count", "created_at")
    list_filter = ("space__number", "created_at")
    search_fields = ("uuid", "name", "person_id", "space__owner__username")
    list_select_related = ("space",)
    readonly_fields = ("uuid", "created_at")
    raw_id_fields = ("space",)
    inlines = [FaceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(face_total=Count("faces"))

    def delete_model(self, request, obj: Person) -> None:
        services.delete_person(obj.space, obj.person_id)

    def delete_queryset(self, request, queryset) -> None:
        for person in queryset.select_related("space"):
            services.delete_person(person.space, person.person_id)

    @admin.display(description="faces", ordering="face_total")
    def face_count(self, person: Person) -> int:
        return person.face_total


@admin.register(Face)
class FaceAdmin(admin.ModelAdmin):
    list_display = ("preview", "uuid", "person", "space", "image_name", "created_at")
    list_filter = ("space__number", "created_at")
    search_fields = ("uuid", "image_name", "person__name", "space__owner__username")
    list_select_related = ("person", "space")
    readonly_fields = (
        "preview", "uuid", "space", "person", "image_name", "left", "top", "right", "bottom",
        "thumbnail", "created_at",
    )
    exclude = ("embedding",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # faces come from photos, through the site or the API

    def delete_model(self, request, obj: Face) -> None:
        services.delete_face(obj)

    def delete_queryset(self, request, queryset) -> None:
        for face in queryset.select_related("space"):
            services.delete_face(face)

    @admin.display(description="")
    def preview(self, face: Face):
        return _thumbnail(face)
