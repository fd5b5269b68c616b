"""Reference for scripts/bench-faces.ts: the Part 8 network in PyTorch (Debian's python3-torch),
trained on the same arrays with the same configuration; prints one JSON line with the seconds.
Usage: /usr/bin/python3 bench_faces_torch.py DATA.npz-like-folder HIDDEN BATCH EPOCHS LR ACTIVATION THREADS"""
import json, sys, time
import numpy as np
import torch

folder, hidden, batch, epochs, lr, act, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6], int(sys.argv[7])
torch.set_num_threads(threads)
torch.manual_seed(0)
meta = json.load(open(f"{folder}/meta.json"))
dim = meta["dim"]
xtr = torch.from_numpy(np.fromfile(f"{folder}/train_x.f32", dtype=np.float32).reshape(-1, dim))
ytr = torch.from_numpy(np.fromfile(f"{folder}/train_y.u8", dtype=np.uint8).astype(np.int64))
xva = torch.from_numpy(np.fromfile(f"{folder}/val_x.f32", dtype=np.float32).reshape(-1, dim))
yva = torch.from_numpy(np.fromfile(f"{folder}/val_y.u8", dtype=np.uint8).astype(np.int64))

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
t0 = time.perf_counter()
steps = 0
for epoch in range(epochs):
    perm = torch.randperm(n)
    for s in range(0, n, batch):
        idx = perm[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        steps += 1
seconds = time.perf_counter() - t0
with torch.no_grad():
    val = (model(xva).argmax(1) == yva).float().mean().item()
print(json.dumps({"seconds": seconds, "steps": steps, "validation": val, "threads": threads, "torch": torch.__version__}))
