"""Composite evidence: a CPU TEE's evidence and device (GPU) evidence bound to the same nonce,
verified in one call, one result with a part per device (docs/nvidia.md "Composite").

The KBS shape (trustee ``kbs/docs/kbs_attestation_protocol.md``, ``tee-evidence``)::

    {"primary_evidence": <the CPU TEE's evidence object>,
     "additional_evidence": "<JSON text: {\\"nvidia\\": {\\"device_evidence_list\\": [...]}}>"}

Parts are named as trustee names EAR submodules: ``cpu0`` for the primary evidence, then
``<class><n>`` per device of the additional evidence: an ``nvidia`` entry with several GPUs in
its ``device_evidence_list`` gives ``gpu0``, ``gpu1``, ... (one part, and one EAR submodule,
per device; trustee ``attestation-service/src/ear_token``). The primary evidence is passed
on as its bytes (raw, hex, base64 or JSON text that ``verify()`` recognises), or through the
caller's ``primary`` hook, which turns a trustee evidence object (e.g. ``SnpEvidence``
``{attestation_report, cert_chain}``) into bytes plus the collateral it carries.

The nonce: the primary part is bound to the expected report data as given; a GPU part to the
same value cut or zero-padded to the 32-byte SPDM nonce (trustee
``regularize_data(report_data, 32)``), unless the caller gives the devices' report data.

This module never verifies evidence itself: the layer above (``cocoverify.api``) passes the
per-part appraisal in as a callable, so wrappers stay independent of the TEE packages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cocoverify._core.json import loads_strict
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError, MalformedEvidence, Reason
from cocoverify.result import VerificationResult

__all__ = [
    "DEVICE_CLASSES",
    "GPU_NONCE_SIZE",
    "CompositeResult",
    "Part",
    "PartOutcome",
    "PrimaryHook",
    "kbs_parts",
    "looks_like_kbs",
    "verify_parts",
]

#: trustee's additional-evidence tee names -> the EAR submodule class
DEVICE_CLASSES: Mapping[str, str] = {"nvidia": "gpu"}
#: the SPDM GET_MEASUREMENTS nonce (DSP0274 §10.11)
GPU_NONCE_SIZE = 32


@dataclass(frozen=True, slots=True)
class Part:
    """One device's evidence and the report data it must be bound to."""

    name: str
    evidence: bytes
    expected_report_data: bytes | None = None
    #: the device class: ``cpu`` or an additional-evidence class (``gpu``)
    device_class: str = "cpu"
    #: collateral the evidence itself carries (a trustee ``cert_chain``), added to the call's
    collateral: Collateral | None = None


#: turns a primary evidence object into (bytes to verify, the collateral it carries), or None
#: when it does not recognise the object (then it is passed on as JSON text)
PrimaryHook = Callable[[Mapping[str, Any]], tuple[bytes, Collateral] | None]


@dataclass(frozen=True, slots=True)
class PartOutcome:
    """A part's verdict: the accepted result, or the error of its rejection."""

    name: str
    device_class: str
    result: VerificationResult | None
    error: CocoverifyError | None

    @property
    def accepted(self) -> bool:
        """This part passed."""
        return self.error is None and self.result is not None and self.result.accepted

    @property
    def outcome(self) -> VerificationResult | CocoverifyError:
        """What ``to_ear`` takes."""
        if self.error is not None:
            return self.error
        assert self.result is not None
        return self.result

    def to_dict(self) -> dict[str, Any]:
        """The part's JSON form (a result's, plus ``error``/``message`` when rejected)."""
        if self.error is None:
            assert self.result is not None
            return self.result.to_dict()
        result = self.error.result
        out: dict[str, Any] = (
            result.to_dict() if result is not None else {"accepted": False, "claims": None}
        )
        out["accepted"] = False
        out["reason"] = self.error.reason.value
        out["error"] = type(self.error).__name__
        out["message"] = str(self.error.args[0]) if self.error.args else ""
        out["exit_code"] = self.error.exit_code
        return out


@dataclass(frozen=True, slots=True)
class CompositeResult:
    """Every part's outcome; accepted only when every part is."""

    parts: tuple[PartOutcome, ...]

    @property
    def accepted(self) -> bool:
        """Every part accepted."""
        return all(p.accepted for p in self.parts)

    @property
    def first_error(self) -> CocoverifyError | None:
        """The first rejected part's error (its exit code is the composite's)."""
        for p in self.parts:
            if p.error is not None:
                return p.error
        return None

    @property
    def reason(self) -> Reason | None:
        """The first rejected part's reason."""
        err = self.first_error
        return err.reason if err is not None else None

    @property
    def exit_code(self) -> int:
        """0, or the first rejected part's exit code."""
        err = self.first_error
        return 0 if err is None else err.exit_code

    def part(self, name: str) -> PartOutcome:
        """The part called ``name`` (``cpu0``, ``gpu0``)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """``{"accepted", "reason", "parts": {name: part}}``."""
        reason = self.reason
        return {
            "accepted": self.accepted,
            "reason": reason.value if reason is not None else None,
            "parts": {p.name: p.to_dict() for p in self.parts},
        }


def _bad(message: str, field: str) -> MalformedEvidence:
    return MalformedEvidence(f"composite evidence: {message}", field=field, reason=Reason.MALFORMED)


def looks_like_kbs(data: bytes) -> bool:
    """A JSON object with ``primary_evidence`` and ``additional_evidence`` (never raises)."""
    head = data.lstrip()[:1]
    return head == b"{" and b'"primary_evidence"' in data and b'"additional_evidence"' in data


def _regularize(data: bytes | None, size: int) -> bytes | None:
    """trustee ``regularize_data``: cut or zero-pad to ``size`` bytes."""
    if data is None:
        return None
    return data[:size].ljust(size, b"\x00")


def _as_bytes(value: Any, field: str) -> bytes:
    if isinstance(value, Mapping):
        return json.dumps(value).encode()
    if isinstance(value, str):
        return value.encode()
    raise _bad(f"{field}: expected an object or text", field)


def _primary(value: Any, hook: PrimaryHook | None, expected: bytes | None) -> Part:
    if hook is not None and isinstance(value, Mapping):
        converted = hook(value)
        if converted is not None:
            data, carried = converted
            return Part("cpu0", data, expected, collateral=carried)
    return Part("cpu0", _as_bytes(value, "primary_evidence"), expected)


def _devices(tee: str, evidence: Any) -> list[Any]:
    """One evidence object per device: an ``nvidia`` list is split into single-device lists
    (each keeps its own chain); anything else is one device."""
    if isinstance(evidence, str):
        try:
            evidence = loads_strict(evidence)
        except ValueError:
            raise _bad(
                f"additional_evidence.{tee} is not JSON", f"additional_evidence.{tee}"
            ) from None
    items = evidence.get("device_evidence_list") if isinstance(evidence, Mapping) else None
    if tee != "nvidia" or not isinstance(items, list) or len(items) < 2:
        return [evidence]
    rest = {k: v for k, v in evidence.items() if k != "device_evidence_list"}
    return [{**rest, "device_evidence_list": [item]} for item in items]


def kbs_parts(
    tee_evidence: bytes | str | Mapping[str, Any],
    *,
    expected_report_data: bytes | None = None,
    device_report_data: bytes | None = None,
    primary: PrimaryHook | None = None,
) -> tuple[Part, ...]:
    """The parts of KBS ``tee-evidence`` (``primary_evidence`` + ``additional_evidence``):
    ``cpu0``, then one part per device (``gpu0``, ``gpu1``, ...)."""
    obj: Any = tee_evidence
    if not isinstance(obj, Mapping):
        try:
            obj = loads_strict(obj)
        except ValueError:
            raise _bad("not valid JSON", "tee-evidence") from None
    if not isinstance(obj, Mapping) or "primary_evidence" not in obj:
        raise _bad("expected {primary_evidence, additional_evidence}", "tee-evidence")
    parts = [_primary(obj["primary_evidence"], primary, expected_report_data)]
    extra: Any = obj.get("additional_evidence") or "{}"
    if isinstance(extra, str):
        try:
            extra = loads_strict(extra)
        except ValueError:
            raise _bad("additional_evidence is not JSON text", "additional_evidence") from None
    if not isinstance(extra, Mapping):
        raise _bad("additional_evidence: expected a map of tee to evidence", "additional_evidence")
    counts: dict[str, int] = {}
    for tee, evidence in extra.items():
        cls = DEVICE_CLASSES.get(tee)
        if cls is None:
            raise MalformedEvidence(
                f"composite evidence: additional evidence for tee {tee!r} is not supported "
                f"(supported: {', '.join(DEVICE_CLASSES)})",
                field=f"additional_evidence.{tee}",
                reason=Reason.UNSUPPORTED_TEE_TYPE,
            )
        nonce = device_report_data
        if nonce is None:
            nonce = _regularize(expected_report_data, GPU_NONCE_SIZE)
        for device in _devices(tee, evidence):
            n = counts.get(cls, 0)
            counts[cls] = n + 1
            parts.append(
                Part(f"{cls}{n}", _as_bytes(device, f"additional_evidence.{tee}"), nonce, cls)
            )
    return tuple(parts)


def verify_parts(
    parts: Sequence[Part], appraise: Callable[[Part], VerificationResult]
) -> CompositeResult:
    """Run ``appraise`` on every part (the layer above passes ``Verifier.verify`` in); a part's
    CocoverifyError is its rejection, never the others'. Every part runs, so the result
    shows each device's verdict."""
    if not parts:
        raise _bad("no parts", "tee-evidence")
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise _bad(f"part names repeat: {names}", "tee-evidence")
    out = []
    for part in parts:
        try:
            out.append(PartOutcome(part.name, part.device_class, appraise(part), None))
        except CocoverifyError as exc:
            out.append(PartOutcome(part.name, part.device_class, exc.result, exc))
    return CompositeResult(tuple(out))
