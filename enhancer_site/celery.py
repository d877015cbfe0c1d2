import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enhancer_site.settings")

app = Celery("enhancer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
@signals.worker_init.connect
def _limit_threads(**_kwargs) -> None:
    """OpenCV sizes its own thread pool from the cores, not from ENHANCER_THREADS: with one light
    worker process per core and a heavy one beside them (scripts/worker.sh), each must keep to its
    share or they oversubscribe the cores and every job slows down."""
    if os.environ.get("ENHANCER_THREADS"):
        import cv2

        from apps.imaging import superres

        cv2.setNumThreads(superres.threads())
