"""Signals other apps may listen to, so this app needs to know nothing about them."""

from django.dispatch import Signal

# Sent once a job has turned succeeded or failed (after the row is committed), with
# ``job_id``. The native API listens to call webhooks.
job_finished = Signal()
