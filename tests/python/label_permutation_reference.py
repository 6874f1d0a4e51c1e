#!/usr/bin/env python3
"""Independent check of `train --permute-labels` (data randomisation, Adebayo et al. 2018, sec. 3.2):
the permutation of 0..N-1 by Fisher-Yates (i from N-1 down to 1, j uniform in 0..i by rejection
of draws >= 2^64 - 2^64 mod (i+1), j = draw mod (i+1)) with a 64-bit Mersenne Twister (Matsumoto &
Nishimura 1998/2004, std::mt19937_64) written here from its definition in plain Python.

  label_permutation_reference.py N SEED [TRAIN_LABELS.gz] [OUT.npy]
      -> prints the fraction of the first N training labels the permutation leaves unchanged (with
         the IDX labels file), or "-" without it; OUT.npy: the permutation (int64).
The generator is checked first against the C++ standard's required value: the 10000th output of a
default-seeded (5489) mt19937_64 is 9981545732273789042."""
import gzip
import struct
import sys

import numpy as np

MASK = (1 << 64) - 1


class MT19937_64:
    def __init__(self, seed):
        self.mt = [seed & MASK]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK)
        self.index = 312

    def twist(self):
        mt = self.mt
        for i in range(312):
            x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
            xa = x >> 1
            if x & 1:
                xa ^= 0xB5026F5AA96619E9
            mt[i] = mt[(i + 156) % 312] ^ xa
        self.index = 0

    def __call__(self):
        if self.index >= 312:
            self.twist()
        x = self.mt[self.index]
        self.index += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        return x & MASK


def permutation(n, seed):
    gen = MT19937_64(seed)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        rng = i + 1
        limit = MASK - MASK % rng
        r = gen()
        while r >= limit:
            r = gen()
        j = r % rng
        p[i], p[j] = p[j], p[i]
    return np.array(p, dtype=np.int64)


def idx_labels(path):
    data = gzip.open(path).read()
    magic, count = struct.unpack(">II", data[:8])
    assert magic == 2049, path
    return np.frombuffer(data[8:8 + count], dtype=np.uint8).astype(np.int64)


def main():
    g = MT19937_64(5489)
    for _ in range(9999):
        g()
    assert g() == 9981545732273789042, "mt19937_64 reference value"
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    p = permutation(n, seed)
    if len(sys.argv) > 4:
        np.save(sys.argv[4], p)
    if len(sys.argv) > 3 and sys.argv[3] != "-":
        labels = idx_labels(sys.argv[3])[:n]
        print("%.6f" % float((labels[p] == labels).mean()))
    else:
        print("-")


if __name__ == "__main__":
    main()
