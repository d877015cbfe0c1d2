"""Another user's jobs and files are invisible: the same 404 as for a job that does not exist."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(alice):
    job = make_job(alice)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    return job


def urls(job):
    return [
        reverse("history:detail", args=[job.uuid]),
        reverse("uploads:status", args=[job.uuid]),
        reverse("uploads:input", args=[job.uuid]),
        reverse("uploads:thumbnail", args=[job.uuid]),
        reverse("uploads:output", args=[job.uuid, "contrasted"]),
        reverse("uploads:output", args=[job.uuid, "contrasted"]) + "?download=1",
        reverse("history:zip", args=[job.uuid]),
    ]


def test_the_owner_sees_every_page_and_file(client, alice, finished_job):
    client.force_login(alice)
    for url in urls(finished_job):
        assert client.get(url).status_code == 200, url


def test_another_user_gets_404_everywhere(client, bob, finished_job):
    client.force_login(bob)
    for url in urls(finished_job):
        assert client.get(url).status_code == 404, url
    for action in ("history:delete", "history:rerun"):
        assert client.post(reverse(action, args=[finished_job.uuid])).status_code == 404
    assert Job.objects.filter(id=finished_job.id).exists()
    assert Job.objects.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, finished_job):
    for url in urls(finished_job):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


def test_history_lists_only_my_jobs(client, alice, bob):
    mine = make_job(alice, name="mine.png")
    make_job(bob, name="theirs.png")
    client.force_login(alice)
    page = client.get(reverse("history:list")).content.decode()
    assert "mine.png" in page and "theirs.png" not in page
    assert str(mine.uuid) in page


def test_history_list_query_count_does_not_grow_with_jobs(client, alice, django_assert_max_num_queries):
    for index in range(12):
        make_job(alice, name=f"p{index}.png")
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("history:list"))
    assert response.status_code == 200


def test_the_media_folder_is_not_served_publicly(client, finished_job):
    assert client.get("/media/" + finished_job.input_file.name).status_code == 404
