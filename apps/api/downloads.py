"""Signed, expiring links to one job's output (or its input, when the job produced nothing) —
what Meitu's ``rsp_media_type=url`` hands out.

The link carries no credentials: the signature (Django's SECRET_KEY) and its age are the
authorisation, so it can be fetched by any HTTP client, as Meitu's own result URLs can.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET

from apps.common.files import private_file_response
from apps.uploads.files import input_filename, output_filename
from apps.uploads.models import Job, Output

_SALT = "enhancer.api.signed-output"


def signed_url(request: HttpRequest, job: Job, output: Output | None) -> str:
    """A link to ``output``; with None, to the job's own input (a photo that needed no repair)."""
    claims = {"o": output.id if output else None, "j": str(job.uuid)}
    token = signing.dumps(claims, salt=_SALT, compress=True)
    return request.build_absolute_uri(reverse("api:signed-output", args=[token]))


@require_GET
def signed_output(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        claims = signing.loads(token, salt=_SALT, max_age=settings.ENHANCER_SIGNED_URL_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        raise Http404("This link is invalid or has expired.") from None
    # A link lives no longer than the client it was handed to: once that client is disabled,
    # revoked (deleted, leaving the job's api_client empty) or its owner deactivated, it is dead.
    live = {"api_client__enabled": True, "api_client__owner__is_active": True}
    if claims.get("o") is None:
        job = Job.objects.filter(uuid=claims.get("j"), **live).first()
        if job is None:
            raise Http404("No such file")
        return private_file_response(job.input_file, input_filename(job))
    output = (
        Output.objects.select_related("job")
        .filter(id=claims.get("o"), job__uuid=claims.get("j"),
                **{f"job__{name}": value for name, value in live.items()})
        .first()
    )
    if output is None:
        raise Http404("No such file")
    return private_file_response(output.file, output_filename(output))
