"""TEST ONLY. SPDM 1.1 GET_MEASUREMENTS request || MEASUREMENTS response, signed by a fake
device key (docs/nvidia.md "Layout"), one override per field, and one-defect negatives."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cocoverify.reasons import Reason
from cocoverify_testing.nvidia.pki import FakeNvidiaPki
from cocoverify_testing.pki import fill, sign_ecdsa_raw

__all__ = ["NEGATIVES", "Negative", "ReportSpec", "build_report", "evidence_json"]

NONCE = fill("nvidia-nonce", 32)


def _default_blocks() -> tuple[tuple[int, int, int, bytes], ...]:
    return tuple((i, 1, 1, fill(f"nvidia-measurement-{i}", 48)) for i in range(1, 65))


def _default_opaque(fwid: bytes) -> tuple[tuple[int, bytes], ...]:
    return (
        (6, bytes.fromhex("009f009601000000")),  # VBIOS 96.00.9f.00.01
        (15, b"882\x00"),
        (3, b"550.90.07\x00\x00"),
        (12, b"".join(i.to_bytes(4, "little") for i in (0, 1, 4, 1))),
        (20, fwid),
        (21, b"U"),
    )


@dataclass(frozen=True)
class ReportSpec:
    """Every field of the report; ``None`` fields take the defaults of the PKI."""

    nonce: bytes = NONCE
    version: int = 0x11
    response_version: int = 0x11
    code: int = 0xE0
    param1: int = 1
    param2: int = 0xFF
    slot: int = 0
    blocks: tuple[tuple[int, int, int, bytes], ...] = field(default_factory=_default_blocks)
    responder_nonce: bytes = fill("nvidia-responder-nonce", 32)
    opaque: tuple[tuple[int, bytes], ...] | None = None
    trailing: bytes = b""
    #: flip a bit of the signature (after signing)
    bad_signature: bool = False
    #: sign with another device's leaf key
    signer: FakeNvidiaPki | None = None
    #: change one byte of the signed bytes after signing (offset from the start)
    tamper_at: int | None = None


def build_report(pki: FakeNvidiaPki, spec: ReportSpec | None = None) -> bytes:
    """The signed report bytes."""
    s = spec or ReportSpec()
    request = bytes([s.version, s.code, s.param1, s.param2]) + s.nonce + bytes([s.slot])
    record = b"".join(
        bytes([index, sp])
        + (3 + len(v)).to_bytes(2, "little")
        + bytes([vt])
        + len(v).to_bytes(2, "little")
        + v
        for index, sp, vt, v in s.blocks
    )
    opaque_items = s.opaque if s.opaque is not None else _default_opaque(pki.fwid)
    opaque = b"".join(
        t.to_bytes(2, "little") + len(v).to_bytes(2, "little") + v for t, v in opaque_items
    )
    response = (
        bytes([s.response_version, 0x60, 0, 0, len(s.blocks)])
        + len(record).to_bytes(3, "little")
        + record
        + s.responder_nonce
        + len(opaque).to_bytes(2, "little")
        + opaque
    )
    signed = request + response
    signer = s.signer or pki
    signature = sign_ecdsa_raw(signer.key("leaf"), signed)
    if s.bad_signature:
        signature = signature[:-1] + bytes([signature[-1] ^ 1])
    if s.tamper_at is not None:
        signed = (
            signed[: s.tamper_at] + bytes([signed[s.tamper_at] ^ 0x01]) + signed[s.tamper_at + 1 :]
        )
    return signed + signature + s.trailing


def evidence_json(devices: list[tuple[FakeNvidiaPki, bytes]], *, arch: str = "HOPPER") -> bytes:
    """trustee's ``{"device_evidence_list": [...]}`` for (pki, report) pairs."""
    items = [
        {
            "arch": arch,
            "uuid": f"GPU-{n:08x}",
            "evidence": report.hex(),
            "certificate": base64.b64encode(pki.chain_pem()).decode(),
        }
        for n, (pki, report) in enumerate(devices)
    ]
    return json.dumps({"device_evidence_list": items}).encode()


@dataclass(frozen=True)
class Negative:
    """One defect: the report, the chain PEM, the expected reason and exit code."""

    name: str
    make: Callable[[FakeNvidiaPki], tuple[bytes, bytes]]
    reason: Reason
    exit_code: int


def _spec(**kw: Any) -> Callable[[FakeNvidiaPki], tuple[bytes, bytes]]:
    return lambda pki: (build_report(pki, replace(ReportSpec(), **kw)), pki.chain_pem())


def _chain(roles: tuple[str, ...]) -> Callable[[FakeNvidiaPki], tuple[bytes, bytes]]:
    return lambda pki: (build_report(pki), pki.chain_pem(roles))


def _other_fwid(pki: FakeNvidiaPki) -> tuple[bytes, bytes]:
    other = replace(pki, fwid=fill("other-fwid", 48))
    return build_report(other), pki.chain_pem()


def _other_device(pki: FakeNvidiaPki) -> tuple[bytes, bytes]:
    return build_report(pki, ReportSpec(signer=FakeNvidiaPki(label="gpu9"))), pki.chain_pem()


def _truncated(pki: FakeNvidiaPki) -> tuple[bytes, bytes]:
    return build_report(pki)[:-10], pki.chain_pem()


_NO_FWID_OPAQUE = ((6, bytes(10)), (3, b"550.90.07"))

#: one defect each, against FakeNvidiaPki() and its trust store, nonce ``NONCE``
NEGATIVES: tuple[Negative, ...] = (
    Negative(
        "spdm-version-1.2",
        _spec(version=0x12, response_version=0x12),
        Reason.UNSUPPORTED_VERSION,
        2,
    ),
    Negative("response-version", _spec(response_version=0x10), Reason.UNSUPPORTED_VERSION, 2),
    Negative("no-signature-requested", _spec(param1=0), Reason.MALFORMED, 2),
    Negative(
        "non-dmtf-block", _spec(blocks=((1, 2, 1, bytes(48)),)), Reason.UNSUPPORTED_VERSION, 2
    ),
    Negative("duplicate-block", _spec(blocks=((1, 1, 1, bytes(48)),) * 2), Reason.MALFORMED, 2),
    Negative(
        "unknown-opaque-type",
        _spec(opaque=((99, b"x"), (6, bytes(10)), (3, b"1"))),
        Reason.MALFORMED,
        2,
    ),
    Negative(
        "duplicate-opaque-type",
        _spec(opaque=((3, b"1"), (3, b"2"), (6, bytes(10)))),
        Reason.MALFORMED,
        2,
    ),
    Negative("no-driver-version", _spec(opaque=((6, bytes(10)),)), Reason.MALFORMED, 2),
    Negative("truncated", _truncated, Reason.TRUNCATED, 2),
    Negative("bad-signature", _spec(bad_signature=True), Reason.SIGNATURE_INVALID, 3),
    Negative("tampered-measurement", _spec(tamper_at=37 + 8 + 10), Reason.SIGNATURE_INVALID, 3),
    Negative("signed-by-other-device", _other_device, Reason.SIGNATURE_INVALID, 3),
    Negative("fwid-mismatch", _other_fwid, Reason.BINDING_INVALID, 3),
    Negative("fwid-absent-in-report", _spec(opaque=_NO_FWID_OPAQUE), Reason.BINDING_INVALID, 3),
    Negative("chain-root-only", _chain(("root",)), Reason.CHAIN_INVALID, 3),
    Negative(
        "chain-missing-ica", _chain(("leaf", "brom", "identity", "root")), Reason.CHAIN_INVALID, 3
    ),
    Negative(
        "chain-leaf-removed",
        _chain(("brom", "ica", "identity", "root")),
        Reason.CERTIFICATE_PROFILE_INVALID,
        3,
    ),
    Negative(
        "chain-no-root", _chain(("leaf", "brom", "ica", "identity")), Reason.UNTRUSTED_ROOT, 3
    ),
)
