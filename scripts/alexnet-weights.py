#!/usr/bin/env python3
"""Convert the course's bvlc_alexnet.npy into the folder of .npy files that
lib/models/backbones/alexnet.ts reads (no pickle needed on the JavaScript side).

Get the source weights (Caffe's BVLC AlexNet converted for TensorFlow by Guerzhoy and
Frossard, the file myalexnet uses, about 233 MB):

    curl -LO http://www.cs.toronto.edu/~guerzhoy/tf_alexnet/bvlc_alexnet.npy

Then, from the project root (needs only numpy):

    python3 scripts/alexnet-weights.py bvlc_alexnet.npy data/weights/alexnet

bvlc_alexnet.npy is a pickled dict {layer: [weights, biases]}; loading it runs pickle,
so only convert a file from that trusted source.
"""
import os
import sys

import numpy as np

# Shapes for the BVLC architecture: conv kernels height x width x in x out (groups of 2
# in conv2/4/5 halve the input channels), fully-connected weights in x out.
EXPECTED = {
    "conv1": ((11, 11, 3, 96), (96,)),
    "conv2": ((5, 5, 48, 256), (256,)),
    "conv3": ((3, 3, 256, 384), (384,)),
    "conv4": ((3, 3, 192, 384), (384,)),
    "conv5": ((3, 3, 192, 256), (256,)),
    "fc6": ((9216, 4096), (4096,)),
    "fc7": ((4096, 4096), (4096,)),
    "fc8": ((4096, 1000), (1000,)),
}


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    source, out_dir = argv[1], argv[2]
    if not os.path.isfile(source):
        sys.exit(f"{source}: no such file. See the download command in {argv[0]}'s help.")
    net = np.load(source, encoding="latin1", allow_pickle=True).item()
    os.makedirs(out_dir, exist_ok=True)
    for layer, shapes in EXPECTED.items():
        if layer not in net:
            sys.exit(f"{source}: no layer {layer!r} (found {sorted(net)}); is this bvlc_alexnet.npy?")
        for suffix, array, shape in zip(("W", "b"), net[layer], shapes):
            array = np.ascontiguousarray(array, dtype="<f4")
            if array.shape != shape:
                sys.exit(f"{source}: {layer} {suffix} has shape {array.shape}, expected {shape}")
            target = os.path.join(out_dir, f"{layer}_{suffix}.npy")
            tmp = target + ".tmp.npy"
            np.save(tmp, array)
            os.replace(tmp, target)
            print(f"wrote {target} {array.shape}")


if __name__ == "__main__":
    main(sys.argv)
