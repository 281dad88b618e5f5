"""JSON-lines manifests for ``cocoverify batch --manifest`` and ``verify_many`` (docs/batch.md
"Manifest"): one object per line, each naming a piece of evidence and what it is checked
against (its own time, expected report data and collateral)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any, Final

from cocoverify._core.io import LIST_LIMIT, read_capped
from cocoverify._core.json import no_duplicates
from cocoverify.api import as_time
from cocoverify.batch.config import COLLATERAL_SUFFIX, BatchItem
from cocoverify.batch.inputs import clean_path
from cocoverify.errors import CocoverifyError, ConfigurationError, Reason
from cocoverify.result import format_time

__all__ = ["MANIFEST_KEYS", "manifest_item", "parse_manifest", "read_manifest"]

#: The longest binding field of any evidence kind, as for ``verify --report-data``: a Nitro
#: nonce (docs/nitro.md).
MAX_REPORT_DATA: Final = 1024

#: Every key a manifest line may have; any other key is an error.
MANIFEST_KEYS: Final = frozenset({"path", "at", "report_data", "collateral", "id"})


def _error(name: str, line: int, what: str) -> ConfigurationError:
    return ConfigurationError(f"{name}:{line}: {what}", reason=Reason.INVALID_ARGUMENT)


def _text(obj: dict[str, Any], key: str, fail: Any) -> str | None:
    value = obj.get(key)
    if value is None and key not in obj:
        return None
    if not isinstance(value, str) or not value:
        raise fail(f"{key}: expected a non-empty string")
    return value


def _in(folder: str, path: str) -> str:
    return clean_path(path if os.path.isabs(path) else os.path.join(folder, path))


def _item(obj: Any, folder: str, fail: Any, *, collateral_from_dir: bool) -> BatchItem:
    if not isinstance(obj, dict):
        raise fail(f"expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - MANIFEST_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(MANIFEST_KEYS))})")
    raw_path = _text(obj, "path", fail)
    if raw_path is None:
        raise fail("'path' is missing")
    path = _in(folder, raw_path)
    at = _text(obj, "at", fail)
    if at is not None:
        try:
            at = format_time(as_time(at))
        except (CocoverifyError, ValueError) as exc:
            raise fail(f"at: {exc}") from None
    report_data = None
    hex_text = _text(obj, "report_data", fail)
    if hex_text is not None:
        try:
            report_data = bytes.fromhex(hex_text.removeprefix("0x"))
        except ValueError:
            raise fail("report_data: not hex") from None
        if not report_data or len(report_data) > MAX_REPORT_DATA:
            raise fail(f"report_data: {len(report_data)} bytes (1 to {MAX_REPORT_DATA})")
    coll = obj.get("collateral")
    named: list[str] = []
    if isinstance(coll, str) and coll:
        named = [coll]
    elif isinstance(coll, list) and coll and all(isinstance(c, str) and c for c in coll):
        named = list(coll)
    elif "collateral" in obj:
        raise fail("collateral: expected a path or a non-empty list of paths")
    paths = [_in(folder, c) for c in named]
    sibling = path + COLLATERAL_SUFFIX
    if os.path.isdir(sibling):
        paths.append(sibling)  # the <file>.collateral/ convention holds for listed files too
    item_id = _text(obj, "id", fail)
    return BatchItem(
        path,
        collateral=tuple(paths),
        collateral_dir=(os.path.dirname(path) or ".") if collateral_from_dir else None,
        at=at,
        report_data=report_data,
        id=item_id,
    )


def manifest_item(obj: Any, *, folder: str = ".", collateral_from_dir: bool = False) -> BatchItem:
    """One manifest line, already decoded (a dict), as a :class:`BatchItem`; relative paths
    are relative to ``folder``. Raises :class:`~cocoverify.errors.ConfigurationError`
    (``invalid_argument``) for an unknown key or a bad value."""

    def fail(what: str) -> ConfigurationError:
        return ConfigurationError(f"manifest item: {what}", reason=Reason.INVALID_ARGUMENT)

    return _item(obj, folder, fail, collateral_from_dir=collateral_from_dir)


def parse_manifest(
    lines: Iterable[str],
    *,
    folder: str = ".",
    name: str = "<manifest>",
    collateral_from_dir: bool = False,
) -> Iterator[BatchItem]:
    """One :class:`BatchItem` per non-blank line, in order; relative paths (``path`` and
    ``collateral``) are relative to ``folder``. Any malformed line, unknown key, bad value,
    or a ``path`` or ``id`` repeated from an earlier line raises
    :class:`~cocoverify.errors.ConfigurationError` (``invalid_argument``) naming
    ``name:LINE``."""
    paths: dict[str, int] = {}
    ids: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue

        def fail(what: str, number: int = number) -> ConfigurationError:
            return _error(name, number, what)

        try:
            obj = json.loads(line, object_pairs_hook=no_duplicates)
        except (ValueError, RecursionError) as exc:
            raise fail(f"not JSON ({exc})") from None
        item = _item(obj, folder, fail, collateral_from_dir=collateral_from_dir)
        if item.path in paths:
            raise fail(f"path {item.path!r} is already on line {paths[item.path]}")
        paths[item.path] = number
        if item.id is not None:
            if item.id in ids:
                raise fail(f"id {item.id!r} is already on line {ids[item.id]}")
            ids[item.id] = number
        yield item


def read_manifest(path: str, *, collateral_from_dir: bool = False) -> list[BatchItem]:
    """Every item of the manifest file ``path`` (``-``: standard input, paths relative to
    the working directory); paths in it are relative to the manifest's folder."""
    try:  # capped, a regular file or stdin (docs/security.md "Input limits")
        text = read_capped(path, LIST_LIMIT, kind="argument", stdin=True).decode("utf-8")
        lines = io.StringIO(text, newline=None)  # line ends as a text file reads them
        if path == "-":
            items = parse_manifest(lines, name="<stdin>", collateral_from_dir=collateral_from_dir)
            return list(items)
        folder = os.path.dirname(path) or "."
        items = parse_manifest(
            lines, folder=folder, name=path, collateral_from_dir=collateral_from_dir
        )
        return list(items)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"--manifest {path}: cannot read ({exc})", reason=Reason.INVALID_ARGUMENT
        ) from None
