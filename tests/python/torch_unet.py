"""The assignment's modules in PyTorch, structured and named as unetflow names its tensors, so that a
state_dict and a unetflow checkpoint are interchangeable. Mirrors the reference UNet (SPEC sections 1-3)."""
import json
import struct

import numpy as np
import torch
import torch.nn as nn


class Conv(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(nn.Conv2d(i, o, 3, 1, 1), nn.BatchNorm2d(o), nn.GELU())


class DownConv(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(nn.Conv2d(i, o, 3, 2, 1), nn.BatchNorm2d(o), nn.GELU())


class UpConv(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.GELU())


class Flatten(nn.Sequential):
    def __init__(s):
        super().__init__(nn.AvgPool2d(7), nn.GELU())


class Unflatten(nn.Sequential):
    def __init__(s, i):
        super().__init__(nn.ConvTranspose2d(i, i, 7, 7, 0), nn.BatchNorm2d(i), nn.GELU())


class ConvBlock(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(Conv(i, o), Conv(o, o))


class DownBlock(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(DownConv(i, o), ConvBlock(o, o))


class UpBlock(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(UpConv(i, o), ConvBlock(o, o))


class FCBlock(nn.Sequential):
    def __init__(s, i, o):
        super().__init__(nn.Linear(i, o), nn.GELU(), nn.Linear(o, o))


class UNet(nn.Module):
    """Unconditional (time=False, classes=0), time-conditioned, or time+class-conditioned UNet."""

    def __init__(s, in_ch=1, D=128, time=False, classes=0):
        super().__init__()
        s.c0 = ConvBlock(in_ch, D)
        s.d1 = DownBlock(D, D)
        s.d2 = DownBlock(D, 2 * D)
        s.flat = Flatten()
        s.unflat = Unflatten(2 * D)
        s.u1 = UpBlock(4 * D, D)
        s.u2 = UpBlock(2 * D, D)
        s.c1 = ConvBlock(2 * D, D)
        s.out = nn.Conv2d(D, in_ch, 3, 1, 1)
        s.time, s.classes = time, classes
        if time:
            s.fc1_t, s.fc2_t = FCBlock(1, 2 * D), FCBlock(1, D)
        if classes:
            s.fc1_c, s.fc2_c = FCBlock(classes, 2 * D), FCBlock(classes, D)

    def forward(s, x, t=None, c=None):
        x0 = s.c0(x)
        x1 = s.d1(x0)
        x2 = s.d2(x1)
        h = s.unflat(s.flat(x2))
        if s.time:
            t1 = s.fc1_t(t)[:, :, None, None]
            h = s.fc1_c(c)[:, :, None, None] * h + t1 if s.classes else h * t1
        h = s.u1(torch.cat([x2, h], 1))
        if s.time:
            t2 = s.fc2_t(t)[:, :, None, None]
            h = s.fc2_c(c)[:, :, None, None] * h + t2 if s.classes else h * t2
        h = s.u2(torch.cat([x1, h], 1))
        h = s.c1(torch.cat([x0, h], 1))
        return s.out(h)


_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}
_NP = {v: k for k, v in _DTYPES.items()}


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor or array} as safetensors (the format unetflow reads and writes)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = tensors[name]
        a = a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Reads a safetensors file into ({name: torch tensor}, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        a = np.frombuffer(data[base + b:base + e], dtype=_NP[h["dtype"]]).reshape(h["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta
