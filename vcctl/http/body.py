"""Reading an answer's body: decoded (gzip, deflate) under a size cap, within the attempt's time.

An endless body, or a few megabytes of gzip that expand to gigabytes, must not exhaust memory:
the body is read in chunks and decompressed here, never more than the cap past what is kept, so
that memory stays near the cap whatever the server sends.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, Protocol

DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024  # decoded; VCCTL_MAX_ANSWER_BYTES changes it
CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what `Decoder` can undo


class TooLarge(Exception):
    """The decoded answer passed the cap."""


class DeadlinePassed(Exception):
    """The attempt's deadline passed while the body was being read."""


class UnknownEncoding(Exception):
    """A Content-Encoding this reader cannot undo (only gzip and deflate are asked for)."""


class Readable(Protocol):
    def read(self, amt: int = ..., /) -> bytes: ...


def describe_size(size: int) -> str:
    """16777216 -> "16 MiB"; sizes that are not whole MiB or KiB in bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class Decoder:
    """Undoes a Content-Encoding of gzip (several members allowed), deflate or none, giving out at
    most `room` bytes per call so that a small input cannot expand past the cap at once."""

    def __init__(self, content_encoding: str | None) -> None:
        encodings = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        encodings = [e for e in encodings if e != "identity"]
        if len(encodings) > 1 or (encodings and encodings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UnknownEncoding(content_encoding)
        self._kind = encodings[0] if encodings else None
        self._zlib: Any = self._new()
        # "deflate" is meant to be zlib-wrapped, but some servers send it raw.
        self._may_be_raw_deflate = self._kind == "deflate"

    def _new(self) -> Any:
        if self._kind is None:
            return None
        if self._kind == "deflate":
            return zlib.decompressobj()  # zlib-wrapped; raw deflate is tried on failure
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def decode(self, data: bytes, room: int, keep: Callable[[bytes], None]) -> None:
        """Pass the decoded bytes of `data` to `keep`; TooLarge once more than `room` come out."""
        if self._zlib is None:
            if len(data) > room:
                raise TooLarge
            keep(data)
            return
        while data:
            if self._zlib.eof:  # the end of a gzip member: another may follow
                self._zlib = self._new()
            try:
                out = self._zlib.decompress(data, room + 1)
            except zlib.error:
                if not self._may_be_raw_deflate:
                    raise
                self._may_be_raw_deflate = False
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._may_be_raw_deflate = False
            if len(out) > room:
                raise TooLarge
            room -= len(out)
            keep(out)
            data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail

    def finish(self, room: int, keep: Callable[[bytes], None]) -> None:
        if self._zlib is not None:
            out = self._zlib.flush()
            if len(out) > room:
                raise TooLarge
            keep(out)


def read_body(
    stream: Readable | None,
    content_encoding: str | None,
    *,
    limit: int,
    passed: Callable[[], bool],
) -> bytes:
    """The whole decoded body of `stream`, raising TooLarge past `limit` decoded bytes and
    DeadlinePassed when `passed()` says the attempt's time is up (checked between chunks)."""
    if stream is None:
        return b""
    decoder = Decoder(content_encoding)
    read = getattr(stream, "read1", None) or stream.read
    parts: list[bytes] = []
    size = 0

    def keep(data: bytes) -> None:
        nonlocal size
        if data:
            parts.append(data)
            size += len(data)

    while True:
        if passed():
            raise DeadlinePassed
        chunk = read(CHUNK)
        if not chunk:
            break
        decoder.decode(chunk, limit - size, keep)
    decoder.finish(limit - size, keep)
    if passed():
        raise DeadlinePassed
    return b"".join(parts)
