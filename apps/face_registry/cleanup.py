"""Thumbnails follow their rows: however a face or a space goes — the services, the admin, or a
cascade from a revoked API client or a deleted user — its files go once that has committed.

The services delete files themselves too; cascades never reach them, these receivers do.
"""

from __future__ import annotations

import logging
import os

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Face, Space

log = logging.getLogger(__name__)


def _delete(name: str) -> None:
    if not name:
        return
    try:
        default_storage.delete(name)
    except OSError as error:
        log.warning("could not delete %s: %s", name, error)


@receiver(post_delete, sender=Face, dispatch_uid="face_registry_face_thumbnail")
def _face_deleted(sender, instance: Face, using: str, **kwargs) -> None:
    name = instance.thumbnail.name
    transaction.on_commit(lambda: _delete(name), using=using)


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
