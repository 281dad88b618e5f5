"""docs/adding-a-tee.md, walked through: a toy TEE built exactly as the page says (a package
with detect/describe/POLICY_SECTIONS/pipeline, one TeeSpec in the registry) is detected,
verified, policed and shown by the unchanged rest of cocoverify."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType, ModuleType

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import cocoverify
from cocoverify import (
    EvidenceError,
    MeasurementMismatch,
    Policy,
    Reason,
    SignatureInvalid,
    registry,
)
from cocoverify.cli.show import describe

# Step 1 of the page: the package (parse, claims, policy, pipeline, __init__).
TOY = {
    "__init__.py": """
        from typing import Any
        from toytee.parse import looks_like, parse_report
        from toytee.claims import report_claims
        from toytee.pipeline import appraise_report
        from toytee.policy import ToyPolicy

        POLICY_SECTIONS = {"toy": ToyPolicy}

        def detect(data: bytes) -> str | None:
            return "toy" if looks_like(data) else None

        def describe(data: bytes) -> dict[str, Any]:
            return {"kind": "toy", "verified": False, "claims": report_claims(parse_report(data))}
    """,
    "parse.py": """
        from dataclasses import dataclass
        from cocoverify._core.reader import Reader

        MAGIC = b"TOY1"

        @dataclass(frozen=True, slots=True)
        class ToyReport:
            measurement: bytes
            report_data: bytes
            signed: bytes
            signature: bytes

        def looks_like(data: bytes) -> bool:
            return data[:4] == MAGIC

        def parse_report(data: bytes) -> ToyReport:
            r = Reader(data, what="toy report")
            r.take(4, "magic")
            measurement = r.take(32, "measurement")
            report_data = r.take(64, "report_data")
            signed = data[: r.pos]
            signature = r.take(r.remaining, "signature")
            return ToyReport(measurement, report_data, signed, signature)
    """,
    "claims.py": """
        from typing import Any
        from toytee.parse import ToyReport

        def report_claims(report: ToyReport) -> dict[str, Any]:
            return {"measurement": report.measurement.hex(), "report_data": report.report_data}
    """,
    "policy.py": """
        from dataclasses import dataclass
        from typing import Any
        from cocoverify._core.rules import (
            allowed_claims, hexset, section_from_dict, section_to_dict)
        from cocoverify.result import Appraisal, RuleVerdict

        @dataclass(frozen=True, slots=True)
        class ToyPolicy:
            measurement: frozenset[bytes] | None = hexset(32)

            @classmethod
            def from_dict(cls, where: str, data: dict[str, Any]) -> "ToyPolicy":
                return section_from_dict(cls, where, data)

            def to_dict(self) -> dict[str, Any]:
                return section_to_dict(self)

            def rules(self, a: Appraisal) -> list[RuleVerdict]:
                claims = {"measurement": bytes.fromhex(a.claims["measurement"])}
                return allowed_claims(self, claims, ("measurement",))
    """,
    "pipeline.py": """
        import datetime as _dt
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cocoverify.collateral import Collateral
        from cocoverify.errors import CollateralUnavailable, Reason, SignatureInvalid
        from cocoverify.result import Appraisal, freeze
        from cocoverify.trust import TrustStore
        from toytee.claims import report_claims
        from toytee.parse import parse_report

        def appraise_report(data, *, collateral: Collateral, trust: TrustStore,
                            at: _dt.datetime, source=None, require_crl: bool = False) -> Appraisal:
            report = parse_report(data)  # step 1: layout
            keys = [k for k in collateral.public_keys if isinstance(k, ec.EllipticCurvePublicKey)]
            if not keys:
                raise CollateralUnavailable("no toy key", reason=Reason.COLLATERAL_MISSING)
            try:  # step 2: signature
                keys[0].verify(report.signature, report.signed, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                raise SignatureInvalid("toy signature", reason=Reason.SIGNATURE_INVALID) from None
            return Appraisal(tee="toy", claims=freeze(report_claims(report)),
                             report_data=report.report_data)
    """,
}


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    pkg = tmp_path / "toytee"
    pkg.mkdir()
    for name, text in TOY.items():
        (pkg / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("toytee")
    # Step 2 of the page: one TeeSpec in the registry.
    spec = registry.TeeSpec(
        name="toytee",
        tees=("toy",),
        detect=module.detect,
        appraise=module.appraise_report,
        describe=module.describe,
        policy_sections=MappingProxyType(module.POLICY_SECTIONS),
        collateral=("toy signing key (PEM public key)",),
    )
    monkeypatch.setattr(registry, "TEES", (*registry.TEES, spec))
    yield module
    for name in [m for m in sys.modules if m == "toytee" or m.startswith("toytee.")]:
        del sys.modules[name]


KEY = ec.derive_private_key(0x70E, ec.SECP256R1())
MEASUREMENT = bytes(range(32))


def _evidence(tmp_path: Path) -> tuple[bytes, Path]:
    signed = b"TOY1" + MEASUREMENT + b"\x07" * 64
    sig = KEY.sign(signed, ec.ECDSA(hashes.SHA256()))
    pem = tmp_path / "toy-key.pem"
    pem.write_bytes(
        KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return signed + sig, pem


def test_new_tee_is_detected_verified_and_shown(toy: ModuleType, tmp_path: Path) -> None:
    evidence, pem = _evidence(tmp_path)
    assert registry.detect(evidence).name == "toytee"
    result = cocoverify.verify(evidence, collateral=[pem], at="2026-01-01T00:00:00Z")
    assert result.accepted and result.tee == "toy"
    assert result.claims["measurement"] == MEASUREMENT.hex()
    assert describe(evidence)["kind"] == "toy"
    tampered = evidence[:10] + bytes([evidence[10] ^ 1]) + evidence[11:]
    with pytest.raises(SignatureInvalid) as ei:
        cocoverify.verify(tampered, collateral=[pem], at="2026-01-01T00:00:00Z")
    assert ei.value.reason is Reason.SIGNATURE_INVALID


def test_new_tee_gets_its_policy_section(toy: ModuleType, tmp_path: Path) -> None:
    evidence, pem = _evidence(tmp_path)
    ok = Policy.from_dict({"allowed_tees": ["toy"], "toy": {"measurement": [MEASUREMENT.hex()]}})
    assert ok.toy.measurement == frozenset({MEASUREMENT})
    assert cocoverify.verify(evidence, collateral=[pem], policy=ok, at="2026-01-01T00:00:00Z")
    wrong = Policy.from_dict({"toy": {"measurement": ["00" * 32]}})
    with pytest.raises(MeasurementMismatch) as ei:
        cocoverify.verify(evidence, collateral=[pem], policy=wrong, at="2026-01-01T00:00:00Z")
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    # the section round-trips: an empty one is not written back
    assert Policy.from_dict({"toy": {}}).to_dict().get("toy") is None


def test_without_the_spec_the_evidence_is_unknown(tmp_path: Path) -> None:
    evidence, _ = _evidence(tmp_path)
    with pytest.raises(EvidenceError) as ei:
        registry.detect(evidence)
    assert ei.value.reason is Reason.UNKNOWN_FORMAT
