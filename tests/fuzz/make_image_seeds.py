#!/usr/bin/python3
# Writes the seeds of fuzz_image_header (corpus/fuzz_image_header/): small PNG, JPEG and WebP
# files of each kind the header readers tell apart, and some broken ones. Run once; the output
# is committed. Each seed's first byte picks the limits (even: the upload's, odd: tight ones).
# Needs Debian's python3-pil, hence /usr/bin/python3.
import io
import pathlib

from PIL import Image

out = pathlib.Path(__file__).resolve().parent / "corpus" / "fuzz_image_header"
out.mkdir(parents=True, exist_ok=True)


def encoded(mode, size, fmt, **options):
    colour = {"P": 1, "RGBA": (255, 255, 255, 0)}.get(mode, "white")  # RGBA: alpha in use
    image = Image.new(mode, size, colour)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


seeds = {
    "png_rgb_40x40": encoded("RGB", (40, 40), "PNG"),
    "png_rgba_48x32": encoded("RGBA", (48, 32), "PNG"),
    "png_gray16_40x40": encoded("I;16", (40, 40), "PNG"),
    "png_palette_33x33": encoded("P", (33, 33), "PNG"),
    "jpeg_baseline_40x40": encoded("RGB", (40, 40), "JPEG", quality=50),
    "jpeg_progressive_48x48": encoded("RGB", (48, 48), "JPEG", progressive=True, quality=50),
    "jpeg_gray_32x40": encoded("L", (32, 40), "JPEG", quality=50),
    "jpeg_subsampled_64x64": encoded("RGB", (64, 64), "JPEG", subsampling=2, quality=30),
    "webp_lossy_40x40": encoded("RGB", (40, 40), "WEBP", quality=30),
    "webp_lossless_40x40": encoded("RGB", (40, 40), "WEBP", lossless=True),
    "webp_alpha_40x40": encoded("RGBA", (40, 40), "WEBP", quality=30),
    "gif_40x40": encoded("P", (40, 40), "GIF"),
}
seeds["jpeg_truncated"] = seeds["jpeg_baseline_40x40"][: len(seeds["jpeg_baseline_40x40"]) // 2]
seeds["png_truncated"] = seeds["png_rgb_40x40"][:30]
seeds["webp_truncated"] = seeds["webp_lossy_40x40"][:24]

for name, data in seeds.items():
    (out / name).write_bytes(b"\x00" + data)
    # The same file under the tight limits, where it is too large, too costly or just fits.
    (out / (name + "_tight")).write_bytes(b"\x01" + data)
