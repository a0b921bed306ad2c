#!/usr/bin/python3
"""B1 peer: the pipeline's LeNet-5 trained in plain PyTorch, the same work as Training.run.

Same network as pipeline-contract's LeNet5.java (62,698 parameters), same data (the IDX files / 255, the first
48,000 training images; Keras validation_split=0.2 makes the last 12,000 dev), same batch (128), Adam 1e-3 with the
trainer's cosine schedule (to 1% over the run), the trainer's default augmentation (a random shift of up to 2 px per
image and epoch; --rotation/--zoom add the trainer's optional rotation and zoom, sampled as Augmentation.java does),
loss and accuracy summed as tensors and read once per epoch (as Training.trainEpoch), and the same threads (2
intra-op, 1 inter-op). Epoch seconds cover the
training loop only, as the trainer's EPOCH events do; dev is evaluated after each epoch outside the timing.

Run with Debian's interpreter (python3-torch): /usr/bin/python3 bench/lenet_pytorch.py --data data/mnist --epochs 2
Prints one JSON line: {"epochSeconds": [...], "imagesPerSecond": [...], "devAccuracy": [...], "peakRssMb": ...}.
"""
import argparse
import json
import math
import resource
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def lenet5():
    # PyTorch's BatchNorm momentum is 1 - Keras momentum: 0.01 here is the tutorial's (and DJL's) 0.99.
    def bn2(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    def bn1(c):
        return nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), bn2(6), nn.ReLU(), nn.AvgPool2d(2, 2), bn2(6),
        nn.Conv2d(6, 16, 5), bn2(16), nn.ReLU(), nn.AvgPool2d(2, 2), bn2(16),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), bn1(120),
        nn.Linear(120, 84), nn.ReLU(), bn1(84),
        nn.Linear(84, 10))


def shifted(batch, shift, gen):
    """Each image moved by its own (dx, dy) in [-shift, shift], zeros filling in (Augmentation's whole-pixel shift)."""
    if shift == 0:
        return batch
    n = batch.shape[0]
    padded = nn.functional.pad(batch, (shift, shift, shift, shift))
    dx = torch.randint(-shift, shift + 1, (n,), generator=gen)
    dy = torch.randint(-shift, shift + 1, (n,), generator=gen)
    out = torch.empty_like(batch)
    for sy in range(-shift, shift + 1):
        for sx in range(-shift, shift + 1):
            idx = ((dx == sx) & (dy == sy)).nonzero(as_tuple=True)[0]
            if idx.numel():
                out[idx] = padded[idx, :, shift - sy:shift - sy + 28, shift - sx:shift - sx + 28]
    return out


def augmented(batch, shift, rotation_degrees, zoom, gen):
    """Each image shifted, rotated and zoomed by its own draw, bilinear, zeros outside (Augmentation.java).

    Augmentation.apply maps each output pixel back to the source around the centre (13.5, 13.5):
    source = R(angle) / scale . (out - centre - (dx, dy)) + centre. With align_corners=True, affine_grid's
    normalized coordinates are pixel centres divided by 13.5, so the same map is theta = [A | -A.d] with
    A = [[cos, sin], [-sin, cos]] / scale and d = (dx, dy) / 13.5.
    """
    if rotation_degrees == 0 and zoom == 0:
        return shifted(batch, shift, gen)
    n = batch.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotation_degrees)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * zoom
    dx = torch.randint(-shift, shift + 1, (n,), generator=gen).float() / 13.5
    dy = torch.randint(-shift, shift + 1, (n,), generator=gen).float() / 13.5
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, sin, -(cos * dx + sin * dy)], 1),
                         torch.stack([-sin, cos, -(-sin * dx + cos * dy)], 1)], 1)
    grid = nn.functional.affine_grid(theta, list(batch.shape), align_corners=True)
    return nn.functional.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def calibrate_batch_norms(model, images, args, gen):
    """BatchNormCalibration: every BatchNorm's running statistics set to those of a sample of training images.

    One batch in training mode with momentum 1 normalizes each layer by the sample's own statistics and stores them,
    which is what the trainer computes layer by layer (PyTorch keeps the unbiased variance: the same to 1/n)."""
    idx = torch.randperm(len(images), generator=gen)[:args.batch_norm_images]
    sample = augmented(images[idx], args.shift, args.rotation, args.zoom, gen)
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(sample)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--shift", type=int, default=2)
    ap.add_argument("--rotation", type=float, default=0.0)
    ap.add_argument("--zoom", type=float, default=0.0)
    # The trainer's recipe (Recipe.java), passed by bench/run from the trainer's own defaults.
    ap.add_argument("--optimizer", default="adam", choices=["adam", "adamw"])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup-epochs", type=float, default=0.0)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--ema-decay", type=float, default=0.0)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--batch-norm-images", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.perf_counter()
    images = read_idx(f"{args.data}/train-images-idx3-ubyte").astype(np.float32) / 255.0
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte").astype(np.int64)
    n_dev = round(len(labels) * 0.2)
    n_train = len(labels) - n_dev
    x = torch.from_numpy(images.reshape(-1, 1, 28, 28))
    y = torch.from_numpy(labels)
    x_train, y_train, x_dev, y_dev = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    load_seconds = time.perf_counter() - t0

    model = lenet5()
    params = sum(p.numel() for p in model.parameters()) + sum(b.numel() for n, b in model.named_buffers()
                                                               if not n.endswith("num_batches_tracked"))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    base_lr, final_lr = args.lr, args.lr * 0.01
    opt = torch.optim.AdamW if args.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt(model.parameters(), lr=base_lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(n_train / args.batch)
    total_updates = steps_per_epoch * args.epochs
    warmup = min(total_updates - 1, round(args.warmup_epochs * steps_per_epoch))
    max_updates = max(1, total_updates - warmup)
    update = 0
    # Training.WeightAverage: every parameter and BatchNorm statistic, d = min(decay, (1 + t) / (10 + t)).
    state = [t for t in model.state_dict().values() if t.is_floating_point()]
    ema = [t.detach().clone() for t in state] if args.ema_decay > 0 else None

    result = {"framework": "pytorch " + torch.__version__, "parameters": params, "threads": torch.get_num_threads(),
              "loadSeconds": load_seconds, "epochSeconds": [], "imagesPerSecond": [], "loss": [], "accuracy": [],
              "devAccuracy": []}
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n_train, generator=gen)
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
        for s in range(0, n_train, args.batch):
            idx = order[s:s + args.batch]
            xb = augmented(x_train[idx], args.shift, args.rotation, args.zoom, gen)
            yb = y_train[idx]
            # Training.schedule: a linear warm-up, then DJL's CosineTracker from the base rate to the final one.
            if update < warmup:
                lr = base_lr * (update + 1) / (warmup + 1)
            else:
                u = min(update - warmup, max_updates)
                lr = final_lr + (base_lr - final_lr) / 2 * (1 + math.cos(math.pi * u / max_updates))
            for g in optimizer.param_groups:
                g["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            update += 1
            if ema is not None:
                with torch.no_grad():
                    d = min(args.ema_decay, (1 + update) / (10 + update))
                    torch._foreach_mul_(ema, d)
                    torch._foreach_add_(ema, state, alpha=1 - d)
            with torch.no_grad():
                loss_sum += loss * len(idx)
                correct += (logits.argmax(1) == yb).sum()
        seconds = time.perf_counter() - start
        if args.batch_norm_images > 0:
            calibrate_batch_norms(model, x_train, args, gen)
        model.eval()
        with torch.no_grad():
            dev_correct = sum((model(x_dev[i:i + 1000]).argmax(1) == y_dev[i:i + 1000]).sum().item()
                              for i in range(0, n_dev, 1000))
        result["epochSeconds"].append(seconds)
        result["imagesPerSecond"].append(n_train / seconds)
        result["loss"].append(loss_sum.item() / n_train)
        result["accuracy"].append(correct.item() / n_train)
        result["devAccuracy"].append(dev_correct / n_dev)
    result["peakRssMb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
