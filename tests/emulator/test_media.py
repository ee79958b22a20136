"""Photo sizes read from the image header, as Telegram reports them."""

from __future__ import annotations

import struct

from daemon.emulator.media import image_size
from tests.emulator.test_methods import png


def test_png() -> None:
    assert image_size(png(7, 5)) == (7, 5)


def test_gif() -> None:
    assert image_size(b"GIF89a" + struct.pack("<HH", 320, 200) + b"\x00" * 8) == (320, 200)


def test_jpeg_reads_the_frame_header_after_other_segments() -> None:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 480, 640) + b"\x00" * 10
    assert image_size(b"\xff\xd8" + app0 + sof0) == (640, 480)


def test_other_bytes_are_not_an_image() -> None:
    assert image_size(b"%PDF-1.7") is None
    assert image_size(b"\xff\xd8\x00") is None
