"""restore: the assessment, "needs no repair" semantics, and quality against ground truth.

Ground truth: a 128 px crop of alpha_children.png (clean PNG). Degradations made here.
Measured (PSNR dB / SSIM on grey, vs ground truth):
    noise sigma 15/255      input 24.82 / 0.770  -> network route 29.72 / 0.903
    noise, NLM route        input 24.82 / 0.770  -> NLM           26.92 / 0.816
    JPEG quality 15         input 25.89 / 0.844  -> network route 27.04 / 0.863
    blur 1.5 + 2x downscale input 24.47 / 0.756  -> network route 26.99 / 0.849
    scratches + dust        input 21.43 / 0.891  -> inpaint       24.00 / 0.931
Thresholds keep roughly half of each gain as margin.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.imaging import operations, restore
from apps.imaging.picture import Picture
from tests.imaging.helpers import (
    add_noise,
    blur_downscale,
    fixture_picture,
    jpeg,
    psnr,
    scratch,
    ssim,
)


def _truth() -> np.ndarray:
    return fixture_picture("photos/alpha_children.png").rgb[60:188, 200:328].copy()


def _run(rgb: np.ndarray):
    return operations.run("restore", Picture(rgb), {}, lambda _f: None)


def test_registered_with_no_params():
    operation = operations.get("restore")
    assert operation.outputs == ("improved",)
    with pytest.raises(Exception) as caught:
        operation.clean_params({"strength": 3})
    assert caught.value.code == "bad_params"


def test_photo_that_needs_little_gets_a_gentle_correction():
    """The 179 px upscale example crosses no threshold, yet rings after an old JPEG save: a
    person asking to restore it gets a picture, close to it, never the photo unchanged."""
    picture = fixture_picture("photos/lowres_0014.jpg")
    result = operations.run("restore", picture, {}, lambda _f: None)
    assessment = result.info["assessment"]
    assert assessment["needs_repair"] is False, assessment
    assert assessment["gentle"] is True
    assert assessment["steps"] == ["gentle_network"]
    out = result.outputs["improved"].rgb
    assert out.shape == picture.rgb.shape
    # Changed (the ringing is halved), but gently: the photo stays itself.
    assert 22.0 < psnr(out, picture.rgb) < 40.0
    json.dumps(result.info)
    for key in ("noise_sigma", "blockiness", "sharpness", "scratch_share"):
        assert isinstance(assessment[key], float)


def test_gentle_correction_of_a_big_photo_is_light_denoising(monkeypatch):
    monkeypatch.setenv("ENHANCER_RESTORE_NET_MAX_PIXELS", "1000")
    truth = _truth()
    result = _run(truth)
    assert result.info["assessment"]["steps"] == ["gentle_denoise"]
    assert psnr(result.outputs["improved"].rgb, truth) > 33.0


def test_assessment_sees_each_degradation():
    truth = _truth()
    clean = restore.assess(Picture(truth))
    assert not clean["problems"], clean
    assert "noise" in restore.assess(Picture(add_noise(truth)))["problems"]
    assert "blocking" in restore.assess(Picture(jpeg(truth)))["problems"]
    assert "blur" in restore.assess(Picture(blur_downscale(truth, 1.5)))["problems"]
    assert "scratches" in restore.assess(Picture(scratch(truth)))["problems"]
    sigma = restore.noise_sigma(add_noise(truth, 10.0).mean(axis=2) * 255)
    assert 6.0 < sigma < 14.0  # a 10/255 noise reads near 10


def test_scratches_are_inpainted():
    truth = _truth()
    damaged = scratch(truth)
    result = _run(damaged)
    out = result.outputs["improved"].rgb
    assert "inpaint" in result.info["assessment"]["steps"]
    print("scratch psnr/ssim in", psnr(damaged, truth), ssim(damaged, truth),
          "out", psnr(out, truth), ssim(out, truth))
    assert psnr(out, truth) > psnr(damaged, truth) + 1.5
    assert ssim(out, truth) > ssim(damaged, truth) + 0.02


def test_noise_without_network_uses_non_local_means(monkeypatch):
    monkeypatch.setenv("ENHANCER_RESTORE_NET_MAX_PIXELS", "0")
    truth = _truth()
    noisy = add_noise(truth)
    result = _run(noisy)
    out = result.outputs["improved"].rgb
    assert result.info["assessment"]["steps"] == ["denoise"]
    print("nlm noise psnr/ssim in", psnr(noisy, truth), ssim(noisy, truth),
          "out", psnr(out, truth), ssim(out, truth))
    assert psnr(out, truth) > psnr(noisy, truth) + 1.5
    assert ssim(out, truth) > ssim(noisy, truth) + 0.025


@pytest.mark.slow
@pytest.mark.parametrize(
    "degradation, psnr_gain, ssim_gain", [("noise", 2.5, 0.06), ("jpeg", 0.6, 0.01), ("blur", 1.3, 0.05)]
)
def test_network_route_brings_degradations_closer_to_truth(degradation, psnr_gain, ssim_gain):
    truth = _truth()
    damaged = {
        "noise": lambda: add_noise(truth),
        "jpeg": lambda: jpeg(truth),
        "blur": lambda: blur_downscale(truth, 1.5),
    }[degradation]()
    result = _run(damaged)
    out = result.outputs["improved"].rgb
    assert out.shape == truth.shape
    assert "realesrgan" in result.info["assessment"]["steps"]
    print(degradation, "psnr/ssim in", psnr(damaged, truth), ssim(damaged, truth),
          "out", psnr(out, truth), ssim(out, truth))
    assert psnr(out, truth) > psnr(damaged, truth) + psnr_gain
    assert ssim(out, truth) > ssim(damaged, truth) + ssim_gain
