from __future__ import annotations

from apps.common.images import validate_image
from apps.uploads import services
from apps.uploads.models import Job
from tests.helpers import image_bytes


def make_job(owner, operation: str = "contrast", data: bytes | None = None, name: str = "photo.png",
             params: dict | None = None) -> Job:
    """A stored, queued job made through the real service. It is enqueued on commit: never under
    the ``db`` fixture (callbacks not run), at once under ``transactional_db``."""
    image = validate_image(data or image_bytes(), name)
    return services.create_job(owner, image, operation, params or {}, Job.Source.WEB)
