import os

from celery import Celery, signals

from . import private_folders

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enhancer_site.settings")

app = Celery("enhancer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **_kwargs) -> None:
    """The embedded filesystem broker's folders, made when Celery first reads its configuration
    (the first message sent, a worker or beat starting), not when the settings are imported."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            private_folders.make(options[key])


@signals.worker_process_init.connect
@signals.worker_init.connect
def _limit_threads(**_kwargs) -> None:
    """OpenCV sizes its own thread pool from the cores, not from ENHANCER_THREADS: with one light
    worker process per core and a heavy one beside them (scripts/worker.sh), each must keep to its
    share or they oversubscribe the cores and every job slows down."""
    if os.environ.get("ENHANCER_THREADS"):
        import cv2

        from apps.imaging import runtimes

        cv2.setNumThreads(runtimes.threads())


WARM_UP_ENV = "ENHANCER_WARM_UP"


@signals.worker_process_init.connect
def _warm_up_child(**_kwargs) -> None:
    _warm_up()


@signals.worker_init.connect
def _warm_up_solo(sender=None, **_kwargs) -> None:
    # worker_init runs in the main process: only the solo pool runs the tasks there (a prefork
    # parent would load networks its children never share).
    if "solo" in str(getattr(sender, "pool_cls", "")).lower():
        _warm_up()


def _warm_up() -> None:
    """In the process that runs the jobs, when ``ENHANCER_WARM_UP`` names networks (the heavy
    worker, scripts/worker.sh): load them in the background before the first job arrives. A job
    that comes sooner waits for the same load instead of starting another (ModelCache)."""
    keys = tuple(key for key in os.environ.get(WARM_UP_ENV, "").replace(",", " ").split() if key)
    if not keys:
        return
    import threading

    from apps.imaging import networks

    threading.Thread(target=networks.warm_up, args=(keys,), name="warm-up", daemon=True).start()
