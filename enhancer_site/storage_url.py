"""Where uploaded photos, results and face thumbnails live, chosen by one environment variable.

``ENHANCER_STORAGE_URL`` empty (the default): under ``MEDIA_ROOT`` on this machine — right for
``make run`` and for one machine.

``s3://BUCKET[/PREFIX]?endpoint_url=URL&region_name=R&addressing_style=path&verify=false&presigned_seconds=N``:
a private S3-compatible bucket (AWS S3, MinIO, Ceph, …) shared by every web server and worker.
Credentials are deliberately not part of the URL (so it can be printed and logged): boto3's own
chain supplies them — ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, or the
machine's role. ``presigned_seconds`` > 0 makes downloads redirect to a URL signed for that many
seconds instead of streaming through the web server.

Pure Python, imported by settings before Django is set up: it must not import boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ImproperlyConfigured

# SigV4 signatures cannot outlive a week.
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
ADDRESSING_STYLES = ("auto", "path", "virtual")
# Reads larger than this spool to a temporary file on the local disk (deleted on close) rather
# than memory: a worker holds a 50 MB input once, as bytes, not twice.
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class StorageChoice:
    backend: dict[str, Any]  # an entry for settings.STORAGES
    presigned_seconds: int = 0  # 0: downloads stream through the ownership-checking views


def parse(url: str) -> StorageChoice:
    """The STORAGES entry for ``url``; ImproperlyConfigured for anything it does not understand."""
    url = url.strip()
    if not url:
        return StorageChoice(
            backend={
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                # Private: nothing is served from MEDIA_URL; views stream every file.
                "OPTIONS": {"base_url": "/private-media-is-not-served/"},
            }
        )
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"ENHANCER_STORAGE_URL must be empty (local MEDIA_ROOT) or s3://bucket[/prefix]?…, "
            f"not {parts.scheme or url!r}"
        )
    if parts.username or parts.password:
        raise ImproperlyConfigured(
            "ENHANCER_STORAGE_URL must not carry credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY instead"
        )
    bucket = parts.hostname or ""
    if not bucket:
        raise ImproperlyConfigured("ENHANCER_STORAGE_URL needs a bucket: s3://bucket")
    query = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False))
    presigned = _seconds(query.pop("presigned_seconds", "0"))
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": parts.path.strip("/"),
        "endpoint_url": query.pop("endpoint_url", None) or None,
        "region_name": query.pop("region_name", None) or None,
        "signature_version": "s3v4",
        # No ACL header: objects keep the bucket's default, which is private. Never public-read.
        "default_acl": None,
        # Any URL the storage hands out is signed and expires.
        "querystring_auth": True,
        "querystring_expire": presigned or 300,
        # Keys hold the job's or face's uuid, so a name is only ever rewritten by a retry of the
        # same work: overwriting spares a HEAD request per save and leaves no orphan behind.
        "file_overwrite": True,
        "max_memory_size": SPOOL_BYTES,
    }
    style = query.pop("addressing_style", "")
    if style:
        if style not in ADDRESSING_STYLES:
            raise ImproperlyConfigured(f"addressing_style must be one of {ADDRESSING_STYLES}")
        options["addressing_style"] = style
    if "verify" in query:
        options["verify"] = _boolean(query.pop("verify"))
    if query:
        raise ImproperlyConfigured(
            f"ENHANCER_STORAGE_URL: unknown option(s) {', '.join(sorted(query))}; known: "
            "endpoint_url, region_name, addressing_style, verify, presigned_seconds"
        )
    return StorageChoice(
        backend={"BACKEND": "enhancer_site.object_storage.MediaStorage", "OPTIONS": options},
        presigned_seconds=presigned,
    )


def _seconds(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"presigned_seconds must be a whole number, not {value!r}") from None
    if not 0 <= seconds <= MAX_PRESIGNED_SECONDS:
        raise ImproperlyConfigured(f"presigned_seconds must be 0…{MAX_PRESIGNED_SECONDS}")
    return seconds


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"verify must be true or false, not {value!r}")
