#!/usr/bin/python3
"""Print simple statistics of a PNG so a test can tell a real rendering from a blank one.

    /usr/bin/python3 analysis/paraview/image_stats.py FRAME.png
    width=800 height=600 colours=2345 std=41.2 foreground=0.31

colours: distinct RGB colours; std: standard deviation of all RGB values (0-255 scale);
foreground: fraction of pixels that differ from the most common colour (the background).
Uses numpy + matplotlib.image (Pillow only as a fallback). Exit code 1 if the file cannot be read.
"""
import sys

import numpy as np


def load_rgb_255(path):
    try:
        import matplotlib.image as mpimg
        image = mpimg.imread(path)  # PNG: floats in 0..1, shape (h, w, 3 or 4)
        image = np.rint(np.asarray(image, dtype=np.float64) * 255.0)
    except ImportError:
        from PIL import Image
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    if image.ndim == 2:  # greyscale
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3].astype(np.uint8)


def stats(path):
    rgb = load_rgb_255(path)
    height, width = rgb.shape[:2]
    pixels = rgb.reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return {
        "width": width,
        "height": height,
        "colours": len(colours),
        "std": float(pixels.std()),
        "foreground": 1.0 - counts.max() / len(pixels),
    }


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        result = stats(argv[0])
    except (OSError, ValueError) as error:
        print("image_stats.py: cannot read %s: %s" % (argv[0], error), file=sys.stderr)
        return 1
    print("width=%d height=%d colours=%d std=%.3f foreground=%.4f" % (
        result["width"], result["height"], result["colours"], result["std"], result["foreground"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
