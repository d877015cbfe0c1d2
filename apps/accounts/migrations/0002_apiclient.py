"""ApiClient moves here from api; its table was renamed by api/0004, so only the state changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("api", "0004_move_tables_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiClient",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100)),
                        ("enabled", models.BooleanField(default=True)),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("token_prefix", models.CharField(help_text="First characters, to tell tokens apart", max_length=8)),
                        ("baidu_api_key", models.CharField(max_length=64, unique=True)),
                        ("baidu_secret_hash", models.CharField(max_length=64)),
                        ("meitu_api_key", models.CharField(max_length=64, unique=True)),
                        ("meitu_secret_hash", models.CharField(max_length=64)),
                        ("webhook_secret", models.CharField(blank=True, max_length=64)),
                        ("daily_quota", models.PositiveIntegerField(default=1000, help_text="Requests per UTC day; 0 = none")),
                        ("rate_limit_per_minute", models.PositiveIntegerField(default=60, help_text="0 = unlimited")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_clients", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "ordering": ["name", "id"],
                        "verbose_name": "API client",
                    },
                ),
            ],
        ),
    ]
