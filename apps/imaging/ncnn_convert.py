"""Read an ncnn model (.param text + .bin weights) and rewrite it as an ONNX graph.

Only the layer types the Real-ESRGAN and SPAN families use are supported (Input, MemoryData,
Convolution with fused ReLU / LeakyReLU, Split, Concat, Eltwise, BinaryOp on two blobs or a blob
and a scalar, Sigmoid, Swish, Interp, PReLU, PixelShuffle); anything else raises
``UnsupportedModel`` so the caller can fall back to ncnn itself.

The .bin file is a plain concatenation of each layer's arrays in .param order. Arrays loaded by
ncnn with "auto" type carry a 4-byte tag (0 = float32, 0x01306B47 = float16); arrays loaded as
raw float32 (biases, PReLU slopes) carry none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PARAM_MAGIC = 7767517
FP16_TAG = 0x01306B47


class UnsupportedModel(Exception):
    pass


@dataclass
class Layer:
    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, object]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, key: int, default=None):
        return self.params.get(key, default)


def _parse_value(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_param(text: str) -> list[Layer]:
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or int(lines[0][0]) != PARAM_MAGIC:
        raise UnsupportedModel("not an ncnn .param file (bad magic)")
    layer_count = int(lines[1][0])
    layers = []
    for tokens in lines[2 : 2 + layer_count]:
        kind, name, n_in, n_out = tokens[0], tokens[1], int(tokens[2]), int(tokens[3])
        inputs = tokens[4 : 4 + n_in]
        outputs = tokens[4 + n_in : 4 + n_in + n_out]
        params: dict[int, object] = {}
        for item in tokens[4 + n_in + n_out :]:
            key_text, value = item.split("=", 1)
            key = int(key_text)
            if key <= -23300:  # an array: "count,v1,v2,..."
                values = value.split(",")
                params[-key - 23300] = [_parse_value(v) for v in values[1:]]
            else:
                params[key] = _parse_value(value)
        layers.append(Layer(kind, name, inputs, outputs, params))
    return layers


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def raw_float32(self, count: int) -> np.ndarray:
        end = self.offset + 4 * count
        if end > len(self.data):
            raise UnsupportedModel("weight file ends early")
        array = np.frombuffer(self.data, np.float32, count, self.offset).copy()
        self.offset = end
        return array

    def tagged(self, count: int) -> np.ndarray:
        tag = int(np.frombuffer(self.data, np.uint32, 1, self.offset)[0])
        self.offset += 4
        if tag == 0:
            return self.raw_float32(count)
        if tag == FP16_TAG:
            array = np.frombuffer(self.data, np.float16, count, self.offset).astype(np.float32)
            self.offset += (2 * count + 3) // 4 * 4
            return array
        raise UnsupportedModel(f"unsupported weight storage tag {tag:#x} (quantised model?)")


def load(param_path: Path, bin_path: Path) -> list[Layer]:
    """Parse both files; weights are float32 arrays shaped as PyTorch/ONNX expect them."""
    layers = parse_param(Path(param_path).read_text())
    reader = _Reader(Path(bin_path).read_bytes())
    for layer in layers:
        if layer.type == "Convolution":
            out_ch, k = int(layer.get(0)), int(layer.get(1))
            k_h = int(layer.get(11, k))
            size = int(layer.get(6))
            if layer.get(8, 0):
                raise UnsupportedModel("int8 convolution")
            weight = reader.tagged(size)
            layer.weights["weight"] = weight.reshape(out_ch, size // (out_ch * k * k_h), k_h, k)
            if layer.get(5, 0):
                layer.weights["bias"] = reader.raw_float32(out_ch)
        elif layer.type == "PReLU":
            layer.weights["slope"] = reader.raw_float32(int(layer.get(0, 1)))
        elif layer.type == "MemoryData":
            # ncnn loads a constant blob as raw float32 (no tag); shape c x h x w, 0 = absent.
            w, h, c = (int(layer.get(i, 0)) for i in (0, 1, 2))
            shape = tuple(d for d in (c, h, w) if d)
            count = int(np.prod(shape)) if shape else 0
            array = reader.raw_float32(count).reshape(shape)
            # Broadcast against N x C x H x W like ncnn does for a per-channel constant.
            layer.weights["data"] = array.reshape((1,) * (4 - array.ndim) + array.shape)
        elif layer.type not in _NO_WEIGHTS:
            raise UnsupportedModel(f"layer type {layer.type}")
    if reader.offset != len(reader.data):
        raise UnsupportedModel(
            f"weight file has {len(reader.data) - reader.offset} unread bytes; layout not understood"
        )
    return layers


_NO_WEIGHTS = {
    "Input",
    "Split",
    "Concat",
    "Eltwise",
    "BinaryOp",
    "Interp",
    "PixelShuffle",
    "Sigmoid",
    "Swish",
}
# ncnn BinaryOp op_type -> (ONNX op, operands swapped): 7 and 8 are "reverse" sub / div.
_BINARY_OPS = {
    0: ("Add", False),
    1: ("Sub", False),
    2: ("Mul", False),
    3: ("Div", False),
    4: ("Max", False),
    5: ("Min", False),
    6: ("Pow", False),
    7: ("Sub", True),
    8: ("Div", True),
}


def to_onnx(layers: list[Layer], input_name: str = "data", output_name: str = "output"):
    """An ``onnx.ModelProto`` computing the same function, NCHW float32, dynamic H and W."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    alias: dict[str, str] = {}

    def src(name: str) -> str:
        return alias.get(name, name)

    def const(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    graph_input = None
    for layer in layers:
        ins = [src(n) for n in layer.inputs]
        out = layer.outputs[0] if layer.outputs else None
        kind = layer.type
        if kind == "Input":
            graph_input = layer.outputs[0]
        elif kind == "Split":
            for name in layer.outputs:
                alias[name] = ins[0]
        elif kind == "Convolution":
            k = int(layer.get(1))
            k_h = int(layer.get(11, k))
            dil, stride = int(layer.get(2, 1)), int(layer.get(3, 1))
            pad_l = int(layer.get(4, 0))
            pad_t, pad_r = int(layer.get(14, pad_l)), int(layer.get(15, pad_l))
            pad_b = int(layer.get(16, pad_t))
            if pad_l < 0:
                raise UnsupportedModel("SAME padding in Convolution")
            if layer.get(7, 1) != 1:
                raise UnsupportedModel("grouped Convolution")
            conv_inputs = [ins[0], const(layer.name + ".weight", layer.weights["weight"])]
            if "bias" in layer.weights:
                conv_inputs.append(const(layer.name + ".bias", layer.weights["bias"]))
            activation = int(layer.get(9, 0))
            conv_out = out if activation == 0 else layer.name + ".conv"
            nodes.append(
                helper.make_node(
                    "Conv",
                    conv_inputs,
                    [conv_out],
                    name=layer.name,
                    kernel_shape=[k_h, k],
                    dilations=[dil, dil],
                    strides=[stride, stride],
                    pads=[pad_t, pad_l, pad_b, pad_r],
                )
            )
            if activation == 1:
                nodes.append(helper.make_node("Relu", [conv_out], [out]))
            elif activation == 2:
                slope = float((layer.get(10) or [0.0])[0])
                nodes.append(helper.make_node("LeakyRelu", [conv_out], [out], alpha=slope))
            elif activation != 0:
                raise UnsupportedModel(f"Convolution activation {activation}")
        elif kind == "PReLU":
            slope = layer.weights["slope"].reshape(-1, 1, 1)
            nodes.append(
                helper.make_node("PRelu", [ins[0], const(layer.name + ".slope", slope)], [out])
            )
        elif kind == "Concat":
            if int(layer.get(0, 0)) != 0:
                raise UnsupportedModel("Concat on an axis other than channels")
            nodes.append(helper.make_node("Concat", ins, [out], axis=1))
        elif kind == "Eltwise":
            op = int(layer.get(0, 1))
            coeffs = layer.get(1) or []
            if op != 1:
                raise UnsupportedModel(f"Eltwise op {op}")
            terms = []
            for i, name in enumerate(ins):
                c = float(coeffs[i]) if i < len(coeffs) else 1.0
                if c == 1.0:
                    terms.append(name)
                else:
                    scaled = f"{layer.name}.scaled{i}"
                    c_name = const(f"{layer.name}.coeff{i}", np.array(c, np.float32))
                    nodes.append(helper.make_node("Mul", [name, c_name], [scaled]))
                    terms.append(scaled)
            nodes.append(helper.make_node("Sum", terms, [out]))
        elif kind == "MemoryData":
            const(out, layer.weights["data"].astype(np.float32))
        elif kind == "BinaryOp":
            op = int(layer.get(0, 0))
            if op not in _BINARY_OPS:
                raise UnsupportedModel(f"BinaryOp {op}")
            onnx_op, swapped = _BINARY_OPS[op]
            operands = list(ins)
            if layer.get(1, 0):  # with_scalar: the second operand is param 2
                scalar = np.array(float(layer.get(2, 0.0)), np.float32)
                operands = [ins[0], const(layer.name + ".scalar", scalar)]
            if len(operands) != 2:
                raise UnsupportedModel(f"BinaryOp with {len(operands)} inputs")
            if swapped:
                operands.reverse()
            nodes.append(helper.make_node(onnx_op, operands, [out]))
        elif kind == "Sigmoid":
            nodes.append(helper.make_node("Sigmoid", ins, [out]))
        elif kind == "Swish":
            gate = layer.name + ".sigmoid"
            nodes.append(helper.make_node("Sigmoid", ins, [gate]))
            nodes.append(helper.make_node("Mul", [ins[0], gate], [out]))
        elif kind == "Interp":
            resize_type = int(layer.get(0, 0))
            if layer.get(3, 0) or layer.get(4, 0):
                raise UnsupportedModel("Interp to a fixed size")
            scale_h, scale_w = float(layer.get(1, 1.0)), float(layer.get(2, 1.0))
            scales = const(layer.name + ".scales", np.array([1, 1, scale_h, scale_w], np.float32))
            attrs = {"nearest_mode": "floor", "coordinate_transformation_mode": "asymmetric"}
            if resize_type == 1:
                attrs["mode"] = "nearest"
            elif resize_type in (2, 3):
                attrs = {
                    "mode": "linear" if resize_type == 2 else "cubic",
                    "coordinate_transformation_mode": (
                        "align_corners" if layer.get(6, 0) else "half_pixel"
                    ),
                }
                if resize_type == 3:
                    attrs["cubic_coeff_a"] = -0.75
            else:
                raise UnsupportedModel(f"Interp type {resize_type}")
            nodes.append(helper.make_node("Resize", [ins[0], "", scales], [out], **attrs))
        elif kind == "PixelShuffle":
            if int(layer.get(1, 0)) != 0:
                raise UnsupportedModel("PixelShuffle mode 1")
            factor = int(layer.get(0, 1))
            nodes.append(helper.make_node("DepthToSpace", ins, [out], blocksize=factor, mode="CRD"))
        else:
            raise UnsupportedModel(f"layer type {kind}")

    if graph_input is None:
        raise UnsupportedModel("no Input layer")
    # Rename the graph's ends to stable names.
    final = src(output_name)
    for node in nodes:
        node.input[:] = [input_name if n == graph_input else n for n in node.input]
        node.output[:] = ["output" if n == final else n for n in node.output]
    graph = helper.make_graph(
        nodes,
        "ncnn_converted",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "OH", "OW"])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
