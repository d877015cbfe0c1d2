"""EnhancerError messages in the visitor's language, translated when they are shown.

The engine raises English messages with numbers in them and the job row keeps them as they were
(the APIs answer them verbatim). A page translates at display time: each known message shape is
a pattern whose numbers and names are carried into the translated sentence; a message of no
known shape gets its code's general sentence in the visitor's language, followed by the
original, so nothing the visitor needs is lost.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from apps.imaging.errors import EnhancerError

from .operation_text import operation_label

# (pattern on the English message, translated sentence with the pattern's named groups)
PATTERNS: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"The file is empty\."), gettext_lazy("The file is empty.")),
    (
        re.compile(r"An operator cancelled the job before it ran\."),
        gettext_lazy("An operator cancelled the job before it ran."),
    ),
    (
        re.compile(r"The file is (?P<size>[\d.]+) MB; the limit is (?P<limit>\d+) MB\."),
        gettext_lazy("The file is %(size)s MB; the limit is %(limit)s MB."),
    ),
    (
        re.compile(r"(?P<name>.+) is (?P<size>[\d.]+) MB; the limit is (?P<limit>\d+) MB\."),
        gettext_lazy("%(name)s is %(size)s MB; the limit is %(limit)s MB."),
    ),
    (
        re.compile(r"The image claims far more pixels than allowed; the limit is (?P<limit>\d+) megapixels\."),
        gettext_lazy("The image claims far more pixels than allowed; the limit is %(limit)s megapixels."),
    ),
    (re.compile(r"The file is not an image we can read\."), gettext_lazy("The file is not an image we can read.")),
    (
        re.compile(r"(?P<format>\S+) images are not supported; send JPEG, PNG, BMP or WebP\."),
        gettext_lazy("%(format)s images are not supported; send JPEG, PNG, BMP or WebP."),
    ),
    (
        re.compile(r"The image has (?P<size>[\d.]+) megapixels; the limit is (?P<limit>\d+)\."),
        gettext_lazy("The image has %(size)s megapixels; the limit is %(limit)s."),
    ),
    (
        re.compile(r"The image is (?P<dims>\d+x\d+); no side may exceed (?P<limit>\d+) px\."),
        gettext_lazy("The image is %(dims)s; no side may exceed %(limit)s px."),
    ),
    (
        re.compile(r"The image is (?P<dims>\d+x\d+); each side must be at least (?P<limit>\d+) px\."),
        gettext_lazy("The image is %(dims)s; each side must be at least %(limit)s px."),
    ),
    (
        re.compile(r"The image file is corrupt or truncated\."),
        gettext_lazy("The image file is corrupt or truncated."),
    ),
    (
        re.compile(r"The operation took too long and was stopped\."),
        gettext_lazy("The operation took too long and was stopped."),
    ),
    (re.compile(r"An internal error stopped the job\."), gettext_lazy("An internal error stopped the job.")),
    (
        re.compile(r"A photo must show exactly one face\."),
        gettext_lazy("A photo must show exactly one face."),
    ),
    (
        re.compile(r"You already have (?P<count>\d+) spaces, the most allowed\."),
        gettext_lazy("You already have %(count)s spaces, the most allowed."),
    ),
    (
        re.compile(r"Another space was created at the same time; try again\."),
        gettext_lazy("Another space was created at the same time; try again."),
    ),
    (
        re.compile(r"Send at most (?P<count>\d+) photos at once\."),
        gettext_lazy("Send at most %(count)s photos at once."),
    ),
    (
        re.compile(r"Too many faces in this photo \((?P<found>\d+)\); at most (?P<limit>\d+) per photo\."),
        gettext_lazy("Too many faces in this photo (%(found)s); at most %(limit)s per photo."),
    ),
    (
        re.compile(r"Decoding the photos of this request would take more than the (?P<limit>\d+) MB of pixels allowed per request \(16-bit and transparent photos count more\); send fewer or smaller photos at once\."),
        gettext_lazy("Decoding the photos of this request would take more than the %(limit)s MB of pixels allowed per request (16-bit and transparent photos count more); send fewer or smaller photos at once."),
    ),
    (
        re.compile(r"The API client “(?P<name>.*)” is disabled or revoked; its work cannot run again\."),
        gettext_lazy("The API client “%(name)s” is disabled or revoked; its work cannot run again."),
    ),
    (
        re.compile(r"The daily quota of (?P<limit>\d+) units of the API client “(?P<name>.*)” is spent\. It renews at midnight UTC\."),
        gettext_lazy("The daily quota of the API client “%(name)s” (%(limit)s units) is spent. It renews at midnight UTC."),
    ),
]

# Missing models, in every language English included: the operator's wording (a README section,
# a command, a model file name) is for the admin pages and /healthz; a visitor learns only what
# this server cannot do.
USER_FACING: list[tuple[re.Pattern[str], object]] = [
    (
        re.compile(r"black-and-white photos? (?:are )?not colorized: colorize unavailable: .*"),
        gettext_lazy("Black-and-white photos are not colorized: colorize is not available on this server."),
    ),
    (
        re.compile(r"(?P<operation>\w+) unavailable: no colorizer model installed.*"),
        gettext_lazy("%(operation)s is not available on this server."),
    ),
    (
        re.compile(r"no colorizer model installed.*"),
        gettext_lazy("Colorize is not available on this server."),
    ),
    (
        re.compile(r"[a-z, ]+ unavailable: no emotion model installed.*"),
        gettext_lazy("Emotion, valence and arousal are not measured on this server."),
    ),
]

GENERAL = {
    EnhancerError.EMPTY_IMAGE: gettext_lazy("The file is empty."),
    EnhancerError.NOT_AN_IMAGE: gettext_lazy("The file is not an image we can read."),
    EnhancerError.UNSUPPORTED_FORMAT: gettext_lazy("This image format is not supported."),
    EnhancerError.FILE_TOO_LARGE: gettext_lazy("The file is too large."),
    EnhancerError.TOO_MANY_PIXELS: gettext_lazy("The image has too many pixels."),
    EnhancerError.IMAGE_TOO_SMALL: gettext_lazy("The image is too small."),
    EnhancerError.IMAGE_TOO_LARGE: gettext_lazy("The image is too large."),
    EnhancerError.BAD_PARAMS: gettext_lazy("The parameters are not valid."),
    EnhancerError.UNKNOWN_OPERATION: gettext_lazy("There is no such operation."),
    EnhancerError.NO_FACE: gettext_lazy("No face was found in the photo."),
    EnhancerError.TOO_MANY_FACES: gettext_lazy("The photo shows more than one face."),
    EnhancerError.UNAVAILABLE: gettext_lazy("This operation is unavailable on this server."),
    EnhancerError.TEMPORARY: gettext_lazy("A temporary problem; the job will be tried again."),
    EnhancerError.INTERNAL: gettext_lazy("An internal error stopped the job."),
    EnhancerError.TIMEOUT: gettext_lazy("The operation took too long and was stopped."),
    EnhancerError.OVER_TIME_LIMIT: gettext_lazy("This would take longer than this server allows for one job."),
    EnhancerError.WAIT_TIMEOUT: gettext_lazy("This would not finish in time; try again later."),
    EnhancerError.QUOTA_EXCEEDED: gettext_lazy("The quota is used up for now."),
    EnhancerError.CLIENT_DISABLED: gettext_lazy("The API client of this job is disabled."),
    EnhancerError.QUEUE_UNAVAILABLE: gettext_lazy("The job queue cannot be reached right now; try again shortly."),
    EnhancerError.STORAGE_UNAVAILABLE: gettext_lazy("File storage cannot be reached right now; try again shortly."),
    EnhancerError.WORKER_LOST: gettext_lazy("The worker running the job stopped; it will be tried again."),
    EnhancerError.CANCELLED: gettext_lazy("An operator cancelled the job before it ran."),
}

RETRYING = "Retrying: "


def translate_message(message: str, code: str = "") -> str:
    """``message`` (an EnhancerError's) in the active language."""
    if not message:
        return message
    for pattern, sentence in USER_FACING:
        match = pattern.fullmatch(message)
        if match:
            return _format(sentence, match)
    if code == EnhancerError.UNAVAILABLE:
        return str(GENERAL[code])  # the reason is the operator's (admin pages, /healthz)
    if (get_language() or "en").startswith("en"):
        return message
    if message.startswith(RETRYING):
        return _("Retrying: %(reason)s") % {"reason": translate_message(message[len(RETRYING):], code)}
    for pattern, sentence in PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return _format(sentence, match)
    general = GENERAL.get(code)
    return f"{general} ({message})" if general else message


def _format(sentence, match: re.Match) -> str:
    values = match.groupdict()
    if "operation" in values:
        values["operation"] = operation_label(values["operation"])
    return str(sentence) % values if values else str(sentence)


def unavailable_text(operation: str) -> str:
    """"Colorize is not available on this server.", for an operation a page must disable."""
    return _("%(operation)s is not available on this server.") % {"operation": operation_label(operation)}


def translate_error(error: EnhancerError) -> str:
    return translate_message(error.message, error.code)
