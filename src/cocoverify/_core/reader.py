"""Bounded little-endian reader: every read is checked and names its field and offset."""

from __future__ import annotations

from cocoverify.errors import MalformedEvidence, Reason

__all__ = ["Reader"]


class Reader:
    """A cursor over ``data[start:end]``; offsets in errors are absolute (from ``base``)."""

    __slots__ = ("_data", "_end", "base", "pos", "what")

    def __init__(
        self,
        data: bytes,
        *,
        start: int = 0,
        end: int | None = None,
        base: int = 0,
        what: str = "evidence",
    ) -> None:
        self._data = data
        self.pos = start
        self._end = len(data) if end is None else end
        self.base = base
        self.what = what

    @property
    def remaining(self) -> int:
        """Bytes left before the end bound."""
        return self._end - self.pos

    def take(self, n: int, field: str) -> bytes:
        """The next ``n`` bytes, or MalformedEvidence(truncated) naming ``field``."""
        if n < 0 or self.pos + n > self._end:
            raise MalformedEvidence(
                f"{self.what}: {field} needs {n} bytes, {max(self.remaining, 0)} remain",
                field=field,
                offset=self.base + self.pos,
                reason=Reason.TRUNCATED,
            )
        out = self._data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self, field: str) -> int:
        """Little-endian u16."""
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        """Little-endian u32."""
        return int.from_bytes(self.take(4, field), "little")

    def sub(self, n: int, field: str, what: str | None = None) -> Reader:
        """A reader over the next ``n`` bytes (consumed from this one)."""
        start = self.pos
        self.take(n, field)
        return Reader(
            self._data, start=start, end=start + n, base=self.base, what=what or self.what
        )

    def offset(self) -> int:
        """Absolute offset of the cursor."""
        return self.base + self.pos
