"""Time parsing: ISO 8601 in, aware UTC datetimes out."""

from __future__ import annotations

import datetime as _dt

from cocoverify.errors import ConfigurationError, Reason

__all__ = ["parse_time"]


def parse_time(text: str, *, what: str = "time") -> _dt.datetime:
    """Parse ISO 8601 (``Z`` or an offset; a date alone means midnight UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            t = _dt.datetime.fromisoformat(value).replace(tzinfo=_dt.UTC)
        else:
            t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            f"{what}: not ISO 8601: {text!r}", reason=Reason.INVALID_ARGUMENT
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.astimezone(_dt.UTC)
