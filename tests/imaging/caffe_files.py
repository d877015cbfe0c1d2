"""Tiny Caffe colorizers of the same structure as OpenCV's release of Zhang et al., for tests.

``colorization_deploy_v2.prototxt`` is text; the ``.caffemodel`` is a binary ``NetParameter``
protobuf. Caffe is not installed, so the few messages needed are declared here (field numbers
from caffe.proto) and encoded with the protobuf runtime that onnx already brings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_FIELD = descriptor_pb2.FieldDescriptorProto


def _messages():
    proto = descriptor_pb2.FileDescriptorProto(name="tiny_caffe.proto", package="tinycaffe")

    def message(name, fields):
        msg = proto.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            field = msg.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
            if kind in (_FIELD.TYPE_FLOAT, _FIELD.TYPE_INT64) and label == _FIELD.LABEL_REPEATED:
                field.options.packed = True

    rep, opt = _FIELD.LABEL_REPEATED, _FIELD.LABEL_OPTIONAL
    message("BlobShape", [("dim", 1, _FIELD.TYPE_INT64, rep, None)])
    message(
        "BlobProto",
        [
            ("data", 5, _FIELD.TYPE_FLOAT, rep, None),
            ("shape", 7, _FIELD.TYPE_MESSAGE, opt, ".tinycaffe.BlobShape"),
        ],
    )
    message(
        "LayerParameter",
        [
            ("name", 1, _FIELD.TYPE_STRING, opt, None),
            ("type", 2, _FIELD.TYPE_STRING, opt, None),
            ("blobs", 7, _FIELD.TYPE_MESSAGE, rep, ".tinycaffe.BlobProto"),
        ],
    )
    message(
        "NetParameter",
        [
            ("name", 1, _FIELD.TYPE_STRING, opt, None),
            ("layer", 100, _FIELD.TYPE_MESSAGE, rep, ".tinycaffe.LayerParameter"),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tinycaffe.NetParameter"))


PROTOTXT = """name: "tiny_colorization"
layer { name: "data_l" type: "Input" top: "data_l"
  input_param { shape { dim: 1 dim: 1 dim: 224 dim: 224 } } }
layer { name: "bw_conv1_1" type: "Convolution" bottom: "data_l" top: "conv1_1"
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 stride: 2 } }
layer { name: "relu1_1" type: "ReLU" bottom: "conv1_1" top: "conv1_1" }
layer { name: "conv1_2norm" type: "BatchNorm" bottom: "conv1_1" top: "conv1_2norm" }
layer { name: "conv2_1" type: "Convolution" bottom: "conv1_2norm" top: "conv2_1"
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 stride: 2 } }
layer { name: "relu2_1" type: "ReLU" bottom: "conv2_1" top: "conv2_1" }
layer { name: "conv3_1" type: "Convolution" bottom: "conv2_1" top: "conv3_1"
  convolution_param { num_output: 4 pad: 2 dilation: 2 kernel_size: 3 stride: 2 } }
layer { name: "relu3_1" type: "ReLU" bottom: "conv3_1" top: "conv3_1" }
layer { name: "conv8_1" type: "Deconvolution" bottom: "conv3_1" top: "conv8_1"
  convolution_param { num_output: 4 pad: 1 kernel_size: 4 stride: 2 } }
layer { name: "relu8_1" type: "ReLU" bottom: "conv8_1" top: "conv8_1" }
layer { name: "conv8_313" type: "Convolution" bottom: "conv8_1" top: "conv8_313"
  convolution_param { num_output: BINS kernel_size: 1 } }
layer { name: "conv8_313_rh" type: "Scale" bottom: "conv8_313" top: "conv8_313_rh"
  scale_param { bias_term: false filler { type: "constant" value: 2.606 } } }
layer { name: "class8_313_rh" type: "Softmax" bottom: "conv8_313_rh" top: "class8_313_rh" }
layer { name: "class8_ab" type: "Convolution" bottom: "class8_313_rh" top: "class8_ab"
  convolution_param { num_output: 2 kernel_size: 1 stride: 1 dilation: 1 } }
"""


def write_tiny_caffe_colorizer(folder: Path, logits: np.ndarray, centres: np.ndarray) -> list[Path]:
    """The three release files, for a network whose bin logits are ``logits`` everywhere (its
    convolutions' weights are zero, biases carry the values); ``centres`` is N x 2."""
    bins = len(logits)
    net_class = _messages()
    net = net_class(name="tiny_colorization")
    rng = np.random.default_rng(0)

    def layer(name, *arrays):
        entry = net.layer.add(name=name)
        for array in arrays:
            blob = entry.blobs.add()
            blob.shape.dim.extend(array.shape)
            blob.data.extend(np.asarray(array, np.float32).ravel().tolist())

    layer("bw_conv1_1", rng.normal(0, 0.1, (4, 1, 3, 3)), np.zeros(4))
    layer("conv1_2norm", np.zeros(4), np.ones(4), np.ones(1))  # mean, variance, scale factor
    layer("conv2_1", rng.normal(0, 0.1, (4, 4, 3, 3)), np.zeros(4))
    layer("conv3_1", rng.normal(0, 0.1, (4, 4, 3, 3)), np.zeros(4))
    layer("conv8_1", rng.normal(0, 0.1, (4, 4, 4, 4)), np.zeros(4))
    layer("conv8_313", np.zeros((bins, 4, 1, 1)), np.asarray(logits))
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        folder / "colorization_deploy_v2.prototxt",
        folder / "colorization_release_v2.caffemodel",
        folder / "pts_in_hull.npy",
    ]
    paths[0].write_text(PROTOTXT.replace("BINS", str(bins)))
    paths[1].write_bytes(net.SerializeToString())
    np.save(paths[2], np.asarray(centres, np.float64))
    return paths
