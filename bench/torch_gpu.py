"""PyTorch eager peer of bench_cuda on the same GPU: the same decoded network
(the Net of bench/torch_train.py), batches gathered on the GPU from a
GPU-resident synthetic pool, SGD with momentum, weight decay and gradient
clipping, loss read back every step. --tf32 0 is exact fp32 (TF32 off in
cuDNN and cuBLAS), --tf32 1 allows TF32. cudnn.benchmark is on.
Prints one line of key=value pairs like bench_cuda."""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import Net  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--genome", required=True)
    p.add_argument("--size", default="127x127")
    p.add_argument("--init-channels", type=int, default=24)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--pool", type=int, default=2048)
    p.add_argument("--tf32", type=int, default=0)
    p.add_argument("--epoch-images", type=int, default=63508)
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("SKIPPED: no CUDA GPU visible to PyTorch")
        return
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.manual_seed(1)
    h, w = (int(v) for v in a.size.split("x"))
    net = Net(json.loads(a.genome), a.init_channels).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4)
    images = torch.randn(a.pool, 1, h, w, device=dev)
    labels = torch.randint(0, 2, (a.pool,), device=dev)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        idx = torch.randint(0, a.pool, (a.batch,), device=dev)
        x, y = images[idx], labels[idx]
        opt.zero_grad(set_to_none=True)
        out = net(x)
        loss = loss_fn(out, y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5)
        opt.step()
        return loss.item(), (out.argmax(1) == y).sum().item()

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss, _ = step()
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    ips = a.steps * a.batch / sec
    print(f"images_per_s={ips:.1f} step_s={sec / a.steps:.5f} "
          f"epoch_s={a.epoch_images / ips:.2f} batch={a.batch} tf32={a.tf32} "
          f"loss={loss:.4f} torch={torch.__version__}")


if __name__ == "__main__":
    main()
