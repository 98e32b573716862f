#!/usr/bin/env python3
"""The reference LeNet of DATA.md (or, with --arch resnet18, the CIFAR ResNet-18 of
src/test/python/pytorch_models.py at --width, on one input channel) in PyTorch, timed the way
`bench` times DL4J: one training epoch (SGD, Nesterov momentum 0.9, weight decay 5e-4, batch 64)
and inference (batch 500) over the same number of Fashion-MNIST training records, on a given
number of threads, after warm-up. Prints one JSON object. A benchmark dependency only (Debian:
python3-torch), never a runtime one.

Usage: pytorch_lenet.py --data DIR --records N --threads T --repetitions R --warmup W [--arch A --width W]
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time


def read_idx(path, header):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    return data[header:]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--records", type=int, default=6000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--arch", choices=("lenet", "resnet18"), default="lenet")
    p.add_argument("--width", type=int, default=64)
    a = p.parse_args()
    # pin every pool before torch loads: Debian's torch does matrix work in OpenBLAS
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    import numpy as np
    import torch
    import torch.nn as nn
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(42)

    images = np.frombuffer(read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"), 16), dtype=np.uint8)
    labels = np.frombuffer(read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"), 8), dtype=np.uint8)
    n = min(a.records, labels.shape[0])
    x = torch.from_numpy(images[: n * 784].reshape(n, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[:n].astype(np.int64))

    def lenet():
        return nn.Sequential(
            nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))

    if a.arch == "lenet":
        net = lenet()
    else:
        # the same module the interop tests check DL4J's ResNet-18 against
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "python"))
        from pytorch_models import ResNet18
        net = ResNet18(width=a.width, channels=1, classes=10)
    # counted as DL4J counts them: parameters and BatchNorm's running statistics
    params = sum(p.numel() for p in net.parameters()) + sum(
        b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    # each function returns (wall seconds, process CPU seconds): on a shared machine the wall clock
    # also counts the time other processes held the core
    def train_epoch():
        net.train()
        c0 = time.process_time()
        t0 = time.perf_counter()
        for i in range(0, n, 64):
            opt.zero_grad()
            loss = loss_fn(net(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            opt.step()
        return time.perf_counter() - t0, time.process_time() - c0

    def inference():
        net.eval()
        c0 = time.process_time()
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(0, n, 500):
                net(x[i:i + 500])
        return time.perf_counter() - t0, time.process_time() - c0

    out = {"torch": torch.__version__, "threads": a.threads, "records": n, "parameters": params, "arch": a.arch,
           "width": a.width if a.arch == "resnet18" else None}
    for name, fn in (("trainingEpoch", train_epoch), ("inference", inference)):
        for _ in range(a.warmup):
            fn()
        runs = [fn() for _ in range(a.repetitions)]
        times = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        med = statistics.median(times)
        out[name] = {"seconds": {"median": med, "min": min(times), "max": max(times), "repetitions": len(times)},
                     "recordsPerSecond": {"median": n / med, "min": n / max(times), "max": n / min(times)},
                     "cpuSeconds": {"median": statistics.median(cpu), "min": min(cpu), "max": max(cpu)}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
