"""PyTorch peer of bench_train: the same decoded NSGA-Net macro network
(DESIGN.md decoding), trained with SGD on the same batch size and thread
count. Prints one line of key=value pairs like bench_train."""
import argparse
import json
import time

import torch
import torch.nn as nn


def phase_nodes(bits):
    """Nodes of a phase from its bit count: n(n-1)/2 connection bits + 1."""
    n = 2
    while n * (n - 1) // 2 + 1 < len(bits):
        n += 1
    if n * (n - 1) // 2 + 1 != len(bits):
        raise SystemExit(f"torch_train: a phase of {len(bits)} bits fits no node count")
    return n


def phase_graph(bits, n_nodes):
    """NSGA-Net ResidualPhase dependency graph of one phase's bit list."""
    graph = {1: []}
    k = 0
    for node in range(2, n_nodes + 1):
        graph[node] = [j for j in range(1, node) if bits[k + j - 1]]
        k += node - 1
    out = n_nodes + 1
    graph[out] = [0] if bits[-1] else []
    no_in = [i for i in range(1, n_nodes + 1) if not graph[i]]
    no_out = [i for i in range(1, n_nodes + 1)
              if all(i not in graph[j] for j in range(i + 1, n_nodes + 1))]
    graph[out] += [i for i in no_out if i not in no_in]
    for i in no_in:
        if i not in no_out:
            graph[i].append(0)
    return graph


class Phase(nn.Module):
    def __init__(self, bits, c_in, c_out, first):
        super().__init__()
        self.n_nodes = phase_nodes(bits)
        self.graph = phase_graph(bits, self.n_nodes)
        self.first = (nn.Conv2d(c_in, c_out, 3 if first else 1, bias=False)
                      if c_in != c_out else None)
        self.nodes = nn.ModuleDict()
        self.reduce = nn.ModuleDict()
        for v, deps in self.graph.items():
            if len(deps) > 1:
                self.reduce[str(v)] = nn.Conv2d(len(deps) * c_out, c_out, 1, bias=False)
            if v <= self.n_nodes and deps:
                self.nodes[str(v)] = nn.Sequential(
                    nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out), nn.ReLU())
        self.out = nn.Sequential(nn.BatchNorm2d(c_out), nn.ReLU())

    def gather(self, v, outs):
        deps = self.graph[v]
        if len(deps) == 1:
            return outs[deps[0]]
        return self.reduce[str(v)](torch.cat([outs[d] for d in deps], 1))

    def forward(self, x):
        if self.first is not None:
            x = self.first(x)
        outs = {0: x}
        for v in range(1, self.n_nodes + 1):
            if self.graph[v]:
                outs[v] = self.nodes[str(v)](self.gather(v, outs))
        return self.out(self.gather(self.n_nodes + 1, outs))


class Net(nn.Module):
    def __init__(self, genome, c):
        super().__init__()
        layers, ch, active = [], 1, 0
        for bits in genome:
            if not any(bits[:-1]):
                continue
            if active:
                layers.append(nn.MaxPool2d(2, 2))
            layers.append(Phase(bits, ch, c << active, active == 0))
            ch, active = c << active, active + 1
        self.body = nn.Sequential(*layers)
        self.linear = nn.Linear(ch, 2)

    def forward(self, x):
        x = self.body(x)
        return self.linear(x.mean((2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--genome", required=True)
    p.add_argument("--size", default="127x127")
    p.add_argument("--init-channels", type=int, default=24)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    h, w = (int(v) for v in a.size.split("x"))
    net = Net(json.loads(a.genome), a.init_channels)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(a.batch, 1, h, w)
    y = torch.arange(a.batch) % 2
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5)
        opt.step()

    step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    # what was built, for b_train.sh to check against a4nn's network
    convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    # cpu_images_per_s: per second of this process's CPU time, which on a
    # shared machine depends far less on the other load than wall time
    print(f"images_per_s={a.steps * a.batch / sec:.2f} step_s={sec / a.steps:.4f} "
          f"cpu_images_per_s={a.steps * a.batch / cpu:.2f} "
          f"params={sum(q.numel() for q in net.parameters())} convs={convs} "
          f"threads={a.threads} torch={torch.__version__}")


if __name__ == "__main__":
    main()
