"""The frame protocol's reader rejects malformed input clearly and never hangs (randomized, seeded)."""

from __future__ import annotations

import io
import random
import struct

import pytest

from ember import serializers as ser


def framed(*payloads: bytes, end: bool = True) -> bytes:
    out = io.BytesIO()
    for payload in payloads:
        ser.write_frame(payload, out)
    if end:
        ser.write_int(ser.END_OF_DATA, out)
    return out.getvalue()


def test_random_frames_round_trip() -> None:
    rng = random.Random(3)
    for _ in range(300):
        payloads = [rng.randbytes(rng.randrange(3000)) for _ in range(rng.randrange(6))]
        assert list(ser.read_frames(io.BytesIO(framed(*payloads)))) == payloads


def test_every_truncation_is_an_eof_error() -> None:
    rng = random.Random(5)
    for _ in range(300):
        data = framed(*[rng.randbytes(1 + rng.randrange(200)) for _ in range(1 + rng.randrange(3))])
        cut = rng.randrange(len(data))
        with pytest.raises(EOFError, match="the stream ended"):
            list(ser.read_frames(io.BytesIO(data[:cut])))


def test_negative_lengths_that_are_not_control_codes_are_rejected() -> None:
    rng = random.Random(7)
    for _ in range(300):
        bad = rng.randrange(-(2 ** 31), ser.LOWEST_CONTROL_CODE)
        with pytest.raises(ser.ProtocolError, match="neither a frame length nor a control code"):
            ser.read_frame(io.BytesIO(struct.pack(">i", bad)))


def test_oversized_lengths_are_rejected_before_reading() -> None:
    rng = random.Random(11)
    for _ in range(100):
        huge = rng.randrange(ser.MAX_FRAME_BYTES + 1, 2 ** 31)
        with pytest.raises(ser.ProtocolError, match="exceeds the limit"):
            ser.read_frame(io.BytesIO(struct.pack(">i", huge)))


def test_a_control_code_where_a_frame_belongs_is_an_error() -> None:
    for code in range(ser.LOWEST_CONTROL_CODE, 0):
        with pytest.raises(ser.ProtocolError, match="expected a frame"):
            ser.read_frame(io.BytesIO(struct.pack(">i", code)))


def test_a_frame_reader_reuses_its_buffer_and_grows_it_for_a_bigger_frame() -> None:
    rng = random.Random(7)
    payloads = [rng.randbytes(n) for n in (10, 0, 3000, 200_000, 5, 200_000)]
    stream = io.BufferedReader(io.BytesIO(b"".join(payloads)), 64)
    reader = ser.FrameReader(stream, initial=4096)
    sizes = []
    for payload in payloads:
        view = reader.read(len(payload))
        assert bytes(view) == payload
        sizes.append(len(reader.buffer))
    assert sizes == [4096, 4096, 4096, 200_000, 200_000, 200_000]  # grown once, then reused
    with pytest.raises(EOFError, match="0 of 1 bytes"):
        reader.read(1)
