import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_apiclient"),
        ("face_registry", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="space",
            name="client",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="face_spaces", to="accounts.apiclient"),
        ),
    ]
