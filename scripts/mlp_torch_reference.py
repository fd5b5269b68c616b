"""PyTorch reference for lib/models/mlp/kernel/mlp-kernel.spec.ts: the Part 8 network
(nn.Linear -> ReLU or LeakyReLU(0.01) -> nn.Linear, CrossEntropyLoss, torch.optim.Adam with
its defaults but the learning rate) trained from given initial weights on given batches, in
float32. Reads one JSON object on stdin (dim, hidden, outputs, activation, lr, x, labels,
W1 (dim x hidden, row-major), b1, W2 (hidden x outputs), b2, batches: lists of row numbers);
prints the final weights in the same layout as one JSON line."""
import json
import sys

import torch

p = json.load(sys.stdin)
d, h, k = p["dim"], p["hidden"], p["outputs"]
x = torch.tensor(p["x"], dtype=torch.float32).reshape(-1, d)
y = torch.tensor(p["labels"], dtype=torch.int64)
l1, l2 = torch.nn.Linear(d, h), torch.nn.Linear(h, k)
with torch.no_grad():
    l1.weight.copy_(torch.tensor(p["W1"], dtype=torch.float32).reshape(d, h).T)
    l1.bias.copy_(torch.tensor(p["b1"], dtype=torch.float32))
    l2.weight.copy_(torch.tensor(p["W2"], dtype=torch.float32).reshape(h, k).T)
    l2.bias.copy_(torch.tensor(p["b2"], dtype=torch.float32))
act = torch.nn.ReLU() if p["activation"] == "relu" else torch.nn.LeakyReLU(0.01)
model = torch.nn.Sequential(l1, act, l2)
opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
loss_fn = torch.nn.CrossEntropyLoss()
for batch in p["batches"]:
    idx = torch.tensor(batch, dtype=torch.int64)
    opt.zero_grad()
    loss_fn(model(x[idx]), y[idx]).backward()
    opt.step()
flat = lambda t: t.detach().reshape(-1).tolist()
print(json.dumps({"W1": flat(l1.weight.T), "b1": flat(l1.bias), "W2": flat(l2.weight.T), "b2": flat(l2.bias), "torch": torch.__version__}))
