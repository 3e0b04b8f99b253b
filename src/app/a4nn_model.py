"""A network found by a4nn, rebuilt in PyTorch from an a4nn model file.

Written by `a4nn export DIR --model ID --format pytorch`; needs only torch,
numpy and h5py. The model file (HDF5, format "a4nn-model") holds the decoded
network as a list of operations over numbered tensors (tensor 0 is the input)
and the trained weights as two flat float32 arrays laid out in operation
order: `params` (convolution weight [out, in, k, k] then its bias if any;
BatchNorm weight then bias; linear weight [out, in] then bias) and `buffers`
(BatchNorm running mean then running variance).

    import a4nn_model
    net = a4nn_model.load("model-000003.h5")          # eval mode
    x, labels = a4nn_model.load_images("xfel-1e16.h5", "test")
    probs = net(x).softmax(1)

or from a shell: python3 a4nn_model.py MODEL.h5 DATA.h5 [--split test] [--csv FILE]
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# a4nn_op_kind, in this order
CONV, BN, RELU, CONCAT, MAXPOOL, GAP, LINEAR = range(7)


class A4NNNet(nn.Module):
    def __init__(self, ops, tensors, output, bn_eps):
        super().__init__()
        self.ops = [tuple(int(v) for v in op) for op in ops]
        self.output = int(output)
        layers = []
        for kind, n_in, out, kernel, pad, bias, *ins in self.ops:
            cin, hin, win = (int(v) for v in tensors[ins[0]])
            cout = int(tensors[out][0])
            if kind == CONV:
                layers.append(nn.Conv2d(cin, cout, kernel, padding=pad, bias=bool(bias)))
            elif kind == BN:
                layers.append(nn.BatchNorm2d(cin, eps=bn_eps, momentum=0.1))
            elif kind == LINEAR:
                layers.append(nn.Linear(cin * hin * win, cout))
            else:
                layers.append(nn.Identity())
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        v = {0: x}
        for (kind, n_in, out, kernel, pad, bias, *ins), layer in zip(self.ops, self.layers):
            a = v[ins[0]]
            if kind in (CONV, BN):
                v[out] = layer(a)
            elif kind == RELU:
                v[out] = F.relu(a)
            elif kind == CONCAT:
                v[out] = torch.cat([v[i] for i in ins[:n_in]], 1)
            elif kind == MAXPOOL:
                v[out] = F.max_pool2d(a, 2, 2)
            elif kind == GAP:
                v[out] = a.mean((2, 3), keepdim=True)
            elif kind == LINEAR:
                v[out] = layer(a.flatten(1))
        return v[self.output]

    def load_flat(self, params, buffers):
        """Copies the flat a4nn parameter and BatchNorm buffer arrays in."""
        p = b = 0
        with torch.no_grad():
            for layer in self.layers:
                if isinstance(layer, nn.BatchNorm2d):
                    c = layer.num_features
                    layer.weight.copy_(torch.from_numpy(params[p:p + c])); p += c
                    layer.bias.copy_(torch.from_numpy(params[p:p + c])); p += c
                    layer.running_mean.copy_(torch.from_numpy(buffers[b:b + c])); b += c
                    layer.running_var.copy_(torch.from_numpy(buffers[b:b + c])); b += c
                elif isinstance(layer, (nn.Conv2d, nn.Linear)):
                    n = layer.weight.numel()
                    layer.weight.copy_(torch.from_numpy(params[p:p + n]).view_as(layer.weight)); p += n
                    if layer.bias is not None:
                        n = layer.bias.numel()
                        layer.bias.copy_(torch.from_numpy(params[p:p + n])); p += n
        if p != len(params) or b != len(buffers):
            raise ValueError("weights do not fit the network: %d/%d parameters, %d/%d buffers"
                             % (p, len(params), b, len(buffers)))


def load(path):
    """The network of an a4nn model file with its weights, in eval mode."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in ("a4nn-model", b"a4nn-model"):
            raise ValueError("%s is not an a4nn model file" % path)
        net = A4NNNet(f["ops"][()], f["tensors"][()], f.attrs["output"], float(f.attrs["bn_eps"]))
        net.load_flat(np.asarray(f["params"][()], np.float32), np.asarray(f["buffers"][()], np.float32))
        net.genome = f.attrs["genome"]
    return net.eval()


def load_images(path, split="test", start=0, count=None):
    """Images of an a4nn XFEL dataset normalised as a4nn trains on them,
    (log1p(counts) - norm_mean) / norm_std, and their labels."""
    with h5py.File(path, "r") as f:
        end = None if count is None else start + count
        x = np.asarray(f[split + "/images"][start:end], np.float32)
        y = np.asarray(f[split + "/labels"][start:end], np.int64)
        mean, std = float(np.ravel(f.attrs["norm_mean"])[0]), float(np.ravel(f.attrs["norm_std"])[0])
    x = ((np.log1p(x) - np.float32(mean)) / np.float32(std)).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--split", default="test")
    ap.add_argument("--csv", help="per-image logits and class probabilities")
    a = ap.parse_args(argv)
    net = load(a.model)
    x, y = load_images(a.data, a.split)
    with torch.no_grad():
        logits = torch.cat([net(x[i:i + 256]) for i in range(0, len(x), 256)])
    probs = logits.softmax(1)
    pred = probs.argmax(1)
    print("accuracy %.2f %% on %d images (%s)" % (100.0 * (pred == y).float().mean().item(), len(y), a.split))
    if a.csv:
        k = logits.shape[1]
        with open(a.csv, "w") as out:
            out.write("image,label,predicted," + ",".join("logit_%d" % j for j in range(k)) + ","
                      + ",".join("prob_%d" % j for j in range(k)) + "\n")
            for i in range(len(y)):
                out.write("%d,%d,%d,%s,%s\n" % (i, y[i], pred[i], ",".join("%.9g" % v for v in logits[i].tolist()),
                                                ",".join("%.9g" % v for v in probs[i].tolist())))


if __name__ == "__main__":
    main(sys.argv[1:])
