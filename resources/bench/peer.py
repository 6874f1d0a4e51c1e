"""Python torch 1.13 peer for `featurescope-cli bench --peer`: the same architectures (timm-style
definitions written here for torch alone: ConvMLP-S, Mixer-B/16; from torchvision ResNet-18/50,
vit_b_16 for vit_base, swin_t for swin_tiny and convnext_tiny),
random weights, eval mode, batch 1 at 224, median of N forward passes; forward+backward (every
weight frozen, d top logit / d input); and with --methods the saliency methods computed as
FeatureScope computes them (same taps, steps, windows, batch sizes), one timed run each after a
warm-up, written plainly in torch as a researcher would (Grad-CAM as pytorch-grad-cam runs it:
trainable weights and a full backward; the others with frozen weights and torch.autograd.grad).
usage: peer.py THREADS REPEAT [--models a,b] [--methods m,n] [--batches JSON] -> JSON
  {"model": {"forward_ms", "forward_backward_ms", "threads", "methods": {"name": ms}}}
--batches: {"model": {"method": batch size}} (what FeatureScope used); default 16.
peer.py THREADS REPEAT --models a,b --serve: builds the models, prints "ready", then answers each
  request line "MODEL ITEM [BATCH]" (ITEM forward, forward_backward or a method) with its time in ms
  (forward and forward_backward: the median of REPEAT after a warm-up; a method: one run).
  `featurescope-cli bench --peer` uses this to alternate its own runs with the peer's."""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision


class Mlp(nn.Module):
    def __init__(self, d, h, o=None):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(d, h), nn.GELU(), nn.Linear(h, o or d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class MixerBlock(nn.Module):
    def __init__(self, dim, seq):
        super().__init__()
        self.norm1, self.mlp_tokens = nn.LayerNorm(dim, eps=1e-6), Mlp(seq, dim // 2, seq)
        self.norm2, self.mlp_channels = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, dim * 4)

    def forward(self, x):
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


class Mixer(nn.Module):
    def __init__(self, patch=16, dim=768, depth=12):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.blocks = nn.Sequential(*[MixerBlock(dim, (224 // patch) ** 2) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 1000)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        return self.head(self.norm(self.blocks(x)).mean(1))


def conv_bn_relu(i, o, k, s=1):
    return [nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU()]


class ConvMLPStage(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.norm1, self.channel_mlp1 = nn.LayerNorm(d), Mlp(d, h)
        self.norm2, self.channel_mlp2 = nn.LayerNorm(d), Mlp(d, h)
        self.connect = nn.Conv2d(d, d, 3, 1, 1, groups=d, bias=False)
        self.connect_norm = nn.LayerNorm(d)

    def forward(self, x):
        x = x + self.channel_mlp1(self.norm1(x))
        x = self.connect(self.connect_norm(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return x + self.channel_mlp2(self.norm2(x))


class ConvMLP(nn.Module):
    def __init__(self, blocks=(2, 4, 2), dims=(128, 256, 512), ratio=2, c=64, n_conv=2):
        super().__init__()
        self.tokenizer = nn.Sequential(*conv_bn_relu(3, c // 2, 3, 2), *conv_bn_relu(c // 2, c // 2, 3),
                                       *conv_bn_relu(c // 2, c, 3), nn.MaxPool2d(3, 2, 1))
        self.conv_blocks = nn.ModuleList([nn.Sequential(*conv_bn_relu(c, dims[0], 1), *conv_bn_relu(dims[0], dims[0], 3),
                                                        *conv_bn_relu(dims[0], c, 1)) for _ in range(n_conv)])
        self.down = nn.Conv2d(c, dims[0], 3, 2, 1)
        self.stages = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i, b in enumerate(blocks):
            self.stages.append(nn.Sequential(*[ConvMLPStage(dims[i], dims[i] * ratio) for _ in range(b)]))
            self.downs.append(nn.Conv2d(dims[i], dims[i + 1], 3, 2, 1) if i + 1 < len(blocks) else nn.Identity())
        self.norm, self.head = nn.LayerNorm(dims[-1]), nn.Linear(dims[-1], 1000)

    def forward(self, x):
        x = self.tokenizer(x)
        for blk in self.conv_blocks:
            x = x + blk(x)
        x = self.down(x).permute(0, 2, 3, 1)
        for stage, down in zip(self.stages, self.downs):
            x = stage(x)
            if not isinstance(down, nn.Identity):
                x = down(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return self.head(self.norm(x.flatten(1, 2)).mean(1))


# The tap each CAM method uses by default in FeatureScope (the last stage), as a module whose
# output is that stream, and how to make it NCHW.
def cam_tap(name, model):
    if name == "convmlp_s":
        return model.stages[2], lambda a: a.permute(0, 3, 1, 2)
    if name == "mixer_b16":
        return model.blocks[11], lambda a: a.transpose(1, 2).reshape(a.shape[0], a.shape[2], 14, 14)
    if name == "vit_base":  # the input of the last block's attention, class token dropped
        return model.encoder.layers[-1].ln_1, lambda a: a[:, 1:].transpose(1, 2).reshape(a.shape[0], a.shape[2], 14, 14)
    if name == "swin_tiny":  # the final norm, channels-last
        return model.norm, lambda a: a.permute(0, 3, 1, 2)
    if name == "convnext_tiny":  # the last stage
        return model.features[-1], lambda a: a
    return model.layer4, lambda a: a


class Tap:
    def __init__(self, module, to_nchw):
        self.value, self.to_nchw = None, to_nchw
        module.register_forward_hook(self.keep)

    def keep(self, _m, _i, out):
        self.value = out


def gradcam(model, tap, x, _b):
    # pytorch-grad-cam's BaseCAM, as researchers run it: trainable weights, a hook keeps the
    # activations' gradient, loss.backward() through the whole network.
    for p in model.parameters():
        p.requires_grad_(True)
    try:
        logits = model(x)
        t = int(logits[0].argmax())
        grads = {}
        tap.value.register_hook(lambda g: grads.__setitem__("g", g))
        model.zero_grad()
        logits[0, t].backward()
        a, g = tap.to_nchw(tap.value), tap.to_nchw(grads["g"])
        return (g.mean((2, 3), keepdim=True) * a).sum(1)[0].detach()
    finally:
        for p in model.parameters():
            p.requires_grad_(False)
            p.grad = None


def scorecam(model, tap, x, b):
    with torch.no_grad():
        logits = model(x)
        t = int(logits[0].argmax())
        a = tap.to_nchw(tap.value)[0]
        w = torch.zeros(a.shape[0])
        for s in range(0, a.shape[0], b):
            up = torch.nn.functional.interpolate(a[s:s + b].unsqueeze(1), size=x.shape[2:], mode="bilinear",
                                                 align_corners=False)
            lo = up.amin((1, 2, 3), keepdim=True)
            span = up.amax((1, 2, 3), keepdim=True) - lo
            masks = torch.where(span > 0, (up - lo) / span.clamp_min(1e-30), torch.zeros_like(up))
            w[s:s + b] = torch.softmax(model(x * masks), 1)[:, t]
        return (w.view(-1, 1, 1) * a).sum(0)


def input_gradients(model, xs, t):
    xs = xs.detach().requires_grad_(True)
    g, = torch.autograd.grad(model(xs)[:, t].sum(), xs)
    return g


def integrated_gradients(model, _tap, x, b, steps=32):
    with torch.no_grad():
        t = int(model(x)[0].argmax())
    nodes, weights = [(i + 0.5) / steps for i in range(steps)], [1.0 / steps] * steps
    total = torch.zeros_like(x)
    for s in range(0, steps, b):
        alphas = torch.tensor(nodes[s:s + b]).view(-1, 1, 1, 1)
        g = input_gradients(model, alphas * x, t)
        total += (torch.tensor(weights[s:s + b]).view(-1, 1, 1, 1) * g).sum(0, keepdim=True)
    return x * total


def smoothgrad(model, _tap, x, b, samples=50, sigma=0.15):
    with torch.no_grad():
        t = int(model(x)[0].argmax())
    sd = sigma * float(x.max() - x.min())
    gen = torch.Generator().manual_seed(0)
    total = torch.zeros_like(x)
    for s in range(0, samples, b):
        n = min(b, samples - s)
        noisy = x + sd * torch.randn((n,) + tuple(x.shape[1:]), generator=gen)
        total += input_gradients(model, noisy, t).sum(0, keepdim=True)
    return total / samples


def window_starts(size, window, stride):
    starts = list(range(0, size - window + 1, stride))
    if not starts or starts[-1] + window < size:
        starts.append(max(0, size - window))
    return starts


def occlusion(model, _tap, x, b, window=16, stride=8):
    with torch.no_grad():
        logits = model(x)
        t = int(logits[0].argmax())
        ref = float(logits[0, t])
        h, w = x.shape[2:]
        wins = [(y, z) for y in window_starts(h, window, stride) for z in window_starts(w, window, stride)]
        total, count = torch.zeros(h, w, dtype=torch.float64), torch.zeros(h, w, dtype=torch.float64)
        for s in range(0, len(wins), b):
            chunk = wins[s:s + b]
            batch = x.expand(len(chunk), -1, -1, -1).clone()
            for i, (y, z) in enumerate(chunk):
                batch[i, :, y:y + window, z:z + window] = 0
            drops = ref - model(batch)[:, t].double()
            for i, (y, z) in enumerate(chunk):
                total[y:y + window, z:z + window] += drops[i]
                count[y:y + window, z:z + window] += 1
        return (total / count.clamp_min(1)).float()


METHODS = {"gradcam": gradcam, "scorecam": scorecam, "integrated_gradients": integrated_gradients,
           "occlusion": occlusion, "smoothgrad": smoothgrad}


def once_ms(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


MAKE = {"convmlp_s": ConvMLP, "resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50,
        "mixer_b16": Mixer, "vit_base": torchvision.models.vit_b_16, "swin_tiny": torchvision.models.swin_t,
        "convnext_tiny": torchvision.models.convnext_tiny}


class Peer:
    """One model, random weights frozen, eval mode, its CAM tap hooked, and a 224 input."""

    def __init__(self, name):
        self.model = MAKE[name]().eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tap = Tap(*cam_tap(name, self.model))
        self.x = torch.randn(1, 3, 224, 224)
        with torch.no_grad():
            self.top = int(self.model(self.x)[0].argmax())

    def forward_ms(self, repeat):
        with torch.inference_mode():
            return median_ms(lambda: self.model(self.x), repeat)

    def forward_backward_ms(self, repeat):
        return median_ms(lambda: input_gradients(self.model, self.x, self.top), repeat)

    def method_ms(self, method, batch):
        return once_ms(lambda: METHODS[method](self.model, self.tap, self.x, batch))

    def measure(self, item, repeat, batch):
        if item == "forward":
            return self.forward_ms(repeat)
        if item == "forward_backward":
            return self.forward_backward_ms(repeat)
        return self.method_ms(item, batch)


def serve(peers, repeat):
    # One request per line, "MODEL ITEM [BATCH]" (ITEM: forward, forward_backward or a method
    # name), answered with the time in ms on one line: featurescope-cli bench --peer alternates
    # its own runs with these, so both sides see the same machine load.
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        batch = int(parts[2]) if len(parts) > 2 else 16
        print(repr(peers[parts[0]].measure(parts[1], repeat, batch)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("threads", type=int)
    ap.add_argument("repeat", type=int)
    ap.add_argument("--models", default="convmlp_s,resnet50,mixer_b16")
    ap.add_argument("--methods", default="")
    ap.add_argument("--batches", default="{}")
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = json.loads(args.batches)
    names = args.models.split(",")
    if args.serve:
        peers = {name: Peer(name) for name in names}
        print("ready", flush=True)
        serve(peers, args.repeat)
        return
    out = {}
    for name in names:  # one model alive at a time
        peer = Peer(name)
        res = {"forward_ms": peer.forward_ms(args.repeat), "forward_backward_ms": peer.forward_backward_ms(args.repeat),
               "threads": args.threads, "methods": {}}
        for method in filter(None, args.methods.split(",")):
            res["methods"][method] = peer.method_ms(method, int(batches.get(name, {}).get(method, 16)))
        out[name] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
