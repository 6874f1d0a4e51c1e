"""Lucid's Fourier image parametrisation written with numpy (Olah et al. 2017; Lucid/Lucent
fft_image and to_valid_rgb): spectrum [C,S,S//2+1,2] -> image [3,S,S] in [0,1].
Usage: vis_reference.py SPECTRUM.npy SIZE GREY(0|1) OUT.npy"""
import sys

import numpy as np


def fourier_image(spectrum, size, grey):
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[: size // 2 + 1]
    freqs = np.sqrt(fx * fx + fy * fy)
    scale = 1.0 / np.maximum(freqs, 1.0 / size)
    complex_spectrum = (spectrum[..., 0] + 1j * spectrum[..., 1]).astype(np.complex128) * scale
    image = np.fft.irfft2(complex_spectrum, s=(size, size), norm="ortho") / 4.0
    sigmoid = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    if grey:
        return np.repeat(sigmoid(image), 3, axis=0)
    svd_sqrt = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    normalised = svd_sqrt / np.max(np.linalg.norm(svd_sqrt, axis=0))
    flat = image.reshape(3, -1).T @ normalised.T  # Lucid: pixels [N,3] times the matrix's transpose
    return sigmoid(flat.T.reshape(3, size, size))


if __name__ == "__main__":
    spectrum = np.load(sys.argv[1]).astype(np.float64)
    out = fourier_image(spectrum, int(sys.argv[2]), sys.argv[3] == "1")
    np.save(sys.argv[4], out.astype(np.float32))
