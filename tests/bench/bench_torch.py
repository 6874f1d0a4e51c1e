"""Python torch 1.13 peer for `featurescope-cli bench`: the same three architectures (timm-style
definitions written here for torch alone: ConvMLP-S, ResNet-50 from torchvision, Mixer-B/16),
random weights, batch 1 at 224, eval mode, median of N forward passes.
usage: bench_torch.py THREADS REPEAT -> JSON {"model": {"forward_ms": ...}}"""
import json
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


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    threads, repeat = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    models = {"convmlp_s": ConvMLP(), "resnet50": torchvision.models.resnet50(), "mixer_b16": Mixer()}
    x = torch.randn(1, 3, 224, 224)
    out = {}
    for name, m in models.items():
        m.eval()
        with torch.inference_mode():
            out[name] = {"forward_ms": median_ms(lambda: m(x), repeat), "threads": threads}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
