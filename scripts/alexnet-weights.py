#!/usr/bin/env python3
"""Convert torchvision's pretrained AlexNet state dict into the folder that
lib/models/backbones/alexnet.ts reads (no pickle on the JavaScript side).

Get the source weights (torchvision's AlexNet, the network the report used, 233 MB):

    curl -LO https://download.pytorch.org/models/alexnet-owt-7be5be79.pth

Then, from the project root (needs PyTorch; scripts/install.sh puts it in .venv):

    .venv/bin/python scripts/alexnet-weights.py alexnet-owt-7be5be79.pth data/weights/alexnet-torchvision

Only the convolutional part is kept (features.{0,3,6,8,10}.{weight,bias}), each array
as <key>.npy in PyTorch's layout ([out, in, kh, kw] for kernels) and float32, plus
manifest.json with every array's shape and SHA-256 and the source file's SHA-256.
The state dict is loaded with weights_only=True, so no code in the file is run.
"""
import hashlib
import json
import os
import re
import sys

import numpy as np

FORMAT = "csc411-alexnet-torchvision-1"
# torchvision.models.alexnet().features: (index, out, in, kernel) for each Conv2d.
CONVS = [(0, 64, 3, 11), (3, 192, 64, 5), (6, 384, 192, 3), (8, 256, 384, 3), (10, 256, 256, 3)]


def expected_shapes(convs=CONVS):
    shapes = {}
    for index, out, inp, k in convs:
        shapes[f"features.{index}.weight"] = (out, inp, k, k)
        shapes[f"features.{index}.bias"] = (out,)
    return shapes


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fail(message):
    sys.exit(f"alexnet-weights.py: {message}")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    source, out_dir = argv[1], argv[2]
    if not os.path.isfile(source):
        fail(f"{source}: no such file. Download it first: see the help (run without arguments).")
    try:
        import torch
    except ImportError:
        fail("PyTorch is not installed in this Python; use .venv/bin/python (scripts/install.sh) or pip install torch")
    source_sha = sha256_file(source)
    # torchvision names its files <name>-<first 8 hex digits of the SHA-256>.pth.
    named = re.search(r"-([0-9a-f]{8})\.pth$", os.path.basename(source))
    if named and not source_sha.startswith(named.group(1)):
        fail(f"{source}: SHA-256 starts {source_sha[:8]}, the file name says {named.group(1)}: incomplete download?")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure means the file is not a state dict
        fail(f"{source}: not a PyTorch state dict ({type(e).__name__}: {e})")
    if not isinstance(state, dict):
        fail(f"{source}: holds a {type(state).__name__}, expected a state dict (model.state_dict())")
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"format": FORMAT, "source": os.path.basename(source), "source_sha256": source_sha, "arrays": {}}
    for key, shape in expected_shapes().items():
        if key not in state:
            fail(f"{source}: no {key!r} (found {sorted(state)[:12]}...); is this torchvision's AlexNet?")
        array = np.ascontiguousarray(state[key].detach().cpu().numpy(), dtype="<f4")
        if array.shape != shape:
            fail(f"{source}: {key} has shape {array.shape}, expected {shape}")
        if not np.isfinite(array).all():
            fail(f"{source}: {key} holds NaN or infinite values")
        target = os.path.join(out_dir, f"{key}.npy")
        tmp = target + ".tmp.npy"
        np.save(tmp, array)
        os.replace(tmp, target)
        manifest["arrays"][key] = {"shape": list(shape), "sha256": sha256_file(target)}
        print(f"wrote {target} {shape}")
    tmp = os.path.join(out_dir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(out_dir, "manifest.json"))
    print(f"wrote {os.path.join(out_dir, 'manifest.json')} (source SHA-256 {source_sha[:12]}...)")


if __name__ == "__main__":
    main(sys.argv)
