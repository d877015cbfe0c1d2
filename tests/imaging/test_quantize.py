"""int8 made with NNCF from a tiny network in the test run, and its accuracy gate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.imaging import graphs, networks, quantize, runtimes

pytestmark = pytest.mark.skipif(
    quantize.nncf_missing() is not None or not runtimes.openvino_available(),
    reason="NNCF or OpenVINO not installed (pip install -e .[int8])",
)


def _tiny_trunk(path, outlier: float) -> None:
    """conv (3->8) + LeakyReLU, conv (8->8) + LeakyReLU, conv (8->3): RRDBNet's shape in small.
    ``outlier`` scales one channel of the first convolution's output (and divides it back in
    the next): large values leave the other channels a few int8 steps of the shared range."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    w0[0] *= outlier
    w1 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.2
    w1[:, 0] /= outlier
    w2 = rng.standard_normal((3, 8, 3, 3)).astype(np.float32) * 0.2
    inits = [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate((w0, w1, w2))]
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], pads=[1] * 4),
        helper.make_node("LeakyRelu", ["c0"], ["r0"], alpha=0.2),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], pads=[1] * 4),
        helper.make_node("LeakyRelu", ["c1"], ["r1"], alpha=0.2),
        helper.make_node("Conv", ["r1", "w2"], ["y"], pads=[1] * 4),
    ]
    shape = [1, 3, "h", "w"]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())


def _photos():
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:96, 0:96].astype(np.float32) / 96
    smooth = np.stack([y, x, (x + y) / 2], axis=2)
    return [np.clip(smooth + rng.normal(0, s, smooth.shape).astype(np.float32), 0, 1)
            for s in (0.02, 0.05, 0.1)]


def _build(tmp_path, outlier: float, rivals=None) -> dict:
    trunk = tmp_path / f"tiny{outlier:g}-trunk.onnx"
    _tiny_trunk(trunk, outlier)
    photos = _photos()
    calibration = quantize.calibration_crops(photos[:2], 12, 32)
    evaluation = quantize.calibration_crops(photos[2:], 3, 48, seed=1)  # never calibrated on
    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1}
    return quantize.build(trunk, lambda features: features + 0.5, calibration, evaluation, config,
                          rivals=rivals)


def test_a_well_conditioned_network_passes_the_gate_and_is_stored(tmp_path):
    result = _build(tmp_path, 1.0, rivals={"ncnn": lambda tile: tile})  # raced with them
    assert result["passed"] and result["psnr_min"] >= quantize.PSNR_BAR
    assert len(result["kept_float"]) == 2  # the first and last convolutions stay float
    assert set(result["speed"]) == {"cpu", "float", "tile_px", "float_s", "int8_s", "ncnn_s"}
    assert result["speed"]["tile_px"] == 48 * 48
    trunk = tmp_path / "tiny1-trunk.onnx"
    assert quantize.verdict(trunk)["passed"] is True and quantize.paths(trunk)[0].is_file()
    # A graph made by an earlier recipe counts as not made: `make install` makes it again.
    report = quantize.paths(trunk)[1]
    report.write_text(json.dumps({**result, "recipe": quantize.RECIPE - 1}))
    assert quantize.verdict(trunk) is None


def test_the_gate_refuses_a_graph_under_the_bar(tmp_path):
    result = _build(tmp_path, 300.0)
    assert not result["passed"] and result["psnr_min"] < quantize.PSNR_BAR
    stored = json.loads(quantize.paths(tmp_path / "tiny300-trunk.onnx")[1].read_text())
    assert stored["passed"] is False


def test_calibration_crops_are_degraded_crops_of_the_photos():
    crops = quantize.calibration_crops(_photos(), 10, 32)
    assert len(crops) == 10 and all(c.shape == (3, 32, 32) for c in crops)
    with pytest.raises(ValueError):
        quantize.calibration_crops([np.zeros((16, 16, 3), np.float32)], 1, 32)


@pytest.mark.skipif(not runtimes.int8_hardware(), reason="no VNNI / AMX int8 on this CPU")
def test_a_gated_int8_trunk_upscales_a_photo_through_the_tiled_path(tmp_path, monkeypatch):
    """The int8 path as load() builds it: the gated int8 trunk graph, a float head, tiled."""
    from apps.imaging import upscale

    monkeypatch.setenv("ENHANCER_CACHE_DIR", str(tmp_path))
    assert _build(tmp_path, 1.0)["passed"]
    trunk = tmp_path / "tiny1-trunk.onnx"
    int8 = graphs.OpenVinoGraph(quantize.paths(trunk)[0], 1, "f32", "int8")
    float32 = graphs.OpenVinoGraph(trunk, 1, "f32")

    class Head(graphs.Graph):  # nearest x2 of the trunk's 3 channels
        runtime, channels = "numpy", 3

        def infer(self, chw, tick=None):
            return (chw + 0.5).repeat(2, axis=1).repeat(2, axis=2)

    def network(graph):
        spec = networks.ModelSpec("tiny", 2, split=True)
        return networks.Network(spec, [networks.Stage(graph, 1, 4, 1000, 0.9),
                                       networks.Stage(Head(), 2, 1, 1000, 0.1)])

    photo = _photos()[2][:80, :72]
    quantized = network(int8)
    assert quantized.precision == "int8"
    out = upscale.run_tiled(photo, quantized, 2, tile=40)
    reference = upscale.run_tiled(photo, network(float32), 2, tile=40)
    assert out.shape == (160, 144, 3)
    assert quantize.psnr(reference, out) >= quantize.PSNR_BAR


def _dense_block(path) -> None:
    """RRDBNet's block in small: a stream s (8 channels), two dense convolutions reading
    concatenations of s and their predecessors, the last one written back as s + 0.2 * out."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    shapes = {"w0": (8, 3), "w1": (4, 8), "w2": (4, 12), "w3": (8, 16), "w4": (3, 8)}
    inits = [numpy_helper.from_array(rng.standard_normal((*shape, 3, 3)).astype(np.float32) * 0.1,
                                     name) for name, shape in shapes.items()]
    inits.append(numpy_helper.from_array(np.array(0.2, np.float32), "scale"))
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["s"], pads=[1] * 4),
        helper.make_node("Conv", ["s", "w1"], ["c1"], pads=[1] * 4),
        helper.make_node("LeakyRelu", ["c1"], ["d1"], alpha=0.2),
        helper.make_node("Concat", ["s", "d1"], ["sd1"], axis=1),
        helper.make_node("Conv", ["sd1", "w2"], ["c2"], pads=[1] * 4),
        helper.make_node("LeakyRelu", ["c2"], ["d2"], alpha=0.2),
        helper.make_node("Concat", ["s", "d1", "d2"], ["sd2"], axis=1),
        helper.make_node("Conv", ["sd2", "w3"], ["c3"], pads=[1] * 4, name="out"),
        helper.make_node("Mul", ["c3", "scale"], ["scaled"]),
        helper.make_node("Add", ["s", "scaled"], ["stream"]),
        helper.make_node("Conv", ["stream", "w4"], ["y"], pads=[1] * 4),
    ]
    graph = helper.make_graph(
        nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "h", "w"])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())


def test_the_float_trunk_runs_without_concats_and_computes_the_same(tmp_path):
    import onnx
    import openvino as ov

    from apps.imaging import graphs

    trunk = tmp_path / "dense-trunk.onnx"
    _dense_block(trunk)
    free = graphs.concat_free(trunk)
    assert free == tmp_path / "dense-trunk-sums.onnx" and graphs.concat_free(trunk) == free
    ops = [node.op_type for node in onnx.load(str(free)).graph.node]
    assert "Concat" not in ops and ops.count("Conv") == 5 + 1 + 2  # (s, d1) and (s, d1, d2)
    core = ov.Core()
    tile = _photos()[2][:40, :40].transpose(2, 0, 1)[None].copy()

    def infer(model) -> np.ndarray:
        return core.compile_model(str(model), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(tile)[0]

    np.testing.assert_allclose(infer(free), infer(trunk), atol=1e-5)


def test_the_stream_writers_centre_taps_stay_float_and_the_rest_computes_the_same(tmp_path):
    import onnx
    import openvino as ov

    trunk = tmp_path / "dense-trunk.onnx"
    _dense_block(trunk)
    rewritten = onnx.load(str(trunk))
    # The convolution reading (s, d1, d2) writes back into the 8-channel stream: the centre taps
    # of its part reading s are split off; the scale after it is folded into its weights.
    assert quantize.float_centres(rewritten) == ["out_part0_centre"]
    ops = [node.op_type for node in rewritten.graph.node]
    assert "Concat" not in ops and "Mul" not in ops
    centre = next(node for node in rewritten.graph.node if node.name == "out_part0_centre")
    ring = next(init for init in rewritten.graph.initializer if init.name == "out_part0.ring")
    assert list(centre.attribute[0].ints) == [1, 1]
    assert not onnx.numpy_helper.to_array(ring)[:, :, 1, 1].any()
    core = ov.Core()
    tile = _photos()[2][:40, :40].transpose(2, 0, 1)[None].copy()

    def infer(model) -> np.ndarray:
        return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(tile)[0]

    split = core.read_model(rewritten.SerializeToString(), b"")
    np.testing.assert_allclose(infer(split), infer(str(trunk)), atol=1e-5)

    quantized, keep = quantize.quantize(trunk, quantize.calibration_crops(_photos(), 6, 32))
    kept = {name.split("/")[0] for name in keep}
    assert "out_part0_centre" in kept and "out_part0" not in kept  # the ring is int8
    fed_by_quantizers = [
        op.get_friendly_name() for op in quantized.get_ordered_ops()
        if op.get_type_name() == "Add"
        and any(i.get_source_output().get_node().get_type_name() == "FakeQuantize"
                for i in op.inputs())
    ]
    assert fed_by_quantizers == []
    assert any(op.get_type_name() == "FakeQuantize" for op in quantized.get_ordered_ops())
