from django.conf import settings

from apps.imaging.codec import Limits


def image_limits() -> Limits:
    return Limits(
        max_bytes=settings.ENHANCER_MAX_UPLOAD_BYTES,
        max_pixels=settings.ENHANCER_MAX_PIXELS,
        min_side=settings.ENHANCER_MIN_SIDE,
    )
