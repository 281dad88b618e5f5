"""NVIDIA Reference Integrity Manifests (RIMs): golden measurement values as collateral.

A RIM is a SWID tag (ISO/IEC 19770-2:2015 ``SoftwareIdentity`` XML) that NVIDIA publishes per
driver and per VBIOS version, signed with XML-DSig under NVIDIA's RIM root
(docs/nvidia.md "RIM files"). Read here: the ``version`` of the tag (a driver version such as
``550.90.07`` or a VBIOS version such as ``96.00.9F.00.01``), and each ``Payload/Resource``
of ``type="Measurement"``: ``index``, ``active``, ``alternatives`` and the alternatives'
values ``Hash0``, ``Hash1``, ... (attributes in a digest-method namespace such as
``http://www.w3.org/2001/04/xmldsig-more#sha384``, hex).

**The XML-DSig signature is NOT verified**: a RIM's values are taken as the caller gives
them, like a reference-values file, and every record says ``signature_verified: false``.

A RIM's ``index`` counts from 0; the report's measurement blocks count from 1 (DSP0274
§10.11.1). RIM index ``i`` is block ``i + 1`` (our reading of NVIDIA's local verifier, which
lists block ``n`` at position ``n - 1``). XML with a DOCTYPE or entity declaration is
refused before parsing (no entity expansion), as is a file over 4 MiB.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, Reason

__all__ = [
    "DOCUMENT_KEY",
    "Rim",
    "RimMeasurement",
    "parse_rim",
    "reference_blocks",
    "rim_document",
    "rims_for",
    "rims_in",
]

#: the collateral document that carries one RIM's XML text
DOCUMENT_KEY = "swid_tag"
MAX_SIZE = 4 << 20
_SWID_NS = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}
_HASH_ATTR = re.compile(r"\{([^}]*)\}Hash(\d+)")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


@dataclass(frozen=True, slots=True)
class RimMeasurement:
    """One ``Resource type="Measurement"``: its alternatives' values."""

    index: int
    active: bool
    values: frozenset[bytes]
    algorithm: str


@dataclass(frozen=True, slots=True)
class Rim:
    """One RIM's identity and measurements (signature not verified)."""

    tag_id: str
    name: str
    version: str
    measurements: tuple[RimMeasurement, ...]
    has_signature: bool
    source: str

    def record(self) -> dict[str, object]:
        """What the appraisal's collateral record says about this RIM."""
        return {
            "tag_id": self.tag_id,
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "active_measurements": sum(m.active for m in self.measurements),
            "signature_present": self.has_signature,
            "signature_verified": False,
        }


def rim_document(xml: bytes | str) -> dict[str, str]:
    """The collateral document for a RIM file (for ``Collateral(documents=...)``)."""
    return {DOCUMENT_KEY: xml.decode("utf-8") if isinstance(xml, bytes) else xml}


def _bad(where: str, message: str) -> CollateralInvalid:
    return CollateralInvalid(f"NVIDIA RIM {where}: {message}", reason=Reason.COLLATERAL_MALFORMED)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _measurement(el: ET.Element, where: str) -> RimMeasurement:
    attrs = el.attrib
    try:
        index = int(attrs["index"])
        count = int(attrs.get("alternatives", "1"))
    except (KeyError, ValueError):
        raise _bad(where, "a Measurement without an integer index / alternatives") from None
    if not 0 <= index <= 253 or not 1 <= count <= 64:
        raise _bad(where, f"Measurement index {index} / alternatives {count} out of range")
    active = attrs.get("active", "").lower()
    if active not in ("true", "false"):
        raise _bad(where, f"Measurement {index}: active is neither True nor False")
    found: dict[int, tuple[str, str]] = {}
    for key, value in attrs.items():
        m = _HASH_ATTR.fullmatch(key)
        if m:
            found[int(m.group(2))] = (m.group(1).rsplit("#", 1)[-1].lower(), value)
    values = set()
    algorithms = set()
    for i in range(count):
        if i not in found:
            raise _bad(where, f"Measurement {index}: Hash{i} of {count} alternatives missing")
        alg, text = found[i]
        size = _DIGESTS.get(alg)
        if size is None or not _HEX.fullmatch(text) or len(text) != 2 * size:
            raise _bad(where, f"Measurement {index}: Hash{i} is not a {alg} digest in hex")
        values.add(bytes.fromhex(text))
        algorithms.add(alg)
    if len(algorithms) != 1:
        raise _bad(where, f"Measurement {index}: alternatives mix digest algorithms")
    return RimMeasurement(index, active == "true", frozenset(values), algorithms.pop())


def parse_rim(data: bytes | str, *, source: str = "<rim>") -> Rim:
    """A RIM's identity and measurements; CollateralInvalid when it is not one."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_SIZE:
        raise _bad(source, f"{len(raw)} bytes, over {MAX_SIZE}")
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise _bad(source, "DOCTYPE or entity declarations are refused")
    try:
        root = ET.fromstring(raw)
    except (ET.ParseError, LookupError, ValueError) as exc:  # LookupError: unknown encoding
        raise _bad(source, f"not XML ({type(exc).__name__})") from None
    if root.tag != f"{{{_SWID_NS}}}SoftwareIdentity":
        raise _bad(source, f"root element {root.tag!r} is not a SWID SoftwareIdentity")
    version = root.attrib.get("version", "")
    if not version:
        raise _bad(source, "SoftwareIdentity has no version")
    payloads = [c for c in root if _local(c.tag) == "Payload"]
    if len(payloads) != 1:
        raise _bad(source, f"{len(payloads)} Payload elements, expected one")
    items = [
        _measurement(el, source)
        for el in payloads[0]
        if _local(el.tag) == "Resource" and el.attrib.get("type") == "Measurement"
    ]
    indices = [m.index for m in items]
    if len(set(indices)) != len(indices):
        raise _bad(source, "a Measurement index repeats")
    signed = any(_local(c.tag) == "Signature" for c in root)
    return Rim(
        root.attrib.get("tagId", ""),
        root.attrib.get("name", ""),
        version,
        tuple(sorted(items, key=lambda m: m.index)),
        signed,
        source,
    )


def rims_in(collateral: Collateral) -> tuple[Rim, ...]:
    """Every RIM document of the collateral, parsed."""
    out = []
    for n, doc in enumerate(collateral.documents):
        if isinstance(doc, Mapping) and DOCUMENT_KEY in doc:
            text = doc[DOCUMENT_KEY]
            if not isinstance(text, str):
                raise _bad(f"document #{n}", "expected XML text")
            out.append(parse_rim(text, source=f"document #{n}"))
    return tuple(out)


def rims_for(rims: Iterable[Rim], versions: Iterable[str]) -> tuple[Rim, ...]:
    """The RIMs whose version is one of the device's (driver, VBIOS; case-insensitive)."""
    wanted = {v.lower() for v in versions if v}
    return tuple(r for r in rims if r.version.lower() in wanted)


def reference_blocks(rims: Iterable[Rim]) -> dict[int, frozenset[bytes]]:
    """Block index (RIM index + 1) -> allowed values, from the active measurements; an index
    active in two RIMs is a collateral error (which one would hold is undefined)."""
    out: dict[int, frozenset[bytes]] = {}
    owner: dict[int, str] = {}
    for rim in rims:
        for m in rim.measurements:
            if not m.active:
                continue
            block = m.index + 1
            if block in out:
                raise CollateralInvalid(
                    f"NVIDIA RIMs {owner[block]} and {rim.tag_id or rim.source} both set "
                    f"measurement index {m.index}",
                    reason=Reason.COLLATERAL_MISMATCH,
                )
            out[block] = m.values
            owner[block] = rim.tag_id or rim.source
    return out
