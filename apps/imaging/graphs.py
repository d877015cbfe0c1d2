"""The networks' graphs: the ONNX rewrite of ncnn weights, its trunk/head cut, and one compiled
graph per runtime.

Weights ship as ncnn ``.param``/``.bin`` files; they are rewritten once into an ONNX graph
(:mod:`.ncnn_convert`), cached under ``<cache dir>/models`` keyed by the weights' SHA-256. OpenVINO
compiles that graph for this CPU and keeps the compiled blob in ``<cache dir>/openvino``, so a
new worker starts in a fraction of the compile time; onnxruntime runs it as it is; ncnn runs the
original files.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from . import model_files
from .errors import EnhancerError, gettext_noop
from .model_cache import ModelCache
from .runtimes import cache_dir

log = logging.getLogger(__name__)


TICK_MS = 1000


class Graph:
    """One compiled graph on one runtime: ``infer`` maps a 1 x C x H x W float32 array (batch
    dimension dropped: C x H x W) to its output, C' x sH x sW. Runtimes that can run an
    inference in the background call ``tick()`` about once a second meanwhile."""

    runtime: str
    precision: str = "f32"
    channels: int = 3  # of the output

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self) -> None:
        """Give back the working memory of the last inference (kept for reuse otherwise)."""


class NcnnGraph(Graph):
    runtime = "ncnn"

    def __init__(self, param: Path, weights: Path, num_threads: int, output: str = "output",
                 channels: int = 3) -> None:
        """``output``: the blob to extract (the graph's own output, or a cut such as
        :func:`ncnn_trunk_output`: ncnn then runs only the layers that blob needs), of
        ``channels`` channels."""
        import ncnn

        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = num_threads
        # Full fp32: ncnn's own reduced-precision storage is not what we measured.
        net.opt.use_fp16_storage = False
        net.opt.use_fp16_packed = False
        net.opt.use_fp16_arithmetic = False
        net.opt.use_bf16_storage = False
        if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
            raise EnhancerError(
                EnhancerError.UNAVAILABLE, gettext_noop("ncnn could not load %(file)s"),
                {"file": param.name},
            )
        self._net = net
        self._mat = ncnn.Mat
        self._output = output
        self.channels = channels

    def _extract(self, chw: np.ndarray, into: dict) -> None:
        try:
            extractor = self._net.create_extractor()
            extractor.input("data", self._mat(np.ascontiguousarray(chw)))
            into["status"], out = extractor.extract(self._output)
            into["out"] = np.array(out, dtype=np.float32, copy=True)
        except BaseException as error:  # carried to infer's thread, raised there
            into["error"] = error

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:
        # ncnn lets go of the GIL while it computes: run it aside and tick meanwhile.
        result: dict = {}
        worker = threading.Thread(target=self._extract, args=(chw, result), daemon=True)
        worker.start()
        while worker.join(TICK_MS / 1000) or worker.is_alive():
            if tick is not None:
                tick()
        if "error" in result:
            raise result["error"]
        if result.get("status") != 0:
            raise EnhancerError(
                EnhancerError.INTERNAL, gettext_noop("ncnn inference failed (%(status)s)"),
                {"status": result.get("status")},
            )
        return result["out"]


def ncnn_trunk(param: Path, weights: Path, num_threads: int) -> NcnnGraph:
    """The trunk of an ncnn network on ncnn: the layers up to :func:`ncnn_trunk_output`."""
    return NcnnGraph(param, weights, num_threads, *ncnn_trunk_output(param))


def ncnn_trunk_output(param: Path) -> tuple[str, int]:
    """(the blob an ncnn graph's first upsampling reads, its channels): where
    :func:`split_onnx` cuts the same network's ONNX rewrite into trunk and head."""
    from . import ncnn_convert

    layers = ncnn_convert.parse_param(param.read_text())
    resize = next((layer for layer in layers if layer.type == "Interp"), None)
    if resize is None or resize.inputs[0] == layers[0].outputs[0]:
        raise ValueError(f"{param.name} has no trunk to cut before an upsampling")
    producers = {blob: layer for layer in layers for blob in layer.outputs}
    layer = producers[resize.inputs[0]]
    while layer.type != "Convolution":  # through the residual additions and splits
        layer = producers[layer.inputs[-1]]
    return resize.inputs[0], int(layer.params[0])


class OnnxGraph(Graph):
    runtime = "onnxruntime"

    def __init__(self, onnx_path: Path, num_threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        channels = self._session.get_outputs()[0].shape[1]
        self.channels = channels if isinstance(channels, int) else 3

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:
        return self._session.run(None, {self._input: chw[None]})[0][0]


def _new_openvino_core():
    import openvino as ov

    core = ov.Core()
    folder = cache_dir() / "openvino"
    folder.mkdir(parents=True, exist_ok=True)
    core.set_property({"CACHE_DIR": str(folder)})
    return core


_core: ModelCache = ModelCache()


def _openvino_core():
    """One OpenVINO Core per process, with the compiled-model cache on disk."""
    return _core.get("openvino", _new_openvino_core)


class OpenVinoGraph(Graph):
    runtime = "openvino"

    def __init__(
        self, onnx_path: Path, num_threads: int, precision: str, label: str | None = None
    ) -> None:
        self.precision = label or precision  # "int8": a quantized graph, the rest in precision
        # Dynamic H and W: one compiled model serves every tile shape (measured as fast as a
        # static shape per tile size, without a compile per new shape).
        config = {
            "INFERENCE_PRECISION_HINT": precision,
            "INFERENCE_NUM_THREADS": num_threads,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
        }
        self._compiled = _openvino_core().compile_model(str(onnx_path), "CPU", config)
        self._request = self._compiled.create_infer_request()
        channels = self._compiled.output(0).get_partial_shape()[1]
        self.channels = channels.get_length() if channels.is_static else 3

    def release(self) -> None:
        # OpenVINO keeps each compiled model's buffers at the largest shape it ran: a trunk's
        # would still be held while the head runs, and both after the job.
        self._compiled.release_memory()

    def infer(self, chw: np.ndarray, tick: Callable[[], None] | None = None) -> np.ndarray:
        """``tick`` is called about once a second while the inference runs (for progress)."""
        self._request.start_async({0: np.ascontiguousarray(chw[None])})
        while not self._request.wait_for(TICK_MS):
            if tick is not None:
                tick()
        # The output tensor is reused by the next inference: copy it out.
        return np.array(self._request.get_output_tensor(0).data[0], dtype=np.float32, copy=True)


@functools.cache
def _digest(weights: Path) -> str:
    return model_files.sha256_file(weights)[:16]


def onnx_path(name: str, weights: Path) -> Path:
    """Where the ONNX rewrite of network ``name`` with these weights is cached."""
    return cache_dir() / "models" / f"{name}-{_digest(weights)}.onnx"


def converted_onnx(name: str, param: Path, weights: Path) -> Path:
    """The ONNX rewrite of an ncnn model, built once and cached by the weights' SHA-256."""
    from . import ncnn_convert

    target = onnx_path(name, weights)
    if target.is_file():
        return target
    model = ncnn_convert.to_onnx(ncnn_convert.load(param, weights))
    target.parent.mkdir(parents=True, exist_ok=True)
    model_files.write_atomically(target, model.SerializeToString())
    return target


def split_paths(full: Path) -> tuple[Path, Path]:
    """Where :func:`split_onnx` keeps the (trunk, head) of ``full``."""
    return full.with_name(full.stem + "-trunk.onnx"), full.with_name(full.stem + "-head.onnx")


def split_concat_convs(model, groups: Callable[[list[str]], list[list[str]] | None]
                       ) -> list[tuple[list[str], list[int], int]]:
    """Rewrite, in the ONNX ``model``, each convolution that reads a Concat (along channels) as
    a sum of convolutions, one per group of the Concat's inputs (``groups(inputs)``; None leaves
    it whole; a group of several inputs keeps a Concat of its own): the same arithmetic, with
    the kernel cut along its input channels and the bias on the first part. Returns, for each
    convolution rewritten, (its parts' node names, their input channels, its output channels).
    Concats no longer read are dropped."""
    from onnx import helper, numpy_helper

    graph = model.graph
    channels = tensor_channels(model)
    weights = {init.name: init for init in graph.initializer}
    producers = {name: node for node in graph.node for name in node.output}
    nodes, rewritten = [], []
    for node in graph.node:
        source = producers.get(node.input[0]) if node.op_type == "Conv" else None
        parts = groups(list(source.input)) if source is not None and source.op_type == "Concat" \
            and node.input[1] in weights else None
        known = [[channels.get(name) for name in part] for part in parts or []]
        if len(known) < 2 or None in sum(known, []):
            nodes.append(node)
            continue
        widths = [sum(part) for part in known]
        kernel = numpy_helper.to_array(weights[node.input[1]])
        if sum(widths) != kernel.shape[1]:
            nodes.append(node)
            continue
        name = node.name or node.output[0]
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        names, outputs, start = [], [], 0
        for k, (part, width) in enumerate(zip(parts, widths, strict=True)):
            source_name = part[0]
            if len(part) > 1:
                source_name = f"{name}.in{k}"
                nodes.append(helper.make_node("Concat", part, [source_name], axis=1,
                                              name=source_name))
            graph.initializer.append(numpy_helper.from_array(
                np.ascontiguousarray(kernel[:, start:start + width]), f"{name}.w{k}"))
            start += width
            names.append(f"{name}_part{k}")
            outputs.append(f"{name}.out{k}")
            nodes.append(helper.make_node(
                "Conv", [source_name, f"{name}.w{k}", *(node.input[2:] if k == 0 else [])],
                [outputs[-1]], name=names[-1], **attributes))
        total = outputs[0]
        for k, output in enumerate(outputs[1:], 1):
            summed = node.output[0] if k == len(outputs) - 1 else f"{name}.sum{k}"
            nodes.append(helper.make_node("Add", [total, output], [summed], name=f"{name}_sum{k}"))
            total = summed
        rewritten.append((names, widths, kernel.shape[0]))
    read = {name for node in nodes for name in node.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(n for n in nodes if n.op_type != "Concat" or n.output[0] in read)
    _drop_unread_weights(graph)
    return rewritten


def fold_conv_scales(model) -> None:
    """Fold, in the ONNX ``model``, each multiplication by a constant scalar of a convolution's
    output (read by nothing else) into that convolution's weights and bias (RRDBNet scales each
    dense block's output by 0.2 before the residual addition: OpenVINO fuses that into a float
    convolution, not into an int8 one)."""
    from onnx import numpy_helper

    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    producers = {name: node for node in graph.node for name in node.output}
    readers = Counter(name for node in graph.node for name in node.input)
    folded = []
    for node in graph.node:
        if node.op_type != "Mul" or node.input[1] not in weights:
            continue
        conv = producers.get(node.input[0])
        scale = numpy_helper.to_array(weights[node.input[1]])
        if conv is None or conv.op_type != "Conv" or readers[node.input[0]] != 1 \
                or scale.size != 1 or not all(name in weights for name in conv.input[1:]):
            continue
        for k, name in enumerate(conv.input[1:], 1):
            scaled = numpy_helper.to_array(weights[name]) * scale.reshape(())
            graph.initializer.append(numpy_helper.from_array(
                scaled.astype(np.float32), f"{conv.name or conv.output[0]}.scaled{k}"))
            conv.input[k] = graph.initializer[-1].name
        conv.output[0] = node.output[0]
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    _drop_unread_weights(graph)


def split_centre_taps(model, names: Iterable[str]) -> list[str]:
    """Rewrite, in the ONNX ``model``, each named convolution (odd square kernel, stride 1,
    padded to keep its size) as the same convolution with its centre taps zeroed plus a 1x1
    convolution of the centre taps alone: the same arithmetic, the centre (where a
    convolution that adds back into a residual stream keeps its near-identity weights, many
    times the others) apart from the rest. Returns the names of the 1x1 convolutions."""
    from onnx import helper, numpy_helper

    graph = model.graph
    wanted = set(names)
    weights = {init.name: init for init in graph.initializer}
    nodes, centres = [], []
    for node in graph.node:
        nodes.append(node)
        if node.name not in wanted or node.input[1] not in weights:
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        kernel = numpy_helper.to_array(weights[node.input[1]])
        side = kernel.shape[-1]
        if side % 2 == 0 or kernel.shape[-2] != side or attributes.get("group", 1) != 1 \
                or any(v != 1 for v in [*attributes.get("strides", []),
                                        *attributes.get("dilations", [])]) \
                or list(attributes.get("pads", [])) != [side // 2] * 4:
            continue
        mid = side // 2
        ring = kernel.copy()
        ring[:, :, mid, mid] = 0
        graph.initializer.extend([
            numpy_helper.from_array(ring, f"{node.name}.ring"),
            numpy_helper.from_array(np.ascontiguousarray(kernel[:, :, mid:mid + 1, mid:mid + 1]),
                                    f"{node.name}.centre"),
        ])
        total = node.output[0]
        node.input[1], node.output[0] = f"{node.name}.ring", f"{node.name}.ring_out"
        centres.append(f"{node.name}_centre")
        nodes.append(helper.make_node("Conv", [node.input[0], f"{node.name}.centre"],
                                      [f"{node.name}.centre_out"], name=centres[-1],
                                      kernel_shape=[1, 1]))
        nodes.append(helper.make_node("Add", [node.output[0], f"{node.name}.centre_out"],
                                      [total], name=f"{node.name}_centre_sum"))
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_unread_weights(graph)
    return centres


def without_concats(model) -> list[tuple[list[str], list[int], int]]:
    """Rewrite the ONNX ``model`` as the engine runs a float trunk: scales folded into their
    convolutions (:func:`fold_conv_scales`), then every convolution that reads a Concat as a sum
    of one convolution per input (:func:`split_concat_convs`, whose list this returns)."""
    fold_conv_scales(model)
    return split_concat_convs(model, lambda inputs: [[name] for name in inputs])


def _drop_unread_weights(graph) -> None:
    read = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in read]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def tensor_channels(model) -> dict[str, int]:
    """Channels of each tensor of an ONNX model whose channel count shape inference knows."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model).graph
    channels = {}
    for info in [*inferred.value_info, *inferred.input]:
        dims = info.type.tensor_type.shape.dim
        if len(dims) > 1 and dims[1].HasField("dim_value"):
            channels[info.name] = dims[1].dim_value
    return channels


def concat_free(trunk: Path) -> Path:
    """``trunk`` with every convolution that reads a Concat (RRDBNet's dense blocks) rewritten
    as a sum of one convolution per input, scales folded (:func:`without_concats`), cached next
    to it.

    OpenVINO copies each Concat with a reference kernel in bf16 (channels-last layouts cannot
    concatenate in place): a quarter of x4plus's trunk time on an Intel Xeon with AMX, where the
    rewrite ran 1.3x faster in bf16 (1.07x in float32; the sums fuse into the convolutions),
    0.4 dB from the Concat graph against float32 (docs/benchmarks.md)."""
    target = trunk.with_name(trunk.stem + "-sums.onnx")
    if target.is_file():
        return target
    import onnx

    model = onnx.load(str(trunk))
    without_concats(model)
    model_files.write_atomically(target, model.SerializeToString())
    return target


def split_onnx(full: Path) -> tuple[Path, Path]:
    """(trunk, head): the graph cut at the input of its first Resize (the first upsampling),
    cached next to it."""
    trunk_path, head_path = split_paths(full)
    if trunk_path.is_file() and head_path.is_file():
        return trunk_path, head_path
    import onnx
    import onnx.utils

    model = onnx.shape_inference.infer_shapes(onnx.load(str(full)))
    graph_input = model.graph.input[0].name
    resize = next((node for node in model.graph.node if node.op_type == "Resize"), None)
    if resize is None or resize.input[0] == graph_input:
        raise ValueError(f"{full.name} has no trunk to cut before an upsampling")
    cut = resize.input[0]
    extractor = onnx.utils.Extractor(model)
    trunk = extractor.extract_model([graph_input], [cut])
    head = extractor.extract_model([cut], [model.graph.output[0].name])
    model_files.write_atomically(trunk_path, trunk.SerializeToString())
    model_files.write_atomically(head_path, head.SerializeToString())
    return trunk_path, head_path
