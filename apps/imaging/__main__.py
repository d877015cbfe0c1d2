"""Command line for the engine, usable without Django.

    python -m apps.imaging list
    python -m apps.imaging dehaze IN.jpg OUT.jpg
    python -m apps.imaging upscale IN.jpg OUT.png --factor 4 --kind photo --quality best
    python -m apps.imaging improve IN.jpg OUT.jpg        # OUT-improved.jpg, OUT-colored.jpg, …
    python -m apps.imaging faces IN.jpg [OUT.json]       # JSON on stdout (and in OUT)
    python -m apps.imaging install-model SOURCE SHA256 [--model-dir DIR] [--name colorizer.onnx]
    python -m apps.imaging quantize [--photos DIR] [--evaluate PHOTO ...]  # int8, needs NNCF

An operation with one output writes it to OUT; with several, each goes to OUT with ``-<kind>``
before the extension. The extension picks the format (.jpg/.jpeg → JPEG, .png → PNG); any
other extension gets the engine's choice (JPEG stays JPEG, alpha or 16 bits → PNG).
Progress goes to stderr. Exit status: 0 done, 1 usage, 2 the engine refused (code: message), 3 quantize: int8 refused by
the accuracy gate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import codec, operations
from .errors import EnhancerError, gettext_noop

EXTENSION_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


class ProgressBar:
    def __init__(self, label: str, stream=sys.stderr, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream, width
        self.started = time.monotonic()
        self.last = -1

    def __call__(self, fraction: float) -> None:
        percent = int(min(max(fraction, 0.0), 1.0) * 100)
        if percent == self.last:
            return
        self.last = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {elapsed:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _output_paths(out: Path, kinds: list[str]) -> dict[str, Path]:
    if len(kinds) == 1:
        return {kinds[0]: out}
    return {kind: out.with_name(f"{out.stem}-{kind}{out.suffix}") for kind in kinds}


def _read(path: str):
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SystemExit(f"error: cannot read {path}: {error.strerror}") from None
    return codec.decode(data)


def run_operation(args: argparse.Namespace) -> int:
    operation = operations.get(args.operation)
    given = {param.name: getattr(args, param.name) for param in operation.params}
    params = operation.clean_params({name: value for name, value in given.items() if value is not None})
    picture = _read(args.input)
    bar = ProgressBar(args.operation)
    try:
        result = operations.run(args.operation, picture, params, bar)
    finally:
        bar.close()
    out = Path(args.output)
    fmt = EXTENSION_FORMATS.get(out.suffix.lower())
    paths = _output_paths(out, list(result.outputs))
    for kind, picture_out in result.outputs.items():
        paths[kind].write_bytes(codec.encode(picture_out, fmt))
        print(f"{kind}: {paths[kind]}", file=sys.stderr)
    if not result.outputs:
        print("no output (nothing to do for this photo)", file=sys.stderr)
    if result.info:
        print(json.dumps(result.info, sort_keys=True))
    return 0


def run_faces(args: argparse.Namespace) -> int:
    from . import faces  # noqa: PLC0415 - loads dlib; only this command needs it

    reason = faces.available()
    if reason:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("face analysis unavailable: %(reason)s"),
            {"reason": reason},
        )
    picture = _read(args.input)
    found = faces.analyze(picture, detector=args.detector, upsample=args.upsample)
    document = {
        "width": picture.width,
        "height": picture.height,
        "faces": [
            {**face.as_dict(), "embedding": [round(float(v), 6) for v in face.embedding]}
            for face in found
        ],
    }
    text = json.dumps(document, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(text)
    return 0


def run_install_model(args: argparse.Namespace) -> int:
    from .colorize import install_model  # noqa: PLC0415
    from .config import config  # noqa: PLC0415

    model_dir = args.model_dir or config().model_dir
    if not model_dir:
        raise SystemExit("error: give --model-dir or set ENHANCER_MODEL_DIR")
    path = install_model(args.source, args.sha256, model_dir, args.name)
    print(f"installed {path}")
    return 0


def run_quantize(args: argparse.Namespace) -> int:
    """Make x4plus's int8 trunk once (needs NNCF) and gate it: calibrated on crops of --photos
    and their degradations, judged against float32 on tiles of --evaluate (never calibrated on).
    The engine uses it only if it passed (see `list`)."""
    from . import graphs, networks, quantize, runtimes  # noqa: PLC0415

    missing = quantize.nncf_missing()
    if missing:
        raise SystemExit(f"error: {missing}")
    spec = networks.MODELS["photo-x4"]
    paths = networks.model_paths(spec)
    if paths is None:
        raise SystemExit(f"error: {networks.missing_reason('photo-x4')}")
    if args.once:
        if not runtimes.int8_hardware():
            print("int8 not made: no int8 kernels on this CPU (AVX2 and up)")
            return 0
        made = quantize.verdict(networks.trunk_onnx(spec))
        if made is not None:
            print(f"int8 already made: {made['psnr_min']} dB, {'passed' if made['passed'] else 'refused'}")
            return 0
    trunk, head = graphs.split_onnx(graphs.converted_onnx(spec.name, *paths))
    evaluate = {Path(name).resolve() for name in args.evaluate}
    photos = [path for path in sorted(Path(args.photos).rglob("*"))
              if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp")
              and path.resolve() not in evaluate]
    calibration = quantize.calibration_crops(
        [_read(str(path)).rgb for path in photos], args.tiles, args.side
    )
    evaluation = quantize.calibration_crops(
        [_read(str(path)).rgb for path in sorted(evaluate)], args.evaluate_tiles, 128, seed=1
    )
    head_graph = graphs.OpenVinoGraph(head, runtimes.threads(), "f32")
    config = {"INFERENCE_PRECISION_HINT": runtimes.precision_for("openvino"),
              "INFERENCE_NUM_THREADS": runtimes.threads()}
    result = quantize.build(trunk, head_graph.infer, calibration, evaluation, config,
                            rivals=_ncnn_rival(paths, head_graph))
    print(json.dumps(result, indent=1))
    return 0 if result["passed"] else 3


def _ncnn_rival(paths, head_graph) -> dict:
    """The float trunk on ncnn, whose Winograd convolutions beat OpenVINO's on some CPUs (see
    networks.ncnn_trunk_refusal), for the race; none where ncnn cannot run it."""
    from . import graphs, runtimes  # noqa: PLC0415

    try:
        trunk = graphs.ncnn_trunk(*paths, runtimes.threads())
    except Exception:  # noqa: BLE001 - ncnn missing or the graph not cut: no rival
        return {}
    return {"ncnn": lambda tile: head_graph.infer(trunk.infer(tile))}


def run_list(_args: argparse.Namespace) -> int:
    from . import networks  # noqa: PLC0415 - reads CPU flags; only this command needs it

    for name, reason in sorted(operations.availability().items()):
        print(f"{name:12s} {'ok' if reason is None else 'unavailable: ' + reason}")
    info = networks.describe()
    cpu = info["cpu"]
    print(
        f"\nnetworks on this CPU ({cpu['model']}, {cpu['threads']} threads, "
        f"native bf16: {'yes' if cpu['bf16'] else 'no'}):"
    )
    for key, network in info["networks"].items():
        state = (
            f"{network['runtime']} {network['precision']}"
            if network["available"]
            else f"unavailable: {network['reason']}"
        )
        print(f"  {key:10s} {network['model']:26s} {state}")
        if network["available"]:
            print(f"  {'':10s} why: {network['why']}")
    return 0


def _parser(command: str) -> argparse.ArgumentParser:
    prog = "python -m apps.imaging"
    if command == "install-model":
        parser = argparse.ArgumentParser(
            f"{prog} install-model", description=run_install_model.__doc__
        )
        parser.add_argument("source", help="path, file:// or https:// URL of the model file")
        parser.add_argument("sha256", help="expected SHA-256 (64 hex digits)")
        parser.add_argument("--model-dir", help="default: $ENHANCER_MODEL_DIR")
        parser.add_argument("--name", help="file name to install as (e.g. colorizer.onnx)")
        parser.set_defaults(handler=run_install_model)
    elif command == "faces":
        parser = argparse.ArgumentParser(f"{prog} faces")
        parser.add_argument("input")
        parser.add_argument("output", nargs="?", help="also write the JSON here")
        parser.add_argument("--detector", choices=("hog", "cnn"), default="hog")
        parser.add_argument("--upsample", type=int, default=1)
        parser.set_defaults(handler=run_faces)
    elif command == "quantize":
        fixtures = Path(os.environ.get("ENHANCER_FIXTURES", "../shared/fixtures"))
        parser = argparse.ArgumentParser(f"{prog} quantize", description=run_quantize.__doc__)
        parser.add_argument("--photos", default=str(fixtures), help="calibration photos (folder)")
        parser.add_argument(
            "--evaluate", nargs="+",
            default=[str(fixtures / "faces" / "obama.jpg"), str(fixtures / "faces" / "two_people.jpg")],
            help="photos whose tiles judge the int8 graph (left out of calibration)",
        )
        parser.add_argument("--tiles", type=int, default=48, help="calibration crops")
        parser.add_argument("--side", type=int, default=128, help="calibration crop side")
        parser.add_argument("--evaluate-tiles", type=int, default=8)
        parser.add_argument("--once", action="store_true",
                            help="only where OpenVINO has int8 kernels and no graph was made yet")
        parser.set_defaults(handler=run_quantize)
    elif command == "list":
        parser = argparse.ArgumentParser(f"{prog} list")
        parser.set_defaults(handler=run_list)
    else:
        parser = argparse.ArgumentParser(
            f"{prog} {command}",
            description="Run one operation: "
            + ", ".join(sorted(operations.REGISTRY))
            + " (or the commands faces, list, install-model).",
        )
        parser.add_argument("input")
        parser.add_argument("output")
        for param in operations.get(command).params:  # each as declared; clean_params checks
            values = " or ".join(map(str, param.values))
            parser.add_argument(f"--{param.name}", help=f"{param.label} ({values}; default {param.default})")
        parser.set_defaults(handler=run_operation, operation=command)
    return parser


USAGE = (__doc__ or "").split("\n\n")[1]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage:\n" + USAGE, file=sys.stderr)
        return 0 if argv else 1
    command = argv[0]
    if command not in ("faces", "list", "install-model", "quantize") and command not in operations.REGISTRY:
        print(
            f"error: unknown operation {command!r}; choose one of "
            f"{', '.join(sorted(operations.REGISTRY))}, faces, list, install-model, quantize",
            file=sys.stderr,
        )
        return 1
    args = _parser(command).parse_args(argv[1:])
    try:
        return args.handler(args)
    except EnhancerError as error:
        print(f"error: {error.code}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
