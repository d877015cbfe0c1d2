"""``python -m apps.imaging``: run in a subprocess, as a user would."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import ROOT, fixtures_dir


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "apps.imaging", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _hazy_jpeg(path):
    rng = np.random.default_rng(4)
    clear = rng.random((120, 160, 3)).astype(np.float32)
    hazy = clear * 0.4 + 0.55
    Image.fromarray((hazy * 255).astype(np.uint8)).save(path, "JPEG", quality=95)


def test_dehaze_writes_the_output_and_shows_progress(tmp_path):
    source, target = tmp_path / "in.jpg", tmp_path / "out.jpg"
    _hazy_jpeg(source)
    done = _cli("dehaze", str(source), str(target))
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr and "dehazed:" in done.stderr
    with Image.open(target) as image:
        assert image.format == "JPEG" and image.size == (160, 120)
        out = np.asarray(image, np.float32) / 255
    before = np.asarray(Image.open(source), np.float32) / 255
    assert out.std() > before.std()  # the haze is gone: more contrast


def test_png_extension_picks_png(tmp_path):
    source, target = tmp_path / "in.jpg", tmp_path / "out.png"
    _hazy_jpeg(source)
    assert _cli("contrast", str(source), str(target)).returncode == 0
    assert Image.open(target).format == "PNG"


def test_errors_are_reported_with_their_code(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    done = _cli("dehaze", str(bad), str(tmp_path / "out.jpg"))
    assert done.returncode == 2 and "not_an_image" in done.stderr
    done = _cli("sharpen", str(bad), str(tmp_path / "out.jpg"))
    assert done.returncode == 1 and "unknown operation" in done.stderr
    done = _cli("dehaze", str(bad), str(tmp_path / "out.jpg"), "--factor", "2")
    assert done.returncode == 2  # bad_params (dehaze takes none) or not_an_image


def test_list_and_install_model(tmp_path):
    done = _cli("list")
    assert done.returncode == 0 and "dehaze" in done.stdout
    model = tmp_path / "colorizer.onnx"
    model.write_bytes(b"pretend weights")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    models = tmp_path / "models"
    done = _cli("install-model", str(model), "0" * 64, "--model-dir", str(models))
    assert done.returncode == 2 and "mismatch" in done.stderr
    done = _cli("install-model", str(model), digest, "--model-dir", str(models))
    assert done.returncode == 0, done.stderr
    assert (models / "colorizer.onnx").read_bytes() == b"pretend weights"


def test_list_says_which_runtime_and_precision_each_network_uses():
    done = _cli("list")
    assert done.returncode == 0, done.stderr
    assert "networks on this CPU" in done.stdout and "native bf16:" in done.stdout
    line = next(ln for ln in done.stdout.splitlines() if ln.strip().startswith("photo-x4"))
    assert "realesrgan-x4plus" in line
    assert any(f"{runtime} {precision}" in line for runtime in ("openvino", "onnxruntime", "ncnn")
               for precision in ("bf16", "f32"))
    assert any(ln.strip().startswith("fast-x4") for ln in done.stdout.splitlines())


@pytest.mark.slow
def test_upscale_fast_tier_end_to_end(tmp_path):
    source, target = tmp_path / "in.png", tmp_path / "out.png"
    rng = np.random.default_rng(7)
    smooth = np.kron(rng.random((12, 15, 3)), np.ones((6, 6, 1)))  # 72 x 90 blocks
    Image.fromarray((smooth * 255).astype(np.uint8)).save(source)
    done = _cli("upscale", str(source), str(target), "--factor", "4", "--quality", "fast")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["quality"] == "fast" and info["model"] == "spanx4_ch48"
    assert info["runtime"] in ("openvino", "onnxruntime", "ncnn")
    with Image.open(target) as image:
        assert image.size == (360, 288)
        out = np.asarray(image, np.float32) / 255
    # A flat block keeps its colour inside (input 6..12 px is one block: output 24..48).
    assert np.abs(out[30:42, 30:42] - smooth[9, 9]).mean() < 0.05
    done = _cli("upscale", str(source), str(target), "--quality", "ultra")
    assert done.returncode == 2 and "quality must be" in done.stderr


@pytest.mark.slow
def test_upscale_best_runs_the_gated_int8_trunk_where_install_made_it(tmp_path):
    """`make install` makes x4plus's int8 trunk in var/cache on a CPU with VNNI / AMX int8;
    the CLI then runs it (the automatic choice) within the gate of its float32 output."""
    env = {**os.environ, "ENHANCER_CACHE_DIR": str(ROOT / "var" / "cache")}
    listing = _cli("list", env=env).stdout.splitlines()
    line = next(i for i, ln in enumerate(listing) if ln.strip().startswith("photo-x4"))
    if "openvino int8" not in listing[line]:
        pytest.skip(f"x4plus does not run int8 here: {listing[line + 1].strip()}")
    face = fixtures_dir() / "faces" / "obama.jpg"
    if not face.is_file():
        pytest.skip(f"{face} is missing (../shared/fixtures/SOURCES.md)")
    source = tmp_path / "in.png"
    with Image.open(face) as photo:
        photo.convert("RGB").resize((96, 96)).save(source)
    outputs = {}
    for precision in ("auto", "f32"):
        target = tmp_path / f"{precision}.png"
        done = _cli("upscale", str(source), str(target), "--factor", "4",
                    env={**env, "ENHANCER_UPSCALE_PRECISION": precision})
        assert done.returncode == 0, done.stderr
        info = json.loads(done.stdout.strip().splitlines()[-1])
        assert info["precision"] == ("int8" if precision == "auto" else "f32")
        with Image.open(target) as image:
            outputs[precision] = np.asarray(image, np.float64) / 255
    mse = np.mean((outputs["auto"] - outputs["f32"]) ** 2)
    assert outputs["auto"].shape == (384, 384, 3)
    # The gate's 40 dB is on 128 px photo tiles; this face, downscaled to 96 px (dense detail,
    # a third of it border), measured 38 dB whole after 8-bit rounding.
    assert 10 * np.log10(1 / mse) >= 36
