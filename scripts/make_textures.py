"""Generates the textures of robrew's "CLIP-friendly" scenes into assets/textures/.

Deterministic (fixed seed), so re-running reproduces the committed PNGs byte for byte.
Natural-looking textures (grass, sky with clouds, wood) make rendered frames closer to
the photos CLIP was trained on than MuJoCo's flat checkerboards.

Usage:
    python scripts/make_textures.py [--out assets/textures]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np


def _value_noise(rng: np.random.Generator, size: int, octaves: int = 5) -> np.ndarray:
    """Tileable fractal value noise in [0, 1], shape (size, size)."""
    out = np.zeros((size, size))
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 4 * 2**o
        grid = rng.random((cells, cells))
        idx = np.arange(size) * cells / size
        i0 = np.floor(idx).astype(int) % cells
        i1 = (i0 + 1) % cells
        t = idx - np.floor(idx)
        t = t * t * (3 - 2 * t)
        rows = grid[i0][:, i0] * (1 - t)[None, :] + grid[i0][:, i1] * t[None, :]
        rows1 = grid[i1][:, i0] * (1 - t)[None, :] + grid[i1][:, i1] * t[None, :]
        out += amp * (rows * (1 - t)[:, None] + rows1 * t[:, None])
        total += amp
        amp *= 0.5
    return out / total


def _to_u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img * 255.0, 0, 255).astype(np.uint8)


def grass(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    n = _value_noise(rng, size, 6)
    fine = rng.random((size, size)) * 0.15
    base = np.array([0.22, 0.45, 0.16])
    tip = np.array([0.45, 0.65, 0.25])
    mix = np.clip(n * 1.2 - 0.1 + fine, 0, 1)[..., None]
    return _to_u8(base * (1 - mix) + tip * mix)


def sky(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    horizon = np.array([0.80, 0.88, 0.97])
    zenith = np.array([0.30, 0.52, 0.86])
    gradient = zenith * (1 - rows) + horizon * rows
    clouds = np.clip((_value_noise(rng, size, 5) - 0.55) * 3.0, 0, 1)[..., None]
    return _to_u8(gradient * (1 - clouds) + np.array([0.97, 0.97, 0.98]) * clouds)


def robot_skin(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """Brushed light-grey metal with darker panel seams."""
    n = _value_noise(rng, size, 4)
    streak = rng.random((1, size)).repeat(size, 0) * 0.06
    img = (0.72 + 0.12 * n + streak)[..., None] * np.array([1.0, 1.0, 1.03])
    seams = (np.arange(size) % 64) < 2
    img[seams, :] *= 0.55
    img[:, seams] *= 0.55
    return _to_u8(img)


def wood(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    x = np.linspace(0, 1, size)[None, :]
    n = _value_noise(rng, size, 5)
    rings = 0.5 + 0.5 * np.sin((x * 40 + n * 6) * np.pi)
    light = np.array([0.76, 0.58, 0.38])
    dark = np.array([0.55, 0.38, 0.22])
    return _to_u8(light * (1 - 0.6 * rings[..., None]) + dark * 0.6 * rings[..., None])


TEXTURES = {"grass.png": grass, "sky.png": sky, "robot_skin.png": robot_skin, "wood.png": wood}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "textures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, (name, fn) in enumerate(TEXTURES.items()):
        path = args.out / name
        iio.imwrite(path, fn(np.random.default_rng(1000 + i)))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
