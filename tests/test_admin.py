"""The admin is how operators run the site: every changelist, search and detail page answers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import ApiClient
from apps.uploads.tasks import process_job
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "admin:uploads_job_changelist",
    "admin:uploads_output_changelist",
    "admin:accounts_apiclient_changelist",
    "admin:face_registry_space_changelist",
    "admin:face_registry_person_changelist",
    "admin:face_registry_face_changelist",
    "admin:accounts_user_changelist",
]


@pytest.fixture
def admin_client_with_a_job(client, django_user_model, alice):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-pass-123")
    job = make_job(alice, "contrast", name="holiday.png")
    process_job.apply(args=[job.id])
    ApiClient.issue(alice, "alice-app")
    client.force_login(admin)
    return client, job


def test_every_changelist_answers_with_search_and_filters(admin_client_with_a_job):
    client, job = admin_client_with_a_job
    for name in CHANGELISTS:
        assert client.get(reverse(name)).status_code == 200, name
        assert client.get(reverse(name), {"q": "holiday"}).status_code == 200, name
    page = client.get(reverse("admin:uploads_job_changelist"), {"status__exact": "succeeded"})
    assert "holiday.png" in page.content.decode() or str(job.uuid) in page.content.decode()
    assert reverse("admin_thumbnail", args=[job.uuid]) in page.content.decode()


def test_the_job_page_shows_its_outputs_and_the_thumbnail_is_staff_only(
    admin_client_with_a_job, alice
):
    client, job = admin_client_with_a_job
    detail = client.get(reverse("admin:uploads_job_change", args=[job.id]))
    assert detail.status_code == 200 and "contrasted" in detail.content.decode()
    assert client.get(reverse("admin_thumbnail", args=[job.uuid])).status_code == 200
    client.force_login(alice)  # the job's owner, but not staff
    response = client.get(reverse("admin_thumbnail", args=[job.uuid]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
