"""Reference for scripts/bench-faces.ts: the Part 8 network in PyTorch (nn.Linear -> ReLU or
LeakyReLU(0.01) -> nn.Linear, CrossEntropyLoss, torch.optim.Adam, batches from a fresh
permutation each epoch), trained on the same arrays with the same configurations.

  python bench_faces_torch.py one FOLDER HIDDEN BATCH EPOCHS LR ACTIVATION THREADS
      one network on THREADS threads
  python bench_faces_torch.py grid FOLDER32 FOLDER64 CONFIGS.json PROCESSES
      a list of configurations over PROCESSES processes of one thread each, longest first
      (as the grid's workers run them)

Prints one JSON line last: seconds (and per-configuration seconds for grid) and the BLAS in use.
"""
import json
import multiprocessing as mp
import sys
import time

import numpy as np
import torch

from bench_blas_info import torch_blas


def load(folder):
    dim = json.load(open(f"{folder}/meta.json"))["dim"]
    xtr = torch.from_numpy(np.fromfile(f"{folder}/train_x.f32", dtype=np.float32).reshape(-1, dim))
    ytr = torch.from_numpy(np.fromfile(f"{folder}/train_y.u8", dtype=np.uint8).astype(np.int64))
    xva = torch.from_numpy(np.fromfile(f"{folder}/val_x.f32", dtype=np.float32).reshape(-1, dim))
    yva = torch.from_numpy(np.fromfile(f"{folder}/val_y.u8", dtype=np.uint8).astype(np.int64))
    return xtr, ytr, xva, yva


def train(data, hidden, batch, epochs, lr, act, seed=0):
    xtr, ytr, xva, yva = data
    torch.manual_seed(seed)
    dim = xtr.shape[1]
    model = torch.nn.Sequential(
        torch.nn.Linear(dim, hidden),
        torch.nn.ReLU() if act == "relu" else torch.nn.LeakyReLU(0.01),
        torch.nn.Linear(hidden, 6),
    )
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = xtr.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    steps = 0
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s : s + batch]
            opt.zero_grad()
            loss_fn(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
            steps += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    with torch.no_grad():
        val = (model(xva).argmax(1) == yva).float().mean().item()
    # cpu: CPU seconds of all this process's threads (with 2 threads, waiting threads that spin count too).
    return {"seconds": seconds, "cpu": cpu, "steps": steps, "validation": val}


_DATA = {}


def _init(folders):
    torch.set_num_threads(1)
    for size, folder in folders.items():
        _DATA[size] = load(folder)


def _run(c):
    r = train(_DATA[c["size"]], c["hidden"], c["batchSize"], c["epochs"], c["learningRate"], c["activation"])
    return {**r, "config": c}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "one":
        folder, hidden, batch, epochs, lr, act, threads = sys.argv[2:9]
        torch.set_num_threads(int(threads))
        r = train(load(folder), int(hidden), int(batch), int(epochs), float(lr), act)
        print(json.dumps({**r, "threads": int(threads), **torch_blas()}))
    elif mode == "grid":
        f32, f64, configs_file, processes = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        configs = json.load(open(configs_file))
        # Longest first (epochs x pixels x hidden, plus steps), as the grid's own scheduler does.
        configs.sort(key=lambda c: -c["epochs"] * (c["size"] ** 2 * c["hidden"] + 4096 * 20 / c["batchSize"]))
        t0 = time.perf_counter()
        with mp.get_context("fork").Pool(processes, initializer=_init, initargs=({32: f32, 64: f64},)) as pool:
            runs = list(pool.imap_unordered(_run, configs))
        seconds = time.perf_counter() - t0
        torch.set_num_threads(1)
        print(json.dumps({"seconds": seconds, "runs": runs, "processes": processes, **torch_blas()}))
    else:
        sys.exit(f"bench_faces_torch.py: unknown mode {mode!r} (one or grid)")
