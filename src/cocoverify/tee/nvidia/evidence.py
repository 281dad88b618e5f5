"""trustee's ``nvidia`` evidence JSON (``deps/verifier/src/nvidia/mod.rs``):
``{"device_evidence_list": [{"arch", "uuid"?, "evidence", "certificate"}]}``.

``evidence`` is hex or standard base64 of request || response; ``certificate`` is standard
base64 of the PEM chain text. Parsing only: nothing here is verified.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.json import loads_strict
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = ["ARCHES", "DeviceEvidence", "looks_like_json", "parse_device_list"]

#: trustee's ``arch`` spellings -> the claim value; LS10 (NVSwitch) is not a GPU report
ARCHES = {
    "HOPPER": "Hopper",
    "Hopper": "Hopper",
    "BLACKWELL": "Blackwell",
    "Blackwell": "Blackwell",
}
_KEY = b'"device_evidence_list"'
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


@dataclass(frozen=True, slots=True)
class DeviceEvidence:
    """One entry of ``device_evidence_list``, decoded."""

    arch: str
    uuid: str
    report: bytes
    chain_pem: bytes


def looks_like_json(data: bytes) -> bool:
    """A JSON object with a ``device_evidence_list`` key (cheap; never raises)."""
    head = data.lstrip()[:1]
    return head == b"{" and _KEY in data


def _bad(message: str, field: str) -> MalformedEvidence:
    return MalformedEvidence(f"nvidia evidence: {message}", field=field, reason=Reason.MALFORMED)


def _report(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise _bad(f"{field}: expected hex or base64 text", field)
    if _HEX.fullmatch(value):
        return bytes.fromhex(value)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{field}: neither hex nor standard base64", field) from None


def _device(item: Any, i: int) -> DeviceEvidence:
    where = f"device_evidence_list[{i}]"
    if not isinstance(item, Mapping):
        raise _bad(f"{where}: expected an object", where)
    arch = item.get("arch")
    if not isinstance(arch, str):
        raise _bad(f"{where}.arch: expected a string", f"{where}.arch")
    if arch not in ARCHES:
        raise UnsupportedEvidence(
            f"nvidia evidence: {where}.arch {arch!r}: device architecture not supported "
            "(Hopper and Blackwell GPUs)",
            reason=Reason.UNSUPPORTED_PRODUCT,
        )
    uuid = item.get("uuid", "unknown")
    if not isinstance(uuid, str):
        raise _bad(f"{where}.uuid: expected a string", f"{where}.uuid")
    cert = item.get("certificate")
    if not isinstance(cert, str):
        raise _bad(f"{where}.certificate: expected base64 text", f"{where}.certificate")
    try:
        pem = base64.b64decode(cert, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{where}.certificate: not standard base64", f"{where}.certificate") from None
    return DeviceEvidence(
        ARCHES[arch], uuid, _report(item.get("evidence"), f"{where}.evidence"), pem
    )


def parse_device_list(data: bytes | Mapping[str, Any]) -> tuple[DeviceEvidence, ...]:
    """Every device of the evidence JSON (bytes or the parsed object)."""
    if isinstance(data, Mapping):
        obj: Any = data
    else:
        try:
            obj = loads_strict(data)
        except ValueError:
            raise _bad("not valid JSON", "evidence") from None
    if not isinstance(obj, Mapping):
        raise _bad("expected a JSON object", "evidence")
    items = obj.get("device_evidence_list")
    if not isinstance(items, list) or not items:
        raise _bad("device_evidence_list: expected a non-empty list", "device_evidence_list")
    return tuple(_device(item, i) for i, item in enumerate(items))
