"""Files follow their rows: however a job or an output is deleted — a page, the API, the admin,
retention, or a cascade from its user — its files go once the deletion has committed.

Receivers rather than code in each delete path, because cascades (deleting a user) never call
those paths. ``on_commit``: a rolled-back deletion keeps its files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Job, Output

log = logging.getLogger(__name__)


def job_folder(job: Job) -> str:
    # Every file of a job lives here (models._input_path, _output_path, _thumbnail_path).
    return f"jobs/{job.owner_id}/{job.uuid}"


def delete_names(names: Iterable[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError as error:  # one unwritable file must not keep the others
            log.warning("could not delete %s: %s", name, error)


def empty_folder(folder: str, keep: Iterable[str] = ()) -> None:
    """Delete every file in ``folder`` except ``keep`` (half-written leftovers included); remove
    the folder itself when it ends up empty."""
    kept = set(keep)
    try:
        _subfolders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    delete_names(f"{folder}/{name}" for name in files if f"{folder}/{name}" not in kept)
    if not kept:
        try:
            os.rmdir(default_storage.path(folder))
        except NotImplementedError:  # object storage has no folders
            pass
        except OSError:
            pass  # not empty (a subfolder) or already gone


@receiver(post_delete, sender=Output, dispatch_uid="uploads_output_files")
def _output_deleted(sender, instance: Output, using: str, **kwargs) -> None:
    name = instance.file.name
    transaction.on_commit(lambda: delete_names([name]), using=using)


@receiver(post_delete, sender=Job, dispatch_uid="uploads_job_files")
def _job_deleted(sender, instance: Job, using: str, **kwargs) -> None:
    names = [instance.input_file.name, instance.thumbnail.name]
    folder = job_folder(instance)

    def remove() -> None:
        delete_names(names)
        empty_folder(folder)

    transaction.on_commit(remove, using=using)
