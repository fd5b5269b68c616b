"""Reference for scripts/bench-mobilenet.ts: MobileNetV2 feature extraction in PyTorch.

MobileNetV2 (Sandler et al. 2018) as Keras and torchvision build it, width 1.0, 224x224x3
input: a 3x3 stride-2 stem convolution to 32 channels, the 17 inverted-residual blocks
(expansion 1 for the first, 6 for the others; 1x1 expand, 3x3 depthwise, 1x1 linear
project, a residual add where stride is 1 and the channels match), then the 1x1
convolution to 1280 channels; every convolution without bias, followed by BatchNorm
(eps 1e-3, as Keras) and, except the projections, ReLU6. Written by hand in plain torch.nn
because torchvision does not install offline here (its wheels pull in CUDA torch).

Blocks are numbered as Keras names them (block 0 is Keras's `expanded_conv`), so the tap
`block_N_add` is the output of block N's residual add and `out_relu` the output of the last
1x1 convolution's ReLU6. The network runs only up to the deepest tap asked for, and returns
every tap of one forward pass, as the project's extraction does.

The weights are random (seeded; convolutions He-normal over fan-out as torchvision
initialises them, BatchNorm with random running statistics near mean 0 and variance 1):
the time of a forward pass does not depend on the weights' values. The mean |value| of each
tap is reported, to show activations stay in the normal float range (subnormal values would
slow any CPU down and make the comparison unfair).

Stride-2 convolutions pad one pixel on each side (torchvision's choice); Keras pads
(0, 1) and (0, 1) before a valid convolution. The outputs have the same shapes and cost.

BatchNorm is kept as separate layers by default, as nsfwjs's mobilenet_v2 model.json has
them (52 BatchNormalization layers); --fold-bn folds each one into the convolution before
it, as a deployment would, and as the project's side now runs (lib/models/backbones/fold.ts,
which also fuses ReLU6 into the convolution; torch eager keeps it a separate in-place op).
bench-mobilenet.ts times both variants in every round and compares against the faster.

Each batch is fed as the project gets its images: float32 HWC crops of CROP x CROP in
[0, 1], resized bilinearly (align corners) to 224 x 224 inside the timed region.

  python bench_mobilenet_torch.py TAPS BATCH IMAGES THREADS [--fold-bn]
      TAPS a comma-separated list such as block_9_add or block_5_add,...,out_relu

Prints one JSON line last: images per second over IMAGES images in batches of BATCH (after
one warm-up batch), the convolutions' multiply-adds per image up to the deepest tap, and the
BLAS in use.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench_blas_info import torch_blas

INPUT = 224
CROP = 227
# (expansion t, output channels c, repeats n, first stride s): Sandler et al., Table 2.
STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def conv_bn(cin, cout, kernel, stride=1, groups=1, relu6=True):
    layers = [
        nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3),
    ]
    if relu6:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = [conv_bn(cin, hidden, 1)] if expansion != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, relu6=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2Features(nn.Module):
    """The convolutional part of MobileNetV2, run up to the deepest requested tap."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 32, 3, 2)
        blocks, cin = [], 32
        for t, c, n, s in STAGES:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.head = conv_bn(cin, 1280, 1)

    def tap_index(self, name):
        """Position of a tap in run order: block N is N + 1 (after the stem), out_relu last."""
        if name == "out_relu":
            return len(self.blocks) + 1
        parts = name.split("_")
        if len(parts) == 3 and parts[0] == "block" and parts[2] == "add" and parts[1].isdigit():
            n = int(parts[1])
            if n < len(self.blocks) and self.blocks[n].residual:
                return n + 1
        adds = [f"block_{n}_add" for n, b in enumerate(self.blocks) if b.residual]
        raise SystemExit(f"bench_mobilenet_torch.py: no tap {name!r}; taps: {', '.join(adds)}, out_relu")

    def forward(self, x, taps):
        wanted = {self.tap_index(t): t for t in taps}
        last = max(wanted)
        out = {}
        x = self.stem(x)
        for n, block in enumerate(self.blocks):
            if n + 1 > last:
                break
            x = block(x)
            if n + 1 in wanted:
                out[wanted[n + 1]] = x
        if last == len(self.blocks) + 1:
            out["out_relu"] = self.head(x)
        return [out[t] for t in taps]


def randomise(model, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.8, 1.2)
            m.bias.data.uniform_(-0.1, 0.1)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)


def fold_bn(seq):
    """Conv2d + BatchNorm2d (eval) -> one Conv2d with bias, same outputs to float rounding."""
    conv, bn = seq[0], seq[1]
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, groups=conv.groups, bias=True)
    fused.weight.data = conv.weight.data * scale.reshape(-1, 1, 1, 1)
    fused.bias.data = bn.bias - bn.running_mean * scale
    return nn.Sequential(fused, *list(seq)[2:])


def fold_all(module):
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential) and len(child) >= 2 and isinstance(child[1], nn.BatchNorm2d):
            setattr(module, name, fold_bn(child))
        else:
            fold_all(child)


def conv_macs(model, taps):
    """Multiply-adds of the convolutions run for one image (hooks record each output's size)."""
    total = [0]

    def hook(m, _inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        model(torch.zeros(1, 3, INPUT, INPUT), taps)
    for h in handles:
        h.remove()
    return total[0]


def main():
    taps = sys.argv[1].split(",")
    batch, images, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    fold = "--fold-bn" in sys.argv[5:]
    torch.set_num_threads(threads)
    model = MobileNetV2Features()
    randomise(model, 0)
    model.eval()
    for t in taps:
        model.tap_index(t)
    if fold:
        with torch.no_grad():
            fold_all(model)
    macs = conv_macs(model, taps)
    rng = np.random.default_rng(411)
    crops = rng.random((images, CROP, CROP, 3), dtype=np.float32)

    def run(part):
        x = torch.from_numpy(part).permute(0, 3, 1, 2)
        x = F.interpolate(x, size=(INPUT, INPUT), mode="bilinear", align_corners=True)
        return model(x, taps)

    with torch.inference_mode():
        outs = run(crops[:batch])  # warm-up: oneDNN primitives, allocator
        magnitude = {t: float(o.abs().mean()) for t, o in zip(taps, outs)}
        t0, c0 = time.perf_counter(), time.process_time()
        for s in range(0, images, batch):
            run(crops[s : s + batch])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "imagesPerSecond": images / seconds,
                "seconds": seconds,
                "cpu": cpu,
                "images": images,
                "batch": batch,
                "threads": threads,
                "foldBn": fold,
                "taps": taps,
                "macsPerImage": macs,
                "meanAbs": magnitude,
                **torch_blas(),
            }
        )
    )


if __name__ == "__main__":
    main()
