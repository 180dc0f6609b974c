"""Read the PNG files Chromium's screenshots produce (8-bit greyscale, RGB or RGBA, not
interlaced) into numpy arrays: zlib and numpy only, so a test depends on no image library.

The filters are those of the PNG specification (ISO/IEC 15948:2004, section 9: None, Sub, Up,
Average, Paeth).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


def _chunks(data: bytes):
    offset = len(_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        yield kind, data[offset + 8:offset + 8 + length]
        offset += 12 + length


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int64)
    position = 0
    for y in range(height):
        kind = raw[position]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=position + 1).astype(np.int64)
        position += 1 + stride
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) & 0xFF
        elif kind in (1, 3, 4):
            # Each byte depends on the one bpp to its left: a loop over columns, vectorised over
            # the bpp interleaved channels.
            row = line.copy()
            for x in range(stride):
                left = row[x - bpp] if x >= bpp else 0
                if kind == 1:
                    row[x] = (line[x] + left) & 0xFF
                elif kind == 3:
                    row[x] = (line[x] + ((left + previous[x]) >> 1)) & 0xFF
                else:
                    upper_left = previous[x - bpp] if x >= bpp else 0
                    row[x] = (line[x] + _paeth(int(left), int(previous[x]), int(upper_left))) & 0xFF
        else:
            raise ValueError(f"PNG row {y}: unknown filter type {kind}")
        out[y] = row
        previous = row
    return out


def read_png(data: bytes) -> np.ndarray:
    """The image as an array of shape (height, width, channels), dtype uint8."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    header = None
    compressed = bytearray()
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"only 8-bit, non-interlaced greyscale/RGB/RGBA PNGs are read (got depth {depth}, "
                         f"colour type {colour}, interlace {interlace})")
    channels = _CHANNELS[colour]
    stride = width * channels
    pixels = _unfilter(zlib.decompress(bytes(compressed)), height, stride, channels)
    return pixels.reshape(height, width, channels)


def darkness(data: bytes) -> np.ndarray:
    """Each pixel's ink coverage from 0 (white) to 1 (black): 1 - grey level / 255 (the mean of
    the colour channels). The optotypes are black on white, so a pixel's grey level is 1 minus the
    fraction of it the anti-aliased shape covers."""
    pixels = read_png(data).astype(np.float64)
    colour = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    return 1.0 - colour.mean(axis=2) / 255.0
