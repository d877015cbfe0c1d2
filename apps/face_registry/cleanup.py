"""Thumbnails follow their rows: however a face or a space goes — the services, the admin, or a
cascade from a revoked API client or a deleted user — its files go once that has committed.
"""

from __future__ import annotations

import os

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.uploads.cleanup import delete_names

from .models import Face, Space


@receiver(post_delete, sender=Face, dispatch_uid="face_registry_face_thumbnail")
def _face_deleted(sender, instance: Face, using: str, **kwargs) -> None:
    name = instance.thumbnail.name
    transaction.on_commit(lambda: delete_names([name]), using=using)


@receiver(post_delete, sender=Space, dispatch_uid="face_registry_space_folder")
def _space_deleted(sender, instance: Space, using: str, **kwargs) -> None:
    # models._thumbnail_path puts a space's thumbnails here; its faces' receivers run first
    # (a cascade deletes them before the space), so the folder is empty by now.
    folder = f"faces/{instance.owner_id}/{instance.uuid}"

    def remove() -> None:
        try:
            os.rmdir(default_storage.path(folder))
        except (NotImplementedError, OSError):
            pass  # object storage has no folders; a missing or non-empty one stays as it is

    transaction.on_commit(remove, using=using)
