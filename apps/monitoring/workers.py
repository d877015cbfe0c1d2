"""Worker processes say they are alive: a row per process (:class:`WorkerBeat`), written every
``ENHANCER_JOB_HEARTBEAT_SECONDS`` by a side thread and removed on a clean exit. A process killed
outright leaves its row, which goes stale and then counts as dead; stale rows older than a day
are deleted by the next live worker.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from apps.uploads.liveness import worker_name

from .models import WorkerBeat

log = logging.getLogger(__name__)

FORGET_AFTER = timedelta(days=1)


class WorkerHeartbeat:
    def __init__(self, node: str, queues: list[str]) -> None:
        self.name = worker_name()[:255]
        self.node = node[:255]
        self.queues = ",".join(sorted(queues))[:255]
        self.pid = os.getpid()
        self.interval = float(settings.ENHANCER_JOB_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def start(self) -> WorkerHeartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 10)
        try:
            WorkerBeat.objects.filter(name=self.name).delete()
        except DatabaseError as error:
            log.warning("could not remove worker row %s: %s", self.name, error)
        finally:
            connection.close()

    def beat(self) -> None:
        now = timezone.now()
        WorkerBeat.objects.update_or_create(
            name=self.name,
            defaults={"node": self.node, "queues": self.queues, "beat_at": now},
            create_defaults={"node": self.node, "queues": self.queues, "beat_at": now,
                             "started_at": now},
        )

    def _run(self) -> None:
        try:
            first = True
            while first or not self._stop.wait(self.interval):
                try:
                    self.beat()
                    if first:
                        WorkerBeat.objects.filter(beat_at__lt=timezone.now() - FORGET_AFTER).delete()
                except DatabaseError as error:
                    log.warning("worker heartbeat not written: %s", error)
                    connection.close()
                first = False
        finally:
            connection.close()
