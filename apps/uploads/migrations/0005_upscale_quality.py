"""Upscale jobs stored before the quality tiers existed get the tier they were made for ("best"):
the worker runs the parameters stored at submission as they are, so a job still queued across
the upgrade, or taken over after it, would otherwise fail."""

from django.db import migrations


def add_quality(apps, schema_editor):
    Job = apps.get_model("uploads", "Job")
    jobs = Job.objects.using(schema_editor.connection.alias).filter(operation="upscale")
    stale = [job for job in jobs.only("id", "params").iterator() if "quality" not in job.params]
    for job in stale:
        job.params = {**job.params, "quality": "best"}
    Job.objects.using(schema_editor.connection.alias).bulk_update(stale, ["params"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("uploads", "0004_moved_from_api"),
    ]

    operations = [
        migrations.RunPython(add_quality, migrations.RunPython.noop),
    ]
