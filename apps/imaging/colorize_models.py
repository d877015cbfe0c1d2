"""The colorizer files an admin can really download, made runnable without PyTorch.

Zhang et al.'s networks are published in three forms:

* **OpenCV's Caffe release** — ``colorization_deploy_v2.prototxt``,
  ``colorization_release_v2.caffemodel`` and ``pts_in_hull.npy`` (the 313 ab bin centres).
  :class:`CaffeColorizer` runs them with ``cv2.dnn`` the way OpenCV's own sample does: L - 50 at
  224 x 224 in, the bin centres loaded into ``class8_ab``, the annealed-mean temperature
  (1 / 0.38 = 2.606) into ``conv8_313_rh``, ab at 56 x 56 out.
* **The PyTorch state dicts** of the ``colorizers`` package (ECCV16
  ``colorization_release_v2-9b330a0b.pth``, SIGGRAPH17 ``siggraph17-df00044c.pth``).
  :func:`read_state_dict` reads them with numpy alone (a restricted unpickler: only tensors and
  ordered dicts are built, nothing else is imported), and :func:`state_dict_to_onnx` writes the
  same network as an ONNX graph once, at install time. Serving then needs onnxruntime only.
* An ONNX export, used as it is.
"""

from __future__ import annotations

import io
import pickle
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from .errors import EnhancerError, gettext_noop

CAFFE_PROTOTXT = "colorization_deploy_v2.prototxt"
CAFFE_WEIGHTS = "colorization_release_v2.caffemodel"
CAFFE_HULL = "pts_in_hull.npy"
CAFFE_FILES = (CAFFE_PROTOTXT, CAFFE_WEIGHTS, CAFFE_HULL)
CAFFE_SIZE = 224
ANNEALED_MEAN_SCALE = 2.606  # 1 / T with T = 0.38, the paper's annealed mean


class CaffeColorizer:
    """OpenCV's Caffe release run with ``cv2.dnn``; ``run`` takes L (0..100) at ``size``."""

    size = CAFFE_SIZE
    l_offset = -50.0
    ab_scale = 1.0

    def __init__(self, prototxt: Path, weights: Path, hull: Path) -> None:
        try:
            net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
            centres = np.load(hull, allow_pickle=False).astype(np.float32)
        except (cv2.error, ValueError, OSError) as error:
            raise EnhancerError(
                EnhancerError.UNAVAILABLE,
                gettext_noop("the Caffe colorizer cannot be loaded: %(error)s"),
                {"error": str(error)},
            ) from None
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise EnhancerError(
                EnhancerError.UNAVAILABLE,
                gettext_noop("%(file)s holds %(shape)s, expected N x 2 ab bin centres"),
                {"file": hull.name, "shape": str(centres.shape)},
            )
        bins = centres.shape[0]
        names = set(net.getLayerNames())
        for name in ("class8_ab", "conv8_313_rh"):
            if name not in names:
                raise EnhancerError(
                    EnhancerError.UNAVAILABLE, gettext_noop("%(file)s has no layer %(layer)s"),
                    {"file": prototxt.name, "layer": repr(name)},
                )
        net.getLayer(net.getLayerId("class8_ab")).blobs = [
            np.ascontiguousarray(centres.T.reshape(2, bins, 1, 1))
        ]
        net.getLayer(net.getLayerId("conv8_313_rh")).blobs = [
            np.full((1, bins), ANNEALED_MEAN_SCALE, np.float32)
        ]
        self._net = net
        self._lock = threading.Lock()  # a cv2.dnn.Net is not safe to share between threads

    def run(self, lightness: np.ndarray) -> np.ndarray:
        """1 x 1 x size x size L (already offset) -> 1 x 2 x h x w ab."""
        with self._lock:
            self._net.setInput(np.ascontiguousarray(lightness, np.float32))
            return np.asarray(self._net.forward(), np.float32)


# --------------------------------------------------------------------------- reading .pth


class _Storage:
    def __init__(self, dtype: np.dtype, count: int) -> None:
        self.dtype, self.count = dtype, count
        self.array: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self) -> np.ndarray:
        base = self.storage.array
        if base is None:
            raise ValueError("tensor data missing from the file")
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[self.offset :],
            shape=tuple(self.size),
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view, dtype=np.float32)


_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "BFloat16Storage": np.uint16,  # rejected below: no numpy bfloat16
}


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return _Tensor(storage, offset, tuple(size), tuple(stride))


def _rebuild_parameter(tensor, *_rest):
    return tensor


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Builds only what a state dict holds; any other global is refused, so a crafted file
    cannot run code."""

    def __init__(self, stream, storages: dict[str, _Storage]) -> None:
        super().__init__(stream)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a model file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, count, *_view = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if storage_type.name == "BFloat16Storage":
            raise pickle.UnpicklingError("bfloat16 weights are not supported")
        storage = self.storages.get(str(key))
        if storage is None:
            storage = _Storage(np.dtype(_STORAGE_DTYPES[storage_type.name]), int(count))
            self.storages[str(key)] = storage
        return storage


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """A PyTorch ``state_dict`` file (zip or legacy format) as float32 numpy arrays."""
    storages: dict[str, _Storage] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                pickled = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
                prefix = pickled[: -len("data.pkl")]
                state = _Unpickler(io.BytesIO(archive.read(pickled)), storages).load()
                for key, storage in storages.items():
                    raw = archive.read(f"{prefix}data/{key}")
                    storage.array = np.frombuffer(raw, storage.dtype.newbyteorder("<"))
        else:
            with open(path, "rb") as stream:
                header = [pickle.load(stream) for _ in range(3)]  # noqa: S301 - plain ints/dicts
                if header[0] != LEGACY_MAGIC:
                    raise ValueError("not a PyTorch file")
                state = _Unpickler(stream, storages).load()
                keys = _Unpickler(stream, storages).load()
                for key in keys:
                    storage = storages[str(key)]
                    count = int(np.frombuffer(stream.read(8), "<i8")[0])
                    raw = stream.read(count * storage.dtype.itemsize)
                    storage.array = np.frombuffer(raw, storage.dtype.newbyteorder("<"))
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        return {
            str(name): value.materialise()
            for name, value in state.items()
            if isinstance(value, _Tensor)
        }
    except (pickle.UnpicklingError, ValueError, KeyError, StopIteration, EOFError) as error:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            gettext_noop("%(file)s is not a readable PyTorch state dict: %(error)s"),
            {"file": Path(path).name, "error": str(error)},
        ) from None


# --------------------------------------------------------------------------- state dict -> ONNX


def architecture(state: dict[str, np.ndarray]) -> str:
    if "model_out.weight" in state and "model8.6.weight" in state:
        return "eccv16"
    if "model_out.0.weight" in state and "model10up.0.weight" in state:
        return "siggraph17"
    raise EnhancerError(
        EnhancerError.BAD_PARAMS,
        gettext_noop(
            "the state dict is neither ECCV16 (model_out.weight) nor SIGGRAPH17 (model_out.0.weight)"
        ),
    )


class _Builder:
    """Appends ONNX nodes for the ``colorizers`` package's nn.Sequential blocks."""

    # Hyper-parameters not recoverable from the weights: (stride, padding, dilation) per conv,
    # keyed "block.index"; the rest are 3x3 (or 1x1), stride 1, "same" padding.
    def __init__(self, state: dict[str, np.ndarray], convs: dict[str, tuple[int, int, int]]):
        from onnx import helper, numpy_helper

        self.state, self.convs = state, convs
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, array: np.ndarray) -> str:
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name

    def ints(self, hint: str, values: list[int]) -> str:
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(values, np.int64), name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs) -> str:
        out = self.name(kind.lower())
        self.nodes.append(self.helper.make_node(kind, inputs, [out], **attrs))
        return out

    def sequential(self, block: str, x: str, tail: dict[int, str] | None = None) -> str:
        """Run ``block.0``, ``block.1``, … in order: convolutions and batch norms from their
        weights, parameterless indices as ReLU unless ``tail`` names another activation."""
        indices = sorted(
            {int(key.split(".")[1]) for key in self.state if key.startswith(block + ".")}
        )
        last = max(indices + list((tail or {}).keys()))
        for index in range(last + 1):
            prefix = f"{block}.{index}"
            if f"{prefix}.running_mean" in self.state:
                x = self.batch_norm(prefix, x)
            elif f"{prefix}.weight" in self.state:
                x = self.conv(prefix, x)
            else:
                kind = (tail or {}).get(index, "Relu")
                x = self.op("LeakyRelu", [x], alpha=0.2) if kind == "LeakyRelu" else self.op(kind, [x])
        return x

    def conv(self, prefix: str, x: str) -> str:
        weight = self.state[f"{prefix}.weight"]
        inputs = [x, self.const(prefix + ".w", weight)]
        if f"{prefix}.bias" in self.state:
            inputs.append(self.const(prefix + ".b", self.state[f"{prefix}.bias"]))
        kernel = weight.shape[2]
        stride, pad, dilation = self.convs.get(prefix, (1, (kernel - 1) // 2, 1))
        kind = "ConvTranspose" if prefix in TRANSPOSED else "Conv"
        return self.op(
            kind,
            inputs,
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[pad] * 4,
            dilations=[dilation, dilation],
        )

    def batch_norm(self, prefix: str, x: str) -> str:
        mean = self.state[f"{prefix}.running_mean"]
        channels = mean.shape[0]
        scale = self.state.get(f"{prefix}.weight", np.ones(channels, np.float32))
        bias = self.state.get(f"{prefix}.bias", np.zeros(channels, np.float32))
        return self.op(
            "BatchNormalization",
            [
                x,
                self.const(prefix + ".g", scale),
                self.const(prefix + ".beta", bias),
                self.const(prefix + ".mean", mean),
                self.const(prefix + ".var", self.state[f"{prefix}.running_var"]),
            ],
            epsilon=1e-5,
        )

    def scalar(self, value: float) -> str:
        return self.const("k", np.array(value, np.float32))

    def model(self, inputs: list, output: str, size: int):
        helper = self.helper
        from onnx import TensorProto

        graph = helper.make_graph(
            self.nodes,
            "colorizer",
            inputs,
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, 2, size, size])],
            self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        return model


TRANSPOSED = {"model8.0", "model8up.0", "model9up.0", "model10up.0"}
SIZE = 256
L_CENT, L_NORM, AB_NORM = 50.0, 100.0, 110.0


def _eccv16(state: dict[str, np.ndarray]):
    from onnx import TensorProto, helper

    convs = {
        "model1.2": (2, 1, 1),
        "model2.2": (2, 1, 1),
        "model3.4": (2, 1, 1),
        "model8.0": (2, 1, 1),
        **{f"model{b}.{i}": (1, 2, 2) for b in (5, 6) for i in (0, 2, 4)},
    }
    build = _Builder(state, convs)
    x = build.op("Sub", ["input_l", build.scalar(L_CENT)])
    x = build.op("Div", [x, build.scalar(L_NORM)])
    for block in range(1, 9):
        x = build.sequential(f"model{block}", x)
    x = build.op("Softmax", [x], axis=1)
    x = build.op("Conv", [x, build.const("model_out.w", state["model_out.weight"])], kernel_shape=[1, 1])
    scales = build.const("scales", np.array([1, 1, 4, 4], np.float32))
    x = build.op(
        "Resize", [x, "", scales], mode="linear", coordinate_transformation_mode="half_pixel"
    )
    build.nodes.append(helper.make_node("Mul", [x, build.scalar(AB_NORM)], ["ab"]))
    inputs = [helper.make_tensor_value_info("input_l", TensorProto.FLOAT, [1, 1, SIZE, SIZE])]
    return build.model(inputs, "ab", SIZE)


def _siggraph17(state: dict[str, np.ndarray]):
    from onnx import TensorProto, helper

    convs = {
        "model8up.0": (2, 1, 1),
        "model9up.0": (2, 1, 1),
        "model10up.0": (2, 1, 1),
        **{f"model{b}.{i}": (1, 2, 2) for b in (5, 6) for i in (0, 2, 4)},
    }
    build = _Builder(state, convs)
    l_in = build.op("Div", [build.op("Sub", ["input_l", build.scalar(L_CENT)]), build.scalar(L_NORM)])
    # Automatic colorization: no user hints, so the ab hints are 0 and the mask is 0 (- 0.5).
    zero = build.op("Mul", ["input_l", build.scalar(0.0)])
    mask = build.op("Sub", [zero, build.scalar(0.5)])
    x = build.op("Concat", [l_in, zero, zero, mask], axis=1)
    conv1 = build.sequential("model1", x)

    def subsample(t: str) -> str:  # conv[:, :, ::2, ::2]
        starts, ends = build.ints("starts", [0, 0]), build.ints("ends", [2**31 - 1] * 2)
        axes, steps = build.ints("axes", [2, 3]), build.ints("steps", [2, 2])
        return build.op("Slice", [t, starts, ends, axes, steps])

    conv2 = build.sequential("model2", subsample(conv1))
    conv3 = build.sequential("model3", subsample(conv2))
    x = build.sequential("model4", subsample(conv3))
    for block in (5, 6, 7):
        x = build.sequential(f"model{block}", x)
    x = build.op("Add", [build.sequential("model8up", x), build.sequential("model3short8", conv3)])
    x = build.sequential("model8", x)
    x = build.op("Add", [build.sequential("model9up", x), build.sequential("model2short9", conv2)])
    x = build.sequential("model9", x)
    x = build.op("Add", [build.sequential("model10up", x), build.sequential("model1short10", conv1)])
    x = build.sequential("model10", x, tail={2: "LeakyRelu"})
    x = build.sequential("model_out", x, tail={1: "Tanh"})
    build.nodes.append(helper.make_node("Mul", [x, build.scalar(AB_NORM)], ["ab"]))
    inputs = [helper.make_tensor_value_info("input_l", TensorProto.FLOAT, [1, 1, SIZE, SIZE])]
    return build.model(inputs, "ab", SIZE)


def state_dict_to_onnx(state: dict[str, np.ndarray]):
    """The ECCV16 or SIGGRAPH17 generator as an ``onnx.ModelProto``: L (0..100) at 256 x 256
    in, ab (Lab units) out — the contract of colorize.MODEL_FILE."""
    import onnx

    arch = architecture(state)
    model = _eccv16(state) if arch == "eccv16" else _siggraph17(state)
    onnx.checker.check_model(model)
    return model
