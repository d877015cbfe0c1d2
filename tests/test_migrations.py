"""Migrations: the models match them; the moves out of api (ApiClient to accounts, WebUsage to
uploads) keep every row, link and permission — forwards, backwards and forwards again; jobs
stored by an older version can still run."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.accounts.models import ApiClient, User
from apps.api.models import UsageCounter
from apps.face_registry.models import Space
from apps.uploads.models import Job, WebUsage

BEFORE_MOVE = [
    ("accounts", "0001_initial"),
    ("api", "0003_security"),
    ("face_registry", "0001_initial"),
    ("uploads", "0003_reliability"),
]


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets).apps if targets else None


def _table_names() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_models_moved_out_of_api_keep_their_rows_links_and_permissions():
    try:
        old = _migrate(BEFORE_MOVE)
        assert {"api_apiclient", "api_webusage"} <= _table_names()
        user = old.get_model("accounts", "User").objects.create(username="alice")
        client = old.get_model("api", "ApiClient").objects.create(
            owner=user, name="partner", token_hash="t" * 64, token_prefix="tttt",
            baidu_api_key="b", baidu_secret_hash="b" * 64, meitu_api_key="m", meitu_secret_hash="m" * 64,
        )
        old.get_model("api", "UsageCounter").objects.create(client=client, bucket="d:2026-11-22", count=3)
        old.get_model("api", "WebUsage").objects.create(user=user, day="2026-11-22", count=7)
        job = old.get_model("uploads", "Job").objects.create(
            owner=user, api_client=client, operation="dehaze", input_file="in.png"
        )
        upscale = old.get_model("uploads", "Job").objects.create(
            owner=user, operation="upscale", params={"factor": 4, "kind": "photo"}, input_file="in.png"
        )
        space = old.get_model("face_registry", "Space").objects.create(owner=user, client=client, number=0)
        # Rolling back moved the content type, and the permissions on it, back to api.
        old_type = ContentType.objects.get(app_label="api", model="apiclient")
        permission = Permission.objects.get(content_type=old_type, codename="change_apiclient")
        User.objects.get(id=user.id).user_permissions.add(permission)

        _migrate()
        _check_moved(user.id, client.id, job.id, space.id, old_type.id)
        # Stored before the quality tiers: the worker runs stored parameters as they are.
        assert Job.objects.get(id=upscale.id).params == {"factor": 4, "kind": "photo", "quality": "best"}

        old = _migrate(BEFORE_MOVE)  # and back: the table and the content type return to api
        assert {"api_apiclient", "api_webusage"} <= _table_names()
        assert not {"accounts_apiclient", "uploads_webusage"} & _table_names()
        assert old.get_model("api", "ApiClient").objects.get(id=client.id).name == "partner"
        assert ContentType.objects.get(id=old_type.id).app_label == "api"

        _migrate()
        _check_moved(user.id, client.id, job.id, space.id, old_type.id)
    finally:
        _migrate()
    ContentType.objects.clear_cache()


def _check_moved(user_id: int, client_id: int, job_id: int, space_id: int, content_type_id: int):
    assert {"accounts_apiclient", "uploads_webusage"} <= _table_names()
    assert not {"api_apiclient", "api_webusage"} & _table_names()
    client = ApiClient.objects.get(id=client_id)
    assert (client.name, client.owner_id) == ("partner", user_id)
    assert Job.objects.get(id=job_id).api_client_id == client_id
    assert Space.objects.get(id=space_id).client_id == client_id
    assert UsageCounter.objects.get(client=client).count == 3
    assert WebUsage.objects.get(user_id=user_id).count == 7
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(ApiClient).id == content_type_id
    assert not ContentType.objects.filter(app_label="api", model__in=["apiclient", "webusage"]).exists()
    assert User.objects.get(id=user_id).has_perm("accounts.change_apiclient")
    # The database still enforces the links.
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCounter.objects.create(client_id=client_id + 1000, bucket="d:2026-11-23")
