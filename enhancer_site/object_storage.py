"""The S3 media storage (``ENHANCER_STORAGE_URL=s3://…``, see storage_url.py).

django-storages' S3Storage, with one change: a failing object store raises OSError, as a full
or unwritable disk does. Every caller that already copes with a local storage failure — a 503
``storage_unavailable`` with nothing half-stored, a deletion that logs and goes on — then copes
with an unreachable bucket the same way, instead of crashing on botocore's own exceptions.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage


@contextmanager
def _as_os_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404"):
            raise FileNotFoundError(errno.ENOENT, f"object storage: {code}") from error
        raise OSError(errno.EIO, f"object storage: {code or error}") from error
    except BotoCoreError as error:  # unreachable endpoint, bad credentials, timeouts
        raise OSError(errno.EIO, f"object storage: {error}") from error


class MediaStorage(S3Storage):
    def _open(self, name, mode="rb"):
        with _as_os_errors():
            return super()._open(name, mode)

    def _save(self, name, content):
        with _as_os_errors():
            return super()._save(name, content)

    def delete(self, name):
        with _as_os_errors():
            super().delete(name)

    def exists(self, name):
        with _as_os_errors():
            return super().exists(name)

    def listdir(self, name):
        with _as_os_errors():
            return super().listdir(name)

    def size(self, name):
        with _as_os_errors():
            return super().size(name)
