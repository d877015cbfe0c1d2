"""Adding an operation is one module and one registration: an operation registered here, with one
declared parameter, is cleaned by the engine, offered by the upload page, documented by the REST
schema and priced by the cost model with nothing else written for it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.imaging import operations
from apps.imaging.errors import EnhancerError
from apps.uploads import costs
from apps.uploads.forms import UploadForm
from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db

STRENGTH = operations.Param(
    "strength", (operations.Choice(1, "Gentle"), operations.Choice(3, "Strong")), 1,
    "Sharpening strength", "How hard edges are pushed.", cheaper=(1,),
)
SHARPEN = operations.Operation(
    "sharpen", "Sharpen",
    lambda picture, _params, _progress: operations.Result({"sharpened": picture}),
    params=(STRENGTH,), outputs=("sharpened",),
    work=lambda params, _pixels: operations.Work(heavy=params["strength"] > 1),
    rates=(operations.Rate(0.5, 2.0, {"strength": "1"}), operations.Rate(1.0, 4000.0)),
)


@pytest.fixture
def sharpen(monkeypatch):
    monkeypatch.setitem(operations.REGISTRY, "sharpen", SHARPEN)  # removed again afterwards
    return SHARPEN


def test_the_engine_cleans_its_parameter_from_the_declaration(sharpen):
    clean = operations.get("sharpen").clean_params
    assert clean({}) == {"strength": 1}
    assert clean({"strength": " 3 "}) == clean({"strength": 3.0}) == {"strength": 3}
    for bad, message in [
        ({"strength": 2}, "strength must be 1 or 3, got 2."),
        ({"strength": True}, "strength must be 1 or 3, got True."),
        ({"strength": "hard"}, "strength must be 1 or 3, got 'hard'."),
        ({"radius": 2}, "Unknown sharpen parameters: radius; use strength."),
    ]:
        with pytest.raises(EnhancerError) as caught:
            clean(bad)
        assert (caught.value.code, caught.value.message) == (EnhancerError.BAD_PARAMS, message)


def test_the_upload_form_and_page_offer_it_only_with_its_operation(sharpen, alice_client):
    field = UploadForm().fields["strength"]
    assert list(field.choices) == [(1, "Gentle"), (3, "Strong")]
    assert (field.initial, field.label, field.help_text) == (1, "Sharpening strength", "How hard edges are pushed.")
    html = alice_client.get(reverse("uploads:new")).content.decode()
    group = html.split('<fieldset class="params" data-for="sharpen">')[1].split("</fieldset>")[0]
    assert "Sharpen options" in group and 'name="strength"' in group and "Sharpening strength" in group
    assert 'name="strength"' not in html.split('data-for="upscale"')[1].split("</fieldset>")[0]

    photo = SimpleUploadedFile("a.png", image_bytes(120, 90), "image/png")
    response = alice_client.post(
        reverse("uploads:new"), {"photos": [photo], "operation": "sharpen", "strength": "3", "factor": "2"}
    )
    assert response.status_code == 302
    job = Job.objects.get()
    # Only the chosen operation's parameters go with it; upscale's factor stays behind.
    assert (job.operation, job.params, job.cost_class) == ("sharpen", {"strength": 3}, "heavy")


def test_the_rest_schema_documents_it(sharpen):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    strength = components["SharpenParams"]["properties"]["strength"]
    values = components[strength["allOf"][0]["$ref"].rsplit("/", 1)[1]]  # enums become components
    assert (values["enum"], values["type"], strength["default"]) == ([1, 3], "integer", 1)
    assert strength["description"] == "Sharpening strength. How hard edges are pushed."
    assert components["SharpenParams"]["additionalProperties"] is False
    created = components["JobCreate"]["properties"]
    assert {"$ref": "#/components/schemas/SharpenParams"} in created["params"]["anyOf"]
    assert "sharpen: strength (1 or 3; default 1)" in created["params"]["description"]
    assert "sharpen" in created["operation"]["description"]


def test_the_cost_model_classes_prices_and_suggests_from_the_declaration(sharpen, alice_client, settings):
    assert costs.default_cost("sharpen", {"strength": "1"}) == (0.5, 2.0)
    gentle = costs.plan("sharpen", {"strength": 1}, 1000, 1000)
    assert (gentle.cost_class, gentle.key, gentle.estimate_seconds) == ("light", "sharpen strength=1", 2.5)
    strong = costs.plan("sharpen", {"strength": 3}, 1000, 1000)
    assert (strong.cost_class, strong.estimate_seconds) == ("heavy", 4001.0)
    # Too slow for the limit: the declared cheaper value is what would fit.
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 60
    with pytest.raises(EnhancerError) as caught:
        costs.admit("sharpen", {"strength": 3}, [SimpleNamespace(info=SimpleNamespace(width=1000, height=1000))])
    assert "strength 1 at this size" in caught.value.message
    estimates = alice_client.get(reverse("uploads:estimate"), {"sizes": "1000x1000", "strength": "3"}).json()
    assert estimates["operations"]["sharpen"]["seconds"] == 4001.0
