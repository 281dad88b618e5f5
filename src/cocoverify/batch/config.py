"""Batch settings and work items: small, picklable and hashable (docs/batch.md)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import errno
import json
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Final

from cocoverify import registry
from cocoverify._core.io import EVIDENCE_LIMIT, read_capped
from cocoverify.api import as_time
from cocoverify.errors import MalformedEvidence
from cocoverify.policy import Policy
from cocoverify.result import format_time
from cocoverify.trust import TrustStore

#: Claims copied into each record (when the evidence has them), as lower-case hex / ints: the
#: key claims of every registered kind (``TeeSpec.key_claims``).
KEY_CLAIMS: Final = registry.key_claims()

#: Suffix of the per-evidence sibling collateral directory (``quote.bin.collateral/``).
COLLATERAL_SUFFIX: Final = ".collateral"


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """Shared verification settings, picklable and hashable (plain text and tuples).

    Build it with :meth:`create`. ``policy_json`` is ``Policy.to_dict()`` as JSON (None =
    default policy); ``trust_pins`` is every field of the :class:`TrustStore` as sorted
    fingerprints (None = the real vendor roots); ``at`` is ISO 8601 text, fixed once for the
    whole batch.
    """

    at: str
    collateral: tuple[str, ...] = ()
    policy_json: str | None = None
    trust_pins: TrustPins | None = None

    @classmethod
    def create(
        cls,
        *,
        collateral: Iterable[str | os.PathLike[str]] = (),
        policy: Policy | Mapping[str, Any] | None = None,
        trust: TrustStore | None = None,
        at: _dt.datetime | str | None = None,
    ) -> BatchConfig:
        """Normalise settings; ``at`` None means now (taken once, here)."""
        pol = Policy.from_dict(dict(policy)) if isinstance(policy, Mapping) else policy
        return cls(
            at=format_time(as_time(at)),
            collateral=tuple(os.fspath(p) for p in collateral),
            policy_json=None if pol is None else json.dumps(pol.to_dict(), sort_keys=True),
            trust_pins=None if trust is None else trust_pins(trust),
        )

    def policy(self) -> Policy:
        """The policy object."""
        if self.policy_json is None:
            return Policy.default()
        return Policy.from_dict(json.loads(self.policy_json))

    def trust(self) -> TrustStore:
        """The trust store."""
        if self.trust_pins is None:
            return TrustStore.default()
        kwargs: dict[str, Any] = {}
        for name, kind, values in self.trust_pins:
            if kind == "map":
                kwargs[name] = {key: frozenset(fps) for key, fps in values}
            else:
                kwargs[name] = frozenset(values)
        return TrustStore(**kwargs)


#: A TrustStore as plain tuples: (field, "set", fingerprints) or (field, "map", ((key,
#: fingerprints), ...)), every field present, all sorted (so equal stores are equal pins).
TrustPins = tuple[tuple[str, str, tuple[Any, ...]], ...]


def trust_pins(trust: TrustStore) -> TrustPins:
    """Every pinned fingerprint set of ``trust``, field by field. A field of another shape
    is an error, never dropped: a dropped field would come back as its default (the real
    vendor roots), trusting what the caller did not pin."""
    out: list[tuple[str, str, tuple[Any, ...]]] = []
    for f in dataclasses.fields(trust):
        value = getattr(trust, f.name)
        if isinstance(value, Mapping):
            items = tuple(sorted((str(k), tuple(sorted(v))) for k, v in value.items()))
            out.append((f.name, "map", items))
        elif isinstance(value, frozenset | set):
            out.append((f.name, "set", tuple(sorted(value))))
        else:
            raise TypeError(f"TrustStore.{f.name}: cannot carry a {type(value).__name__}")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One piece of evidence: read from ``path`` in the worker unless ``data`` is given.

    ``collateral`` adds paths to the config's shared collateral; ``collateral_dir`` adds the
    collateral files directly in that folder (not its sub-folders, so no other evidence
    file's ``<file>.collateral/`` or case folder leaks in); ``config`` overrides the batch
    config for this item. ``only_evidence``: a file found in a folder or by a glob; the
    worker, which reads it anyway, skips it (a :class:`Skipped` record) unless its content
    is evidence, or when it cannot be read.

    From a manifest line (docs/batch.md "Manifest"): ``at`` (ISO 8601 text) replaces the
    config's time for this item only, ``report_data`` is the expected report data (nonce;
    a mismatch is a policy rejection), ``id`` is copied into the record. Items that differ
    only in these share the config's loaded collateral.
    """

    path: str
    data: bytes | None = None
    collateral: tuple[str, ...] = ()
    config: BatchConfig | None = None
    collateral_dir: str | None = None
    only_evidence: bool = False
    at: str | None = None
    report_data: bytes | None = None
    id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # the fields as arguments: 5x cheaper to pickle than a slots dataclass's state
        fields = (self.path, self.data, self.collateral, self.config, self.collateral_dir)
        return (BatchItem, (*fields, self.only_evidence, self.at, self.report_data, self.id))

    def read(self) -> bytes:
        """``data``, or the file's bytes: four system calls (``open``, ``fstat``, ``read``,
        ``close``), at most ``EVIDENCE_LIMIT`` (docs/security.md "Input limits"); a larger
        or special file (FIFO, device) is MalformedEvidence. OSError names the path."""
        if self.data is not None:
            return self.data
        try:
            return read_capped(self.path, EVIDENCE_LIMIT, kind="evidence")
        except OSError as exc:
            if exc.filename is None:
                raise type(exc)(exc.errno, exc.strerror, self.path) from None
            raise
        except MalformedEvidence:
            if os.path.isdir(self.path):  # as open() says it (an unreadable input, exit 1)
                raise IsADirectoryError(
                    errno.EISDIR, os.strerror(errno.EISDIR), self.path
                ) from None
            raise

    def wire(self) -> BatchItem | str:
        """What travels to a worker: the bare path when that is all there is."""
        plain = self.data is None and not self.collateral and self.config is None
        manifest = self.at is not None or self.report_data is not None or self.id is not None
        if plain and not manifest and self.collateral_dir is None and not self.only_evidence:
            return self.path
        return self


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input found in a folder or glob that is not evidence (recorded, not verified)."""

    path: str
    why: str = "not evidence"

    def record(self) -> dict[str, Any]:
        """The JSON line for it."""
        return {"path": self.path, "skipped": self.why}


class InlineExecutor(Executor):
    """Runs each task at submit time in this process (``--jobs 1``, tests, debugging)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run now; the future is already done."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future
