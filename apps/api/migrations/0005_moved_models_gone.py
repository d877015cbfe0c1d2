"""Last step of moving ApiClient to accounts and WebUsage to uploads: every foreign key points
at accounts.ApiClient, then api forgets its copies of the models (the tables, already renamed
for their new apps, stay). Their content types move too, so the permissions granted on them and
the admin's history of them carry over."""

import django.db.models.deletion
from django.db import migrations, models


def _client_field(related_name: str):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="accounts.apiclient"
    )


MOVED = {"apiclient": "accounts", "webusage": "uploads"}


def _move_content_types(backwards: bool):
    def move(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(
            schema_editor.connection.alias
        )
        for model, new_app in MOVED.items():
            source, target = (new_app, "api") if backwards else ("api", new_app)
            if not content_types.filter(app_label=target, model=model).exists():
                content_types.filter(app_label=source, model=model).update(app_label=target)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_apiclient"),
        ("api", "0004_move_tables_out"),
        ("face_registry", "0002_space_client_from_accounts"),
        ("uploads", "0004_moved_from_api"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterField(model_name="baiduaccesstoken", name="client", field=_client_field("baidu_tokens")),
        migrations.AlterField(model_name="usagecounter", name="client", field=_client_field("usage")),
        migrations.AlterField(model_name="idempotentrequest", name="client", field=_client_field("idempotent")),
        migrations.AlterField(model_name="jobwebhook", name="client", field=_client_field("webhooks")),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiClient"), migrations.DeleteModel(name="WebUsage")],
        ),
        migrations.RunPython(_move_content_types(backwards=False), _move_content_types(backwards=True)),
    ]
