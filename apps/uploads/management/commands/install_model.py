"""Install a model file (e.g. the colorizer) into ENHANCER_MODEL_DIR after checking its SHA-256.

Colorizer files accepted: an ONNX export (``--name colorizer.onnx``), the ``colorizers``
package's ECCV16 / SIGGRAPH17 ``.pth`` state dicts (converted once to ``colorizer.onnx``), or
OpenCV's Caffe release, one file per call (README, "Models").
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.imaging.colorize import install_model
from apps.imaging.errors import EnhancerError


class Command(BaseCommand):
    help = (
        "Copy a model file into ENHANCER_MODEL_DIR once its SHA-256 matches; a colorizer .pth "
        "state dict is also converted to colorizer.onnx."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a local path, or a file:// or https:// URL")
        parser.add_argument("sha256", help="the expected SHA-256, 64 hex digits")
        parser.add_argument("--name", help="file name in the model folder (colorizer.onnx, …)")

    def handle(self, *args, source: str, sha256: str, name: str | None, **options):
        try:
            path = install_model(source, sha256, settings.ENHANCER_MODEL_DIR, filename=name)
        except EnhancerError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Installed {path}. Restart the workers to load it."))
