#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets (tests/fuzz), derived from the reference fixtures (tests/data/reference).

usage: /usr/bin/python3 packaging/fuzz_seeds.py REFERENCE_DIR OUT_DIR
Writes OUT_DIR/{safetensors,torch_zip,npy,model_config}/. The reference files are 50-400 KB;
the seeds keep their structure (dtypes, wrappers, key names, header versions) with small tensors
so that they fit the fuzzers' -max_len and mutate quickly. Needs numpy and torch (Debian's
/usr/bin/python3 with python3-numpy and python3-torch).
"""
import collections
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

SMALL = 64          # elements per seed tensor: one 256-byte storage record in fuzz_torch_zip's zip mode
MAX_TENSORS = 12    # fuzz_torch_zip's zip mode provides storage records data/0 .. data/15
MAX_SEED_BYTES = 8192


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    if len(data) > MAX_SEED_BYTES:
        raise SystemExit(f"fuzz_seeds: seed {name} has {len(data)} bytes (limit {MAX_SEED_BYTES})")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors_seeds(ref, out):
    """Each reference .safetensors cut down to its smallest tensors, dtypes and metadata kept."""
    for model in sorted(os.listdir(ref)):
        folder = os.path.join(ref, model)
        if not os.path.isdir(folder):
            continue
        for file in sorted(f for f in os.listdir(folder) if f.endswith(".safetensors")):
            raw = open(os.path.join(folder, file), "rb").read()
            (n,) = struct.unpack("<Q", raw[:8])
            header = json.loads(raw[8:8 + n], object_pairs_hook=collections.OrderedDict)
            data = raw[8 + n:]
            metadata = header.pop("__metadata__", None)
            entries = [(k, v) for k, v in header.items()]
            small = [(k, v) for k, v in entries if int(np.prod(v["shape"], dtype=np.int64)) <= SMALL]
            for variant, picked in (("a", small[:MAX_TENSORS]), ("b", small[-3:]), ("c", small[:1])):
                new = collections.OrderedDict()
                if metadata is not None and variant != "c":
                    new["__metadata__"] = metadata
                blob = b""
                for k, v in picked:
                    begin, end = v["data_offsets"]
                    new[k] = {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": [len(blob), len(blob) + end - begin]}
                    blob += data[begin:end]
                text = json.dumps(new, separators=(",", ":")).encode()
                text += b" " * ((8 - len(text) % 8) % 8)  # the reference writer pads to 8 bytes
                write(out, f"{model}_{file}_{variant}", struct.pack("<Q", len(text)) + text + blob)


def shrink(obj, budget):
    """The same container structure with only small tensors (at most budget[0] of them)."""
    if isinstance(obj, torch.Tensor):
        return obj.clone() if obj.numel() <= SMALL else None
    if isinstance(obj, dict):
        kept = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            if isinstance(v, torch.Tensor):
                if budget[0] == 0 or v.numel() > SMALL:
                    continue
                budget[0] -= 1
            small = shrink(v, budget)
            if small is not None:
                kept[k] = small
        return kept
    return obj


def pickle_of(zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def torch_zip_seeds(ref, out):
    """Reference .pth containers (plain, wrapped, module. prefix, Facebook ResMLP names) with small
    tensors: mode 0 = the whole zip, mode 1 = its data.pkl (fuzz_torch_zip.cpp)."""
    for model in sorted(os.listdir(ref)):
        folder = os.path.join(ref, model)
        if not os.path.isdir(folder):
            continue
        for file in sorted(f for f in os.listdir(folder) if f.endswith(".pth")):
            path = os.path.join(folder, file)
            raw = open(path, "rb").read()
            if not raw.startswith(b"PK\x03\x04"):
                write(out, f"{model}_{file}_head", b"\x00" + raw[:2048])  # legacy format: refused
                continue
            obj = torch.load(path)
            buf = io.BytesIO()
            torch.save(shrink(obj, [MAX_TENSORS]), buf)
            zip_bytes = buf.getvalue()
            write(out, f"{model}_{file}_zip", b"\x00" + zip_bytes)
            write(out, f"{model}_{file}_pkl", b"\x01" + pickle_of(zip_bytes))
    # Views: storage offsets, shared storages, non-contiguous strides, a Parameter, int64 and bool.
    base = torch.arange(16, dtype=torch.float32)
    views = collections.OrderedDict(
        [("a", base[2:6]), ("b", base.view(4, 4).t()), ("c", torch.nn.Parameter(torch.ones(3))),
         ("d", torch.tensor(7)), ("e", torch.tensor([True, False])), ("f", base[::3])])
    buf = io.BytesIO()
    torch.save(views, buf)
    write(out, "views_zip", b"\x00" + buf.getvalue())
    write(out, "views_pkl", b"\x01" + pickle_of(buf.getvalue()))


def npy_seeds(ref, out):
    """Reference arrays (logits, inputs, taps, Grad-CAMs) sliced small, in every supported dtype and
    header version."""
    for model in sorted(os.listdir(ref)):
        folder = os.path.join(ref, model)
        if not os.path.isdir(folder):
            continue
        write(out, f"{model}_logits", open(os.path.join(folder, "logits.npy"), "rb").read())
        x = np.load(os.path.join(folder, "input.npy"))[:, :, :3, :4]
        for dtype, version in (("<f4", (1, 0)), ("<f8", (2, 0)), ("<i8", (3, 0)), ("<f4", (2, 0))):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(x.astype(dtype)), version=version)
            write(out, f"{model}_input_{dtype[1:]}_v{version[0]}", buf.getvalue())
        taps = os.path.join(folder, "taps")
        for file in sorted(os.listdir(taps))[:4]:
            a = np.load(os.path.join(taps, file))
            a = a[tuple(slice(0, 3) for _ in range(a.ndim))]
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(a))
            write(out, f"{model}_tap_{file}", buf.getvalue())
    for name, a in (("scalar", np.float32(2.5)), ("empty", np.zeros((0, 3), np.float32))):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(a))
        write(out, f"shape_{name}", buf.getvalue())


def config_seeds(ref, out):
    """Every reference config.json, plus one per family field set of tests/data/reference/README.md
    that the references do not cover (resnet, input block)."""
    for model in sorted(os.listdir(ref)):
        path = os.path.join(ref, model, "config.json")
        if os.path.isfile(path):
            write(out, model, open(path, "rb").read())
    extra = {
        "resnet_basic": {"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "num_classes": 10, "width": 8},
        "resnet_bottleneck": {"family": "resnet", "layers": [1, 2], "num_classes": 10, "width": 4},
        "puremlp_input": {"family": "puremlp", "blocks": [1, 1], "dims": [8, 16], "mlp_ratios": [2, 2],
                          "channels": 8, "n_conv_blocks": 1, "num_classes": 10, "labels": "fashion-mnist",
                          "input": {"size": [32, 32], "crop_pct": 1.0, "mean": [0.5, 0.5, 0.5],
                                    "std": [0.5, 0.5, 0.5], "interpolation": "bilinear"}},
        "resmlp_init": {"family": "resmlp", "img_size": 32, "patch_size": 8, "num_blocks": 1, "embed_dim": 8,
                        "mlp_ratio": 2.0, "init_values": 0.1, "num_classes": 10, "input": {"size": [32]}},
    }
    for name, cfg in extra.items():
        write(out, name, json.dumps(cfg).encode())


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ref, out = sys.argv[1], sys.argv[2]
    safetensors_seeds(ref, os.path.join(out, "safetensors"))
    torch_zip_seeds(ref, os.path.join(out, "torch_zip"))
    npy_seeds(ref, os.path.join(out, "npy"))
    config_seeds(ref, os.path.join(out, "model_config"))
    for target in ("safetensors", "torch_zip", "npy", "model_config"):
        files = os.listdir(os.path.join(out, target))
        print(f"fuzz_seeds: {target}: {len(files)} seeds, largest "
              f"{max(os.path.getsize(os.path.join(out, target, f)) for f in files)} bytes")


if __name__ == "__main__":
    main()
