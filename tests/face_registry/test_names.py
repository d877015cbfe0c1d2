"""Spaces and persons are known by the names people give them; the numbers the API uses stay
out of the way (folded under "For developers") and keep working unchanged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.face_registry import services
from apps.face_registry.models import Person, Space

pytestmark = [pytest.mark.django_db]


def test_a_space_needs_a_name_and_is_shown_by_it(alice_client, alice):
    response = alice_client.post(reverse("face_registry:spaces"), {"name": "   "})
    assert response.status_code == 200 and not Space.objects.exists()
    assert "Give the space a name" in response.content.decode()

    alice_client.post(reverse("face_registry:spaces"), {"name": "Family"})
    space = Space.objects.get(owner=alice)
    listing = alice_client.get(reverse("face_registry:spaces")).content.decode()
    page = alice_client.get(reverse("face_registry:space", args=[space.uuid])).content.decode()
    for html in (listing, page):
        assert "Family" in html
        assert "space 0" not in html.lower()
    assert "The API calls this space number 0." in page  # folded, for developers

    # Renaming to nothing keeps the name.
    alice_client.post(reverse("face_registry:space", args=[space.uuid]), {"name": ""})
    space.refresh_from_db()
    assert space.name == "Family"


def test_an_unnamed_space_made_through_the_api_is_not_called_space_0(alice_client, alice):
    space = services.get_space(alice, 0)
    html = alice_client.get(reverse("face_registry:spaces")).content.decode()
    assert "Unnamed space" in html and "Space 0" not in html
    assert alice_client.get(reverse("face_registry:space", args=[space.uuid])).status_code == 200


def test_enrolment_offers_a_new_person_or_one_by_name_with_no_number_to_type(alice_client, alice):
    space = services.get_space(alice, 0)
    Person.objects.create(space=space, person_id=7, name="Barack")
    Person.objects.create(space=space, person_id=8)
    html = alice_client.get(reverse("face_registry:space", args=[space.uuid])).content.decode()
    start = html.index('id="enroll-form"')
    form = html[start:html.index("</form>", start)]
    assert '<select name="person_id"' in form
    assert '<option value="" selected>A new person</option>' in form
    assert '<option value="7">Barack</option>' in form and '<option value="8">person8</option>' in form
    assert 'type="number"' not in form and "Leave empty for a new person" not in form
    assert "Choose photos" in form


def test_enrolment_refuses_a_person_that_is_not_in_the_space(alice_client, alice):
    space = services.get_space(alice, 0)
    response = alice_client.post(
        reverse("face_registry:space_enroll", args=[space.uuid]), {"person_id": "99"}, follow=True
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.exists()
