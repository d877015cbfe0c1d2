"""Colorize with a tiny ONNX model built here, the model installer, and ``improve``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from apps.imaging import colorize, colorize_models, improve, operations
from apps.imaging.errors import EnhancerError
from apps.imaging.model_files import sha256_file
from apps.imaging.operations import Operation, Result
from apps.imaging.picture import Picture
from tests.imaging.caffe_files import write_tiny_caffe_colorizer
from tests.imaging.torch_files import (
    tiny_eccv16,
    tiny_siggraph17,
    write_pickle_bomb,
    write_state_dict,
)


def _model(path, weights=(0.0, 0.0), bias=(40.0, 30.0), pool=4, hints=False):
    """An "L → ab" graph in the export's form: 1x1x256x256 L in, 1x2x(256/pool)^2 ab out.

    ab = weights * L + bias per channel (a 1x1 conv), then average-pooled like the real
    networks' coarse output. ``hints`` adds SIGGRAPH17's extra inputs (ignored by the graph).
    """
    conv_w = helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 1, 1], list(weights))
    conv_b = helper.make_tensor("b", TensorProto.FLOAT, [2], list(bias))
    nodes = [helper.make_node("Conv", ["input_l", "w", "b"], ["ab_full"])]
    nodes.append(
        helper.make_node(
            "AveragePool", ["ab_full"], ["ab"], kernel_shape=[pool, pool], strides=[pool, pool]
        )
    )
    inputs = [helper.make_tensor_value_info("input_l", TensorProto.FLOAT, [1, 1, 256, 256])]
    if hints:
        inputs += [
            helper.make_tensor_value_info("input_B", TensorProto.FLOAT, [1, 2, 256, 256]),
            helper.make_tensor_value_info("mask_B", TensorProto.FLOAT, [1, 1, 256, 256]),
        ]
        # Use them so the graph keeps them: ab += 0 * sum(hints).
        nodes[-1].output[0] = "ab0"
        nodes += [
            helper.make_node("ReduceSum", ["input_B"], ["hb"], keepdims=1),
            helper.make_node("ReduceSum", ["mask_B"], ["hm"], keepdims=1),
            helper.make_node("Add", ["hb", "hm"], ["h"]),
            helper.make_node("Mul", ["h", "zero"], ["h0"]),
            helper.make_node("Add", ["ab0", "h0"], ["ab"]),
        ]
    initializers = [conv_w, conv_b]
    if hints:
        initializers.append(helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]))
    out_side = 256 // pool
    graph = helper.make_graph(
        nodes,
        "colorizer",
        inputs,
        [helper.make_tensor_value_info("ab", TensorProto.FLOAT, [1, 2, out_side, out_side])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ENHANCER_MODEL_DIR", str(tmp_path))
    return tmp_path


def _grey_picture(alpha=False) -> Picture:
    ramp = np.linspace(0.25, 0.75, 300, dtype=np.float32)
    grey = np.tile(ramp, (200, 1))[:, :, None].repeat(3, axis=2)
    a = np.linspace(0, 1, 300 * 200, dtype=np.float32).reshape(200, 300) if alpha else None
    return Picture(grey, a, 8, "PNG")


def _ab(picture: Picture) -> np.ndarray:
    return cv2.cvtColor(picture.rgb, cv2.COLOR_RGB2LAB)[:, :, 1:]


def test_unavailable_without_a_model(model_dir):
    assert colorize.unavailable_reason() == (
        "no colorizer model installed (see README: manage.py install_model)"
    )
    assert operations.availability()["colorize"] == colorize.UNAVAILABLE
    with pytest.raises(EnhancerError) as error:
        operations.run("colorize", _grey_picture(), {}, lambda _f: None)
    assert error.value.code == EnhancerError.UNAVAILABLE


def test_unavailable_without_a_model_dir(monkeypatch):
    monkeypatch.delenv("ENHANCER_MODEL_DIR", raising=False)
    assert colorize.unavailable_reason() == colorize.UNAVAILABLE


def test_colours_come_from_the_model_and_lightness_and_alpha_from_the_photo(model_dir):
    _model(model_dir / "colorizer.onnx", bias=(40.0, 30.0))
    assert colorize.unavailable_reason() is None
    picture = _grey_picture(alpha=True)
    steps = []
    result = operations.run("colorize", picture, {}, steps.append)
    colored = result.outputs["colored"]
    assert list(result.outputs) == ["colored"]
    assert colored.rgb.shape == picture.rgb.shape
    np.testing.assert_array_equal(colored.alpha, picture.alpha)
    ab = _ab(colored)
    # The model says a=40, b=30 everywhere (orange); gamut clipping may shave a little.
    assert abs(float(np.median(ab[:, :, 0])) - 40) < 3
    assert abs(float(np.median(ab[:, :, 1])) - 30) < 3
    lightness = cv2.cvtColor(colored.rgb, cv2.COLOR_RGB2LAB)[:, :, 0]
    original = cv2.cvtColor(picture.rgb, cv2.COLOR_RGB2LAB)[:, :, 0]
    assert float(np.abs(lightness - original).mean()) < 2.0
    assert steps and steps[-1] == 1.0


def test_model_input_is_uncentred_lightness(model_dir):
    """ab = 0.5 * L - 25: dark pixels get negative a, bright ones positive (L is 0..100)."""
    _model(model_dir / "colorizer.onnx", weights=(0.5, 0.0), bias=(-25.0, 0.0), pool=1)
    colored = colorize.colorize(_grey_picture())
    a = _ab(colored)[:, :, 0]
    assert a[:, :20].mean() < -5 and a[:, -20:].mean() > 5


def test_sidecar_centres_lightness_and_hint_inputs_get_zeros(model_dir):
    _model(model_dir / "colorizer.onnx", weights=(0.5, 0.0), bias=(0.0, 0.0), pool=2, hints=True)
    (model_dir / "colorizer.json").write_text(json.dumps({"l_offset": -50}))
    a = _ab(colorize.colorize(_grey_picture()))[:, :, 0]
    # (L - 50) * 0.5: the ramp runs from L≈27 to L≈80, so a goes from ≈-11 to ≈+15.
    assert a[:, :20].mean() < -5 and a[:, -20:].mean() > 5


def test_install_model_checks_the_checksum(tmp_path):
    source = _model(tmp_path / "download.onnx")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target_dir = tmp_path / "models"
    with pytest.raises(EnhancerError) as error:
        colorize.install_model(source, "0" * 64, target_dir, "colorizer.onnx")
    assert "mismatch" in error.value.message
    assert not (target_dir / "colorizer.onnx").exists()
    assert list(target_dir.iterdir()) == []  # no temporary file left behind
    installed = colorize.install_model(source, digest.upper(), target_dir, "colorizer.onnx")
    assert installed == target_dir / "colorizer.onnx"
    assert sha256_file(installed) == digest
    # file:// URLs work too, and the name defaults to the source's.
    again = colorize.install_model(source.as_uri(), digest, target_dir)
    assert again.name == "download.onnx"
    with pytest.raises(EnhancerError):
        colorize.install_model(tmp_path / "missing.onnx", digest, target_dir)
    with pytest.raises(EnhancerError):
        colorize.install_model(source, "not-a-digest", target_dir)


# --------------------------------------------------------------------------- improve


def _fake_restore(repairs: bool):
    def run(picture, _params, progress):
        progress(0.5)
        if not repairs:
            return Result({}, {"repaired": False})
        return Result({"improved": picture.with_rgb(picture.rgb * 0.9 + 0.05)}, {"repaired": True})

    return Operation("restore", "Restore", run, outputs=("improved",))


@pytest.fixture
def fake_restore(monkeypatch):
    def install(repairs: bool = True):
        monkeypatch.setitem(operations.REGISTRY, "restore", _fake_restore(repairs))

    return install


def _colour_picture() -> Picture:
    ramp = np.linspace(0.2, 0.8, 200, dtype=np.float32)[:, None, None]
    rgb = np.zeros((200, 300, 3), np.float32)
    rgb[:, :150] = ramp * np.array([1.0, 0.5, 0.2], np.float32)
    rgb[:, 150:] = ramp * np.array([0.2, 0.5, 1.0], np.float32)
    return Picture(rgb)


def test_improve_needs_restore(monkeypatch):
    monkeypatch.delitem(operations.REGISTRY, "restore", raising=False)
    monkeypatch.setattr(improve, "_restore", lambda: operations.get("restore"))
    assert operations.availability()["improve"] == "restore is not installed"


def test_improve_colour_photo_only_restores(fake_restore, model_dir):
    fake_restore(repairs=True)
    _model(model_dir / "colorizer.onnx")
    result = operations.run("improve", _colour_picture(), {}, lambda _f: None)
    assert list(result.outputs) == ["improved"]
    assert result.info["bw"] is False and result.info["restore"] == {"repaired": True}


def test_improve_bw_photo_restores_and_colorizes(fake_restore, model_dir):
    fake_restore(repairs=True)
    _model(model_dir / "colorizer.onnx")
    picture = _grey_picture()
    result = operations.run("improve", picture, {}, lambda _f: None)
    assert result.info["bw"] is True
    assert set(result.outputs) == {"improved", "colorized_improved", "colored"}
    for name in ("colorized_improved", "colored"):
        assert abs(float(np.median(_ab(result.outputs[name])[:, :, 0])) - 40) < 3
    # colored is the photo as sent; colorized_improved carries the repair (lightness differs).
    assert not np.allclose(result.outputs["colored"].rgb, result.outputs["colorized_improved"].rgb)


def test_improve_bw_photo_needing_no_repair(fake_restore, model_dir):
    fake_restore(repairs=False)
    _model(model_dir / "colorizer.onnx")
    result = operations.run("improve", _grey_picture(), {}, lambda _f: None)
    assert set(result.outputs) == {"colorized_improved", "colored"}


def test_improve_bw_photo_without_colorizer(fake_restore, model_dir):
    fake_restore(repairs=True)
    result = operations.run("improve", _grey_picture(), {}, lambda _f: None)
    assert list(result.outputs) == ["improved"]
    assert result.info["bw"] is True
    assert result.info["colorize_unavailable"] == colorize.UNAVAILABLE


# --------------------------------------------------------------------------- the public releases


def _constant_ab(logits, centres, scale=colorize_models.ANNEALED_MEAN_SCALE) -> np.ndarray:
    weights = np.exp(scale * np.asarray(logits, np.float64))
    return np.asarray(centres, np.float64).T @ (weights / weights.sum())


def test_caffe_release_installs_file_by_file_and_runs_with_cv2_dnn(tmp_path, model_dir):
    centres = np.array([[0.0, 0.0], [60.0, -20.0], [-30.0, 50.0]])
    logits = np.array([0.0, 1.0, 0.5])
    files = write_tiny_caffe_colorizer(tmp_path / "download", logits, centres)
    assert colorize.unavailable_reason() == colorize.UNAVAILABLE
    for path in files[:2]:
        colorize.install_model(path, sha256_file(path), model_dir)
        reason = colorize.unavailable_reason()
        assert "incomplete" in reason and files[2].name in reason  # honest about what is missing
    colorize.install_model(files[2], sha256_file(files[2]), model_dir)
    assert colorize.unavailable_reason() is None
    ab = _ab(operations.run("colorize", _grey_picture(), {}, lambda _f: None).outputs["colored"])
    expected = _constant_ab(logits, centres)  # the annealed mean of the bin centres
    assert abs(float(np.median(ab[:, :, 0])) - expected[0]) < 3
    assert abs(float(np.median(ab[:, :, 1])) - expected[1]) < 3


def test_a_broken_hull_file_is_reported_not_guessed(tmp_path, model_dir):
    files = write_tiny_caffe_colorizer(model_dir, np.zeros(3), np.zeros((3, 2)))
    np.save(files[2], np.zeros((3, 3)))
    with pytest.raises(EnhancerError) as error:
        colorize.colorize(_grey_picture())
    assert error.value.code == EnhancerError.UNAVAILABLE and "ab bin centres" in error.value.message


@pytest.mark.parametrize("legacy", [False, True])
def test_eccv16_state_dict_is_converted_once_to_onnx(tmp_path, model_dir, legacy):
    state = tiny_eccv16(bins=3)
    state["model8.6.bias"] = np.array([0.0, 2.0, 1.0])
    state["model_out.weight"] = np.array([[0.0, 0.5, 0.0], [0.2, 0.2, 0.4]]).reshape(2, 3, 1, 1)
    source = write_state_dict(tmp_path / "colorization_release_v2-00000000.pth", state, legacy)
    digest = sha256_file(source)
    named = source.rename(tmp_path / f"colorization_release_v2-{digest[:8]}.pth")
    installed = colorize.install_model(named, digest, model_dir)
    assert installed == model_dir / colorize.MODEL_FILE
    sidecar = json.loads((model_dir / colorize.SIDECAR_FILE).read_text())
    assert sidecar["architecture"] == "eccv16" and sidecar["l_offset"] == 0
    model = onnx.load(str(installed))
    assert [i.name for i in model.graph.input] == ["input_l"]
    ab = _ab(colorize.colorize(_grey_picture()))
    softmax = np.exp([0.0, 2.0, 1.0]) / np.exp([0.0, 2.0, 1.0]).sum()
    expected = 110 * state["model_out.weight"][:, :, 0, 0] @ softmax
    assert abs(float(np.median(ab[:, :, 0])) - expected[0]) < 3
    assert abs(float(np.median(ab[:, :, 1])) - expected[1]) < 3


def test_siggraph17_state_dict_is_converted(tmp_path, model_dir):
    state = tiny_siggraph17()
    state["model_out.0.bias"] = np.array([0.3, -0.2])
    source = write_state_dict(tmp_path / "siggraph17.pth", state)
    colorize.install_model(source, sha256_file(source), model_dir)
    assert json.loads((model_dir / colorize.SIDECAR_FILE).read_text())["architecture"] == "siggraph17"
    ab = _ab(colorize.colorize(_grey_picture()))
    expected = 110 * np.tanh([0.3, -0.2])
    assert abs(float(np.median(ab[:, :, 0])) - expected[0]) < 3
    assert abs(float(np.median(ab[:, :, 1])) - expected[1]) < 3


def _downloads(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir(exist_ok=True)
    return folder


def _installed(model_dir) -> list:
    return [path.name for path in model_dir.iterdir() if path.is_file()]


def test_model_files_that_are_not_state_dicts_install_nothing(tmp_path, model_dir):
    bomb = write_pickle_bomb(_downloads(tmp_path) / "evil.pth")
    with pytest.raises(EnhancerError) as error:
        colorize.install_model(bomb, sha256_file(bomb), model_dir)
    assert error.value.code == EnhancerError.BAD_PARAMS and "os.system" in error.value.message
    unrelated = write_state_dict(
        _downloads(tmp_path) / "resnet.pth", {"fc.weight": np.zeros((2, 2))}
    )
    with pytest.raises(EnhancerError, match="neither ECCV16"):
        colorize.install_model(unrelated, sha256_file(unrelated), model_dir)
    assert _installed(model_dir) == []
    assert not Path("/tmp/pwned-by-model").exists()
    assert colorize.unavailable_reason() == colorize.UNAVAILABLE


def test_a_hub_file_name_contradicting_the_digest_is_refused(tmp_path, model_dir):
    source = write_state_dict(_downloads(tmp_path) / "siggraph17-df00044c.pth", tiny_siggraph17())
    with pytest.raises(EnhancerError, match="df00044c"):
        colorize.install_model(source, sha256_file(source), model_dir)
    assert _installed(model_dir) == []


@pytest.mark.parametrize("architecture", ["eccv16", "siggraph17"])
def test_conversion_matches_the_pytorch_networks(architecture):
    """Where PyTorch is installed (the bench extra): the numpy-built graph computes what the
    colorizers package's own modules compute, on random weights of the same layout."""
    torch = pytest.importorskip("torch")
    from tests.imaging.torch_colorizers import build

    rng = np.random.default_rng(5)
    state = tiny_eccv16(rng=rng) if architecture == "eccv16" else tiny_siggraph17(rng=rng)
    graph = colorize_models.state_dict_to_onnx(state)
    import onnxruntime as ort

    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    lightness = rng.uniform(0, 100, (1, 1, 256, 256)).astype(np.float32)
    ours = session.run(None, {"input_l": lightness})[0]
    module = build(architecture, state)
    with torch.no_grad():
        theirs = module(torch.from_numpy(lightness)).numpy()
    assert ours.shape == theirs.shape == (1, 2, 256, 256)
    assert np.abs(ours - theirs).max() < 1e-3 * max(1.0, np.abs(theirs).max())
