"""Independent check of `featurescope-cli atlas`: every panel's NPY equals the checkpoint's tensor
bit for bit (read here straight from the safetensors bytes), reordered and reshaped as the manifest
says, and MLP-Mixer's tile order is the paper's pairing (Tolstikhin et al. 2021, Fig. 5) recomputed
with numpy. Usage: atlas_reference.py MANIFEST CHECKPOINT.safetensors. Exit 0 when all agree."""
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(body[b:end], dtype="<f4").reshape(e["shape"])
    return out


def radial_frequency(f, side):
    power = np.abs(np.fft.fft2(f.reshape(side, side).astype(np.float64))) ** 2
    u = np.minimum(np.arange(side), side - np.arange(side))
    radius = np.sqrt(u[:, None] ** 2 + u[None, :] ** 2)
    power[0, 0] = 0.0
    return float((power * radius).sum() / power.sum()) if power.sum() > 0 else 0.0


def paired_order(w, side):
    w64 = w.astype(np.float64)
    unit = w64 / np.maximum(np.linalg.norm(w64, axis=1, keepdims=True), 1e-12)
    cos = unit @ unit.T
    used = np.zeros(len(w), bool)
    pairs = []
    for i in range(len(w)):
        if used[i]:
            continue
        used[i] = True
        free = [j for j in range(i + 1, len(w)) if not used[j]]
        if free:
            j = min(free, key=lambda k: (cos[i, k], k))
            used[j] = True
            pairs.append([i, j])
        else:
            pairs.append([i])
    freq = [np.mean([radial_frequency(w[i], side) for i in p]) for p in pairs]
    order = []
    for k in sorted(range(len(pairs)), key=lambda k: freq[k]):  # stable
        order += pairs[k]
    return order


def main():
    manifest_path, checkpoint = sys.argv[1], sys.argv[2]
    manifest = json.load(open(manifest_path))
    tensors = read_safetensors(checkpoint)
    folder = os.path.dirname(manifest_path)
    failures = 0
    for panel in manifest["panels"]:
        ours = np.load(os.path.join(folder, panel["npy"]))
        w = tensors[panel["parameter"]]
        order = panel["order"]
        if panel["kind"] == "token_mixing" and order != paired_order(w, panel["grid_side"]):
            print("order differs from the numpy pairing:", panel["parameter"])
            failures += 1
        if panel["kind"] in ("token_mixing", "cross_patch"):
            g = panel["grid_side"]
            expected = w[order].reshape(len(order), 1, g, g)
        else:
            expected = w[order]
        if ours.dtype != np.float32 or ours.shape != expected.shape or ours.tobytes() != expected.tobytes():
            print("values differ:", panel["parameter"], ours.shape, expected.shape)
            failures += 1
    print("panels", len(manifest["panels"]), "failures", failures)
    return 1 if failures or not manifest["panels"] else 0


if __name__ == "__main__":
    sys.exit(main())
