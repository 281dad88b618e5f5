"""Which files a batch verifies: paths, folders and globs, recognised by content
(docs/batch.md)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator

from cocoverify._core.io import EVIDENCE_LIMIT, read_capped
from cocoverify._core.text import decode_text
from cocoverify.batch.config import COLLATERAL_SUFFIX, BatchItem, Skipped
from cocoverify.errors import (
    EvidenceError,
)
from cocoverify.registry import detect


def looks_like_evidence(data: bytes) -> bool:
    """Content check for files found in folders: evidence, not collateral (docs/batch.md)."""
    return evidence_bytes(data) is not None


def evidence_bytes(data: bytes) -> bytes | None:
    """:func:`looks_like_evidence` that also hands back the decoded bytes it detected
    (``decode_text``: hex or base64 text decoded), or None when it is not evidence."""
    head = data.lstrip()[:16]
    if head[:1] in (b"{", b"[") or head.startswith(b"-----BEGIN"):
        return None  # JSON collateral / PEM certificates and keys
    decoded = decode_text(data)
    try:
        detect(decoded)
    except EvidenceError:
        return None
    return decoded


def _has_magic(path: str) -> bool:
    return glob.has_magic(path)


def _sibling_collateral(path: str) -> tuple[str, ...]:
    sibling = path + COLLATERAL_SUFFIX
    return (sibling,) if os.path.isdir(sibling) else ()


def clean_path(path: str) -> str:
    """``os.path.normpath`` unless the path has a ``..`` component.

    ``normpath`` is lexical: ``link/../q.bin`` becomes ``q.bin`` although, with ``link`` a
    symbolic link, it names another file. Such paths are kept as written, so the file
    read, the record's ``path`` and ``--resume`` all mean the file that was asked for.
    """
    parts = path.replace(os.sep, "/").split("/")
    if os.altsep:
        parts = [q for p in parts for q in p.split(os.altsep)]
    return path if ".." in parts else os.path.normpath(path)


def _prefix(root: str) -> str:
    """What :func:`clean_path` of ``os.path.join(root, name)`` puts before ``name``, for a
    plain file name: the root cleaned once per folder instead of once per file."""
    if clean_path(os.path.join(root, "x")) != os.path.join(root, "x"):
        folded = os.path.normpath(root)
        return "" if folded == os.curdir else os.path.join(folded, "")
    return os.path.join(root, "")


def _walk(folder: str) -> Iterator[tuple[str, str, bool]]:
    """Files under ``folder`` (sorted, as ``os.walk`` finds them: symbolic links to folders
    are not followed), each as its cleaned path (:func:`clean_path`), its real path (the
    folder's, resolved once per folder, plus the name, unless the file is itself a symbolic
    link) and whether its ``<file>.collateral/`` sibling exists. One ``scandir`` per folder:
    no system call per file (the entry's type comes with the listing)."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return  # as os.walk: an unreadable folder is left out
    dirs: list[str] = []
    files: list[os.DirEntry[str]] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            dirs.append(entry.name)
        else:
            files.append(entry)
    listed = set(dirs)
    prefix = _prefix(folder)
    real_root = os.path.join(os.path.realpath(folder), "")
    files.sort(key=lambda e: e.name)
    for entry in files:
        name = entry.name
        if name.startswith("."):
            continue
        real = os.path.realpath(entry.path) if entry.is_symlink() else real_root + name
        yield prefix + name, real, name + COLLATERAL_SUFFIX in listed
    for name in sorted(
        d for d in dirs if not d.startswith(".") and not d.endswith(COLLATERAL_SUFFIX)
    ):
        sub = os.path.join(folder, name)
        if not os.path.islink(sub):
            yield from _walk(sub)


def _in_collateral_dir(path: str) -> bool:
    parts = os.path.normpath(path).split(os.sep)
    return any(p.endswith(COLLATERAL_SUFFIX) for p in parts)


def _filtered(path: str) -> bool:
    try:  # capped (docs/security.md "Input limits"): too large or special is not evidence
        return looks_like_evidence(read_capped(path, EVIDENCE_LIMIT, kind="evidence"))
    except (OSError, EvidenceError):
        return False


def expand_inputs(
    paths: Iterable[str], *, collateral_from_dir: bool = False, check_content: bool = True
) -> list[BatchItem | Skipped]:
    """Files, folders (recursive, sorted) and globs to items, in the order given.

    Files named explicitly are always verified. Files found in a folder or by a glob are
    verified only when their content looks like evidence; the others become
    :class:`Skipped`. ``<file>.collateral/`` directories are collateral, never inputs.
    A path that does not exist is kept: its record says it cannot be read.

    ``check_content`` False: found files are not read here but become items with
    ``only_evidence``, which the worker (reading them anyway) turns into the same skip
    record; the command line does this, so each file is read once, on the workers.
    """
    out: list[BatchItem | Skipped] = []
    seen: set[str] = set()

    def add(
        path: str,
        *,
        explicit: bool,
        real: str | None = None,
        sibling: bool | None = None,
        clean: bool = False,
    ) -> None:
        norm = path if clean else clean_path(path)
        key = real or os.path.realpath(norm)  # one file reached by two names is verified once
        if key in seen:
            return
        seen.add(key)
        if not explicit and check_content and not _filtered(norm):
            out.append(Skipped(norm))
            return
        folder = (os.path.dirname(norm) or ".") if collateral_from_dir else None
        if sibling is None:
            coll = _sibling_collateral(norm)
        else:
            coll = (norm + COLLATERAL_SUFFIX,) if sibling else ()
        only = not explicit and not check_content
        out.append(BatchItem(norm, collateral=coll, collateral_dir=folder, only_evidence=only))

    for arg in paths:
        if os.path.isdir(arg):
            for f, real, sibling in _walk(arg):
                add(f, explicit=False, real=real, sibling=sibling, clean=True)
        elif not os.path.exists(arg) and _has_magic(arg):
            for match in sorted(glob.glob(arg, recursive=True)):
                if _in_collateral_dir(match):
                    continue
                if os.path.isdir(match):
                    for f, real, sibling in _walk(match):
                        add(f, explicit=False, real=real, sibling=sibling, clean=True)
                else:
                    add(match, explicit=False)
        else:
            add(arg, explicit=True)
    return out
