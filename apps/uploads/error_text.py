"""EnhancerError messages in the visitor's language, translated when they are shown.

The engine raises an English template marked with ``gettext_noop`` and its parameters; the job
row keeps both next to the English text the APIs answer. A page translates the template and
fills it with the parameters, some of them worded in the page's language first:

- ``operation``: the operation's name, shown as its label ("Upscale");
- ``<name>_seconds`` / ``<name>_exact_seconds``: a duration that replaces ``<name>``;
- ``<name>_params``: an operation's parameters, shown as " (×4, photo)" in place of ``<name>``;
- ``<name>_messages``: ``[template, params]`` pairs (another error's sentence, a list of
  suggestions), each translated, that replace ``<name>``;
- ``<name>_job``: ``[operation, params]``, shown as "Upscale (×2, photo, best)";
- ``<name>_label``: an English label marked with ``gettext_noop`` (a parameter's), translated;
- ``<name>_or`` / ``<name>_and``: a list, joined in the page's language ("2 или 4").

An UNAVAILABLE error's reason is the operator's (a setting, a model file, a README section):
pages say only what this server cannot do. A row from before templates were kept gets its
code's general sentence, followed by the English text where the page is not in English.
"""

from __future__ import annotations

from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from apps.imaging.errors import EnhancerError

from .operation_text import describe_params, duration_text, join_list, operation_label

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


def error_text(error) -> str:
    """An EnhancerError, or a job's error, in the active language."""
    if isinstance(error, EnhancerError):
        return describe(error.code, error.message_id, error.params, error.message)
    return describe(error.error_code, error.error_message_id, error.error_params, error.error_message)


def describe(code: str, message_id: str, params: dict, message: str = "") -> str:
    if code == EnhancerError.UNAVAILABLE:
        operation = (params or {}).get("operation")
        return unavailable_text(operation) if operation else str(GENERAL[code])
    if message_id:
        return fill(message_id, params or {})
    general = GENERAL.get(code)
    if not general or (get_language() or "en").startswith("en"):
        return message
    return f"{general} ({message})" if message else str(general)


def fill(message_id: str, params: dict) -> str:
    """The template in the active language, filled with the parameters worded for the page."""
    shown = {}
    for name, value in params.items():
        if name == "operation":
            value = operation_label(value)
        elif f"{name}_seconds" in params:
            value = duration_text(params[f"{name}_seconds"])
        elif f"{name}_exact_seconds" in params:
            value = duration_text(params[f"{name}_exact_seconds"], about=False)
        elif f"{name}_params" in params:
            described = describe_params(params[f"{name}_params"])
            value = f" ({described})" if described else ""
        elif f"{name}_label" in params:
            value = _(params[f"{name}_label"])
        elif f"{name}_job" in params:
            operation, settings = params[f"{name}_job"]
            value = f"{operation_label(operation)} ({describe_params(settings)})"
        elif f"{name}_or" in params or f"{name}_and" in params:
            items = params.get(f"{name}_or") or params[f"{name}_and"]
            word = _("or") if f"{name}_or" in params else _("and")
            value = f"{join_list(items[:-1])} {word} {items[-1]}" if len(items) > 1 else join_list(items)
        elif f"{name}_messages" in params:
            separator = pgettext("between alternatives", "; or ")
            value = separator.join(fill(*message) for message in params[f"{name}_messages"])
        shown[name] = value
    text = _(message_id)
    return text % shown if shown else text


def unavailable_text(operation: str) -> str:
    """"Colorize is not available on this server.", for an operation a page must disable."""
    return _("%(operation)s is not available on this server.") % {"operation": operation_label(operation)}
