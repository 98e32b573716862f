#!/usr/bin/env python3
"""PyTorch's side of the interop tests (Debian's python3-torch; no other package).

  pytorch_models.py make DIR
      writes DIR/lenet.safetensors and DIR/resnet18-w16.safetensors: the reference LeNet (28x28x1)
      and the CIFAR ResNet-18 at width 16 (32x32x3, with the reference's normalize buffers), each
      seeded and trained for a few steps on seeded noise (so weights and BatchNorm statistics are
      no longer their initial values), and DIR/<name>-check.safetensors: fixed images and the
      model's logits on them in eval mode.
  pytorch_models.py logits ARCH WIDTH MODEL CHECK OUT
      loads MODEL into ARCH (lenet, resnet18) with load_state_dict(strict=True) and writes the
      eval-mode logits of CHECK's images to OUT.

The ResNet is torchvision's resnet18 with conv1 a 3x3 stride-1 convolution and no max-pool (the
SalUn reference's CIFAR variant), written out here with torchvision's module names.
"""
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {torch.float32: "F32", torch.int64: "I64"}
TORCH = {"F32": torch.float32, "I64": torch.int64}


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        buf = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(buf, dtype=TORCH[meta["dtype"]]) if buf else torch.zeros(0, dtype=TORCH[meta["dtype"]])
        out[name] = t.reshape(meta["shape"]).clone()
    return out


class LeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, x):
        return (x - self.mean[None, :, None, None]) / self.std[None, :, None, None]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, width=64, channels=3, classes=10, normalize=None):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.normalize = Normalize(*normalize) if normalize else None
        self.conv1 = nn.Conv2d(channels, w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        cin = w[0]
        for i in range(4):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, w[i], stride), BasicBlock(w[i], w[i], 1)))
            cin = w[i]
        self.fc = nn.Linear(w[3], classes)

    def forward(self, x):
        if self.normalize is not None:
            x = self.normalize(x)
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


CIFAR = ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])


def model(arch, width):
    if arch == "lenet":
        return LeNet()
    return ResNet18(width=width, normalize=CIFAR)


def make(out):
    torch.set_num_threads(1)
    for name, arch, shape in [("lenet", "lenet", (1, 28, 28)), ("resnet18-w16", "resnet18", (3, 32, 32))]:
        torch.manual_seed(7)
        net = model(arch, 16)
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        net.train()
        for _ in range(5):
            x = torch.rand(16, *shape)
            y = torch.randint(0, 10, (16,))
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
        net.eval()
        images = torch.rand(8, *shape, generator=torch.Generator().manual_seed(11))
        with torch.no_grad():
            logits = net(images)
        save(f"{out}/{name}.safetensors", net.state_dict())
        save(f"{out}/{name}-check.safetensors", {"images": images, "logits": logits})


def logits(arch, width, path, check, out):
    torch.set_num_threads(1)
    net = model(arch, int(width))
    state = load(path)
    if arch == "resnet18" and "normalize.mean" not in state:
        net.normalize = None
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        save(out, {"logits": net(load(check)["images"])})


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "logits":
        logits(*sys.argv[2:7])
    else:
        sys.exit("usage: pytorch_models.py make DIR | logits ARCH WIDTH MODEL CHECK OUT")
