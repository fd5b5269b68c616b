"""numpy reference for scripts/bench-softmax.ts: the Part 4/5 training step (minibatch of
1000 from the 60000 x 784 MNIST training set, softmax, hand-written gradient, momentum
update, norm of the step) in float32, as the report's numpy code does it.

Reads the training images and one-hot labels from raw float32 files written by the
TypeScript benchmark (argv: images.f32 labels.f32 count iterations seed) so both sides
train on the same bytes; prints one JSON line with ms per iteration and the BLAS in use.
Runs under the project venv's numpy 2.4.6 (the reference) or Debian's numpy (reference BLAS).
"""
import json
import sys
import time

import numpy as np

from bench_blas_info import numpy_blas

images_file, labels_file, count, iterations, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
x = np.fromfile(images_file, dtype=np.float32).reshape(count, 784)
y = np.fromfile(labels_file, dtype=np.float32).reshape(count, 10)
rng = np.random.default_rng(seed)
W = (rng.standard_normal((10, 784)) * np.sqrt(2 / 794)).astype(np.float32)
b = np.zeros(10, np.float32)
vW = np.zeros_like(W)
vb = np.zeros_like(b)
batch, rate, momentum = 1000, np.float32(1e-5), np.float32(0.9)


def step(idx):
    global W, b, vW, vb
    xb, yb = x[idx], y[idx]
    z = xb @ W.T + b
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    d = p - yb
    vW = momentum * vW - rate * (d.T @ xb)
    vb = momentum * vb - rate * d.sum(0)
    W = W + vW
    b = b + vb
    return np.linalg.norm(vW)


perm = rng.permutation(count)
per_epoch = count // batch
for i in range(20):
    step(perm[(i % per_epoch) * batch:(i % per_epoch + 1) * batch])
t0 = time.perf_counter()
for i in range(iterations):
    if i % per_epoch == 0:
        perm = rng.permutation(count)
    step(perm[(i % per_epoch) * batch:(i % per_epoch + 1) * batch])
ms = (time.perf_counter() - t0) / iterations * 1e3
print(json.dumps({"ms": ms, **numpy_blas()}))
