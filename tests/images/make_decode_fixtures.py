#!/usr/bin/python3
# Writes the decoder's fixtures (decode_fixtures/): tiny JPEG, PNG and WebP files of every kind
# decode_bgr tells apart. Run once; the output is committed together with each file's expected
# picture (NAME.bgr: "WIDTH HEIGHT\n", then the BGR bytes row by row), which was recorded from
# the recognizer's decode before this decoder replaced it (cv::imdecode of OpenCV 4.6, Debian
# 12, IMREAD_COLOR for JPEG, IMREAD_UNCHANGED then alpha on white for PNG and WebP), so the test
# shows the pixels did not change. Needs Debian's python3-pil, hence /usr/bin/python3.
import io
import pathlib
import struct
import zlib

from PIL import Image

out = pathlib.Path(__file__).resolve().parent / "decode_fixtures"
out.mkdir(parents=True, exist_ok=True)
W, H = 12, 8  # not square, so a turned picture shows


def sample(x, y, c, top=255):
    # A gradient with some high-frequency detail, so chroma subsampling and rounding matter.
    return (x * 37 + y * 53 + c * 91 + (x * y * 7) % 29) * top // 400 % (top + 1)


def rgb_image(mode="RGB"):
    image = Image.new("RGB", (W, H))
    image.putdata([tuple(sample(x, y, c) for c in range(3)) for y in range(H) for x in range(W)])
    return image.convert(mode) if mode != "RGB" else image


def saved(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(color_type, bit_depth, rows, extra=b""):
    """A PNG written by hand, for the kinds PIL cannot write (16-bit colour, tRNS, 1-bit)."""
    raw = b"".join(b"\x00" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", W, H, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def samples_row(y, channels, bit_depth):
    top = (1 << bit_depth) - 1
    values = [sample(x, y, c, top) for x in range(W) for c in range(channels)]
    if channels in (2, 4):  # alpha: opaque, clear and half in turn
        for i in range(channels - 1, len(values), channels):
            values[i] = [top, 0, top // 2, top // 5][(i // channels + y) % 4]
    if bit_depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    if bit_depth == 8:
        return bytes(values)
    bits = "".join(format(v, "0{}b".format(bit_depth)) for v in values)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def exif_app1(orientation, big_endian=False):
    order = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    tiff += struct.pack(order + "H", 1) + struct.pack(order + "HHI", 0x0112, 3, 1)
    tiff += struct.pack(order + "H", orientation) + b"\x00\x00" + struct.pack(order + "I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xFF\xE1" + struct.pack(">H", len(payload) + 2) + payload


def with_app1(jpeg, app1):
    return jpeg[:2] + app1 + jpeg[2:]  # right after SOI


files = {
    "jpeg_420.jpg": saved(rgb_image(), "JPEG", quality=90),
    "jpeg_444.jpg": saved(rgb_image(), "JPEG", quality=90, subsampling=0),
    "jpeg_progressive.jpg": saved(rgb_image(), "JPEG", quality=90, progressive=True),
    "jpeg_gray.jpg": saved(rgb_image("L"), "JPEG", quality=90),
    "jpeg_cmyk.jpg": saved(rgb_image("CMYK"), "JPEG", quality=90),
    "png_rgb8.png": saved(rgb_image(), "PNG"),
    "png_gray8.png": saved(rgb_image("L"), "PNG"),
    "png_palette.png": saved(rgb_image().quantize(16), "PNG"),
    "png_rgba8.png": png(6, 8, [samples_row(y, 4, 8) for y in range(H)]),
    "png_graya8.png": png(4, 8, [samples_row(y, 2, 8) for y in range(H)]),
    "png_gray16.png": png(0, 16, [samples_row(y, 1, 16) for y in range(H)]),
    "png_rgb16.png": png(2, 16, [samples_row(y, 3, 16) for y in range(H)]),
    "png_rgba16.png": png(6, 16, [samples_row(y, 4, 16) for y in range(H)]),
    "png_gray1.png": png(0, 1, [samples_row(y, 1, 1) for y in range(H)]),
    "png_gray4.png": png(0, 4, [samples_row(y, 1, 4) for y in range(H)]),
    # tRNS on RGB: one colour transparent; on grey, imdecode ignored it.
    "png_rgb8_trns.png": png(2, 8, [samples_row(y, 3, 8) for y in range(H)],
                             chunk(b"tRNS", struct.pack(">HHH", *[sample(0, 0, c) for c in range(3)]))),
    "png_gray8_trns.png": png(0, 8, [samples_row(y, 1, 8) for y in range(H)],
                              chunk(b"tRNS", struct.pack(">H", sample(0, 0, 0)))),
    "webp_lossy.webp": saved(rgb_image(), "WEBP", quality=80),
    "webp_lossless.webp": saved(rgb_image(), "WEBP", lossless=True),
}
# A palette with transparent entries, 4 bits per index.
palette_rows = [bytes((x % 16) << 4 | ((x + 1) % 16) for x in range(0, W, 2)) for _ in range(H)]
palette = b"".join(bytes((i * 16, 255 - i * 16, (i * 40) % 256)) for i in range(16))
files["png_palette4_trns.png"] = png(3, 4, palette_rows, chunk(b"PLTE", palette)
                                     + chunk(b"tRNS", bytes(range(0, 256, 16))))
rgba = Image.frombytes("RGBA", (W, H), b"".join(
    bytes(sample(x, y, c) if c < 3 else [255, 0, 128, 40][(x + y) % 4] for c in range(4))
    for y in range(H) for x in range(W)))
files["webp_lossy_alpha.webp"] = saved(rgba, "WEBP", quality=80)
files["webp_lossless_alpha.webp"] = saved(rgba, "WEBP", lossless=True)
files["png_rgba8_pil.png"] = saved(rgba, "PNG")
for orientation in range(1, 9):
    files["jpeg_exif%d.jpg" % orientation] = with_app1(files["jpeg_444.jpg"], exif_app1(orientation))
files["jpeg_exif6_big_endian.jpg"] = with_app1(files["jpeg_444.jpg"], exif_app1(6, big_endian=True))

for name, data in files.items():
    (out / name).write_bytes(data)
