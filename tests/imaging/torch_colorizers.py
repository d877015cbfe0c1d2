"""Zhang et al.'s generators as the ``colorizers`` package writes them (eccv16.py,
siggraph17.py), with layer widths taken from a state dict so tiny ones can be checked.
Imported only where PyTorch is installed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _conv(state, name, stride=1, padding=1, dilation=1, transpose=False):
    weight = state[name + ".weight"]
    if transpose:
        layer = nn.ConvTranspose2d(weight.shape[0], weight.shape[1], 4, stride=2, padding=1)
    else:
        k = weight.shape[2]
        layer = nn.Conv2d(
            weight.shape[1], weight.shape[0], k, stride=stride, padding=padding if k > 1 else 0,
            dilation=dilation, bias=name + ".bias" in state,
        )
    return layer


def _norm(state, name):
    return nn.BatchNorm2d(state[name + ".running_mean"].shape[0])


def _load(module: nn.Module, state: dict) -> nn.Module:
    own = module.state_dict()
    tensors = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items() if k in own}
    for key in own:
        if key.endswith("num_batches_tracked"):
            tensors[key] = own[key]
    module.load_state_dict(tensors, strict=True)
    return module.eval()


class ECCV(nn.Module):
    def __init__(self, s):
        super().__init__()
        r = nn.ReLU
        self.model1 = nn.Sequential(_conv(s, "model1.0"), r(), _conv(s, "model1.2", 2), r(), _norm(s, "model1.4"))
        self.model2 = nn.Sequential(_conv(s, "model2.0"), r(), _conv(s, "model2.2", 2), r(), _norm(s, "model2.4"))
        self.model3 = nn.Sequential(
            _conv(s, "model3.0"), r(), _conv(s, "model3.2"), r(), _conv(s, "model3.4", 2), r(),
            _norm(s, "model3.6"),
        )
        blocks = {}
        for b in (4, 5, 6, 7):
            pad = dil = 2 if b in (5, 6) else 1
            blocks[b] = nn.Sequential(
                _conv(s, f"model{b}.0", 1, pad, dil), r(), _conv(s, f"model{b}.2", 1, pad, dil), r(),
                _conv(s, f"model{b}.4", 1, pad, dil), r(), _norm(s, f"model{b}.6"),
            )
        self.model4, self.model5, self.model6, self.model7 = blocks[4], blocks[5], blocks[6], blocks[7]
        self.model8 = nn.Sequential(
            _conv(s, "model8.0", transpose=True), r(), _conv(s, "model8.2"), r(), _conv(s, "model8.4"),
            r(), _conv(s, "model8.6"),
        )
        self.model_out = _conv(s, "model_out")
        self.softmax = nn.Softmax(dim=1)
        self.upsample4 = nn.Upsample(scale_factor=4, mode="bilinear")

    def forward(self, l_in):
        x = (l_in - 50.0) / 100.0
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5,
                      self.model6, self.model7, self.model8):
            x = block(x)
        return self.upsample4(self.model_out(self.softmax(x))) * 110.0


class SIGGRAPH(nn.Module):
    def __init__(self, s):
        super().__init__()
        r = nn.ReLU
        self.model1 = nn.Sequential(_conv(s, "model1.0"), r(), _conv(s, "model1.2"), r(), _norm(s, "model1.4"))
        self.model2 = nn.Sequential(_conv(s, "model2.0"), r(), _conv(s, "model2.2"), r(), _norm(s, "model2.4"))
        blocks = {}
        for b in (3, 4, 5, 6, 7):
            pad = dil = 2 if b in (5, 6) else 1
            blocks[b] = nn.Sequential(
                _conv(s, f"model{b}.0", 1, pad, dil), r(), _conv(s, f"model{b}.2", 1, pad, dil), r(),
                _conv(s, f"model{b}.4", 1, pad, dil), r(), _norm(s, f"model{b}.6"),
            )
        self.model3, self.model4, self.model5 = blocks[3], blocks[4], blocks[5]
        self.model6, self.model7 = blocks[6], blocks[7]
        self.model8up = nn.Sequential(_conv(s, "model8up.0", transpose=True))
        self.model3short8 = nn.Sequential(_conv(s, "model3short8.0"))
        self.model8 = nn.Sequential(r(), _conv(s, "model8.1"), r(), _conv(s, "model8.3"), r(), _norm(s, "model8.5"))
        self.model9up = nn.Sequential(_conv(s, "model9up.0", transpose=True))
        self.model2short9 = nn.Sequential(_conv(s, "model2short9.0"))
        self.model9 = nn.Sequential(r(), _conv(s, "model9.1"), r(), _norm(s, "model9.3"))
        self.model10up = nn.Sequential(_conv(s, "model10up.0", transpose=True))
        self.model1short10 = nn.Sequential(_conv(s, "model1short10.0"))
        self.model10 = nn.Sequential(r(), _conv(s, "model10.1"), nn.LeakyReLU(negative_slope=0.2))
        self.model_class = nn.Sequential(_conv(s, "model_class.0"))
        self.model_out = nn.Sequential(_conv(s, "model_out.0"), nn.Tanh())

    def forward(self, input_a):
        input_b = torch.cat((input_a * 0, input_a * 0), dim=1)
        mask_b = input_a * 0
        x = torch.cat(((input_a - 50.0) / 100.0, input_b / 110.0, mask_b - 0.5), dim=1)
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        x = self.model7(self.model6(self.model5(self.model4(conv3[:, :, ::2, ::2]))))
        x = self.model8(self.model8up(x) + self.model3short8(conv3))
        x = self.model9(self.model9up(x) + self.model2short9(conv2))
        x = self.model10(self.model10up(x) + self.model1short10(conv1))
        return self.model_out(x) * 110.0


def build(architecture: str, state: dict) -> nn.Module:
    return _load(ECCV(state) if architecture == "eccv16" else SIGGRAPH(state), state)
