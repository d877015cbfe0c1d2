from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """One process that runs jobs, and when it last said it is alive (``workers.py``).

    Idle workers run no job, so the jobs' own heartbeats cannot tell whether a queue has anyone
    to serve it; these rows can. ``name`` is "host:pid", as in ``Job.worker``, so a worker's
    current job is the running job with its name.
    """

    name = models.CharField(max_length=255, unique=True)
    node = models.CharField(max_length=255, blank=True)
    queues = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["node", "name"]
        indexes = [
            # "Which workers are alive": the rows beaten recently.
            models.Index(fields=["beat_at"], name="worker_beat_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.queues})"

    def serves(self, queue: str) -> bool:
        return queue in self.queues.split(",")
