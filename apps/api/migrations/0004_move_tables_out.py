"""First step of moving ApiClient to accounts and WebUsage to uploads: their tables take the
names their new apps will own.

The rows stay where they are; accounts/0002 and uploads/0004 adopt the models without touching
the database, and api/0005 points the foreign keys at them and forgets its own copies.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0003_security"),
    ]

    operations = [
        migrations.AlterModelTable(name="apiclient", table="accounts_apiclient"),
        migrations.AlterModelTable(name="webusage", table="uploads_webusage"),
    ]
