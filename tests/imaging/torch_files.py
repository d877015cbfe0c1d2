"""Write PyTorch ``state_dict`` files without PyTorch, for the colorizer installer's tests.

The formats ``torch.save`` writes: the zip archive (PyTorch >= 1.6: ``archive/data.pkl`` with
storages as persistent ids, their bytes in ``archive/data/<key>``) and the legacy stream (three
header pickles, the state pickle, the storage keys, then each storage's size and bytes). The
pickles reference ``torch._utils._rebuild_tensor_v2`` and ``torch.FloatStorage`` by name, which
the pure-Python pickler is taught to emit here without importing torch.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np


class _Global:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # only so the pickler accepts it as a reduce function
        raise TypeError("a stand-in for a torch global; never called")


class _Storage:
    def __init__(self, key: str, array: np.ndarray, legacy: bool) -> None:
        self.key, self.array, self.legacy = key, array, legacy


class _Tensor:
    def __init__(self, storage: _Storage, shape: tuple) -> None:
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        strides = tuple(int(s) // 4 for s in np.empty(self.shape, np.float32).strides)
        return (
            _Global("torch._utils", "_rebuild_tensor_v2"),
            (self.storage, 0, self.shape, strides, False, OrderedDict()),
        )


class _Writer(pickle._Pickler):  # the pure-Python pickler: its save() can be extended
    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            pid = ("storage", _Global("torch", "FloatStorage"), obj.key, "cpu", obj.array.size)
            return (*pid, None) if obj.legacy else pid
        return None


def _dump(obj) -> bytes:
    buffer = io.BytesIO()
    _Writer(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_state_dict(path: Path, state: dict[str, np.ndarray], legacy: bool = False) -> Path:
    storages = [
        _Storage(str(i), np.ascontiguousarray(v, np.float32).ravel(), legacy)
        for i, v in enumerate(state.values())
    ]
    tensors = OrderedDict(
        (name, _Tensor(storage, tuple(np.shape(value))))
        for (name, value), storage in zip(state.items(), storages, strict=True)
    )
    if legacy:
        parts = [pickle.dumps(0x1950A86A20F9469CFC6C, 2), pickle.dumps(1001, 2)]
        parts.append(pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2))
        parts += [_dump(tensors), pickle.dumps([s.key for s in storages], 2)]
        for storage in storages:
            parts.append(np.int64(storage.array.size).tobytes() + storage.array.tobytes())
        path.write_bytes(b"".join(parts))
        return path
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _dump(tensors))
        archive.writestr("archive/version", "3\n")
        for storage in storages:
            archive.writestr(f"archive/data/{storage.key}", storage.array.tobytes())
    return path


def write_pickle_bomb(path: Path) -> Path:
    """A "state dict" whose pickle calls os.system when loaded by a naive unpickler."""
    payload = pickle.GLOBAL + b"os\nsystem\n" + pickle.MARK + pickle.BINUNICODE
    command = b"touch /tmp/pwned-by-model"
    payload += len(command).to_bytes(4, "little") + command + pickle.TUPLE + pickle.REDUCE
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02" + payload + pickle.STOP)
    return path


def tiny_eccv16(width: int = 4, bins: int = 3, rng=None) -> dict[str, np.ndarray]:
    """The ECCV16 generator's keys and layout with ``width`` channels instead of 64..512 and
    ``bins`` ab bins instead of 313. Without ``rng`` every weight is zero and every bias zero,
    batch norms are identities, and ``model8.6.bias`` / ``model_out.weight`` are left to the
    caller: the output is then the same ab everywhere."""
    state: dict[str, np.ndarray] = {}

    def conv(name, cin, cout, k, bias=True):
        state[name + ".weight"] = (
            rng.normal(0, 0.3, (cout, cin, k, k)) if rng is not None else np.zeros((cout, cin, k, k))
        )
        if bias:
            state[name + ".bias"] = rng.normal(0, 0.1, cout) if rng is not None else np.zeros(cout)

    def norm(name, c):
        state[name + ".weight"], state[name + ".bias"] = np.ones(c), np.zeros(c)
        state[name + ".running_mean"], state[name + ".running_var"] = np.zeros(c), np.ones(c)
        state[name + ".num_batches_tracked"] = np.zeros(())

    w = width
    conv("model1.0", 1, w, 3), conv("model1.2", w, w, 3), norm("model1.4", w)
    conv("model2.0", w, w, 3), conv("model2.2", w, w, 3), norm("model2.4", w)
    for block in (3, 4, 5, 6, 7):
        conv(f"model{block}.0", w, w, 3), conv(f"model{block}.2", w, w, 3)
        conv(f"model{block}.4", w, w, 3), norm(f"model{block}.6", w)
    state["model8.0.weight"] = rng.normal(0, 0.3, (w, w, 4, 4)) if rng is not None else np.zeros((w, w, 4, 4))
    state["model8.0.bias"] = np.zeros(w)
    conv("model8.2", w, w, 3), conv("model8.4", w, w, 3), conv("model8.6", w, bins, 1)
    state["model_out.weight"] = (
        rng.normal(0, 0.3, (2, bins, 1, 1)) if rng is not None else np.zeros((2, bins, 1, 1))
    )
    return state


def tiny_siggraph17(width: int = 4, rng=None) -> dict[str, np.ndarray]:
    """The SIGGRAPH17 generator's keys and layout, ``width`` channels throughout."""
    state: dict[str, np.ndarray] = {}

    def conv(name, cin, cout, k):
        shape = (cout, cin, k, k)
        state[name + ".weight"] = rng.normal(0, 0.3, shape) if rng is not None else np.zeros(shape)
        state[name + ".bias"] = rng.normal(0, 0.1, cout) if rng is not None else np.zeros(cout)

    def norm(name, c):
        state[name + ".weight"], state[name + ".bias"] = np.ones(c), np.zeros(c)
        state[name + ".running_mean"], state[name + ".running_var"] = np.zeros(c), np.ones(c)

    w = width
    conv("model1.0", 4, w, 3), conv("model1.2", w, w, 3), norm("model1.4", w)
    conv("model2.0", w, w, 3), conv("model2.2", w, w, 3), norm("model2.4", w)
    for block in (3, 4, 5, 6, 7):
        conv(f"model{block}.0", w, w, 3), conv(f"model{block}.2", w, w, 3)
        conv(f"model{block}.4", w, w, 3), norm(f"model{block}.6", w)
    for up in ("model8up", "model9up", "model10up"):
        shape = (w, w, 4, 4)
        state[up + ".0.weight"] = rng.normal(0, 0.3, shape) if rng is not None else np.zeros(shape)
        state[up + ".0.bias"] = np.zeros(w)
    conv("model3short8.0", w, w, 3), conv("model2short9.0", w, w, 3)
    conv("model1short10.0", w, w, 3)
    conv("model8.1", w, w, 3), conv("model8.3", w, w, 3), norm("model8.5", w)
    conv("model9.1", w, w, 3), norm("model9.3", w)
    conv("model10.1", w, w, 3)
    conv("model_class.0", w, 5, 1)
    conv("model_out.0", w, 2, 1)
    return state
