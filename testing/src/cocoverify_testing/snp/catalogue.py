"""TEST ONLY. The project's SNP vectors (``vectors/snp``): one vector per defect.

A data table: every case is one :func:`add` call. RSA-PSS signatures are reproduced with the
recorded salts of :mod:`cocoverify_testing.snp.salts` inside one
:func:`cocoverify_testing.pki.pss_signing_run`, so a run writes the committed bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify.tee.snp.parse import REPORT_SIZE, SIGNED_SIZE
from cocoverify.trust import fingerprint
from cocoverify_testing.manifest import exit_code, write_file
from cocoverify_testing.pki import make_crl, pem, pss_signing_run
from cocoverify_testing.snp import salts
from cocoverify_testing.snp.pki import (
    DEFAULT_TCB,
    EPOCH,
    VECTOR_TIME,
    FakeAmdPKI,
    default_chip_id,
    vcek_with_mgf1,
)
from cocoverify_testing.snp.report import SnpReportBuilder, cert_table, tamper

__all__ = ["generate_vectors"]


def _der(item: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return item.public_bytes(Encoding.DER)


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/snp/<id>/...`` and return the manifest entries (one per defect).

    Paths in the entries are relative to ``outdir``; ``<outdir>/snp`` is recreated. The
    same bytes every run: RSA-PSS salts are the recorded ones (see the module docstring).
    """
    salts.load()
    with pss_signing_run():
        return _write(Path(outdir))


def _write(outdir: Path) -> list[dict[str, Any]]:
    shutil.rmtree(outdir / "snp", ignore_errors=True)
    pkis = {p: FakeAmdPKI(p) for p in ("Milan", "Genoa", "Turin")}
    trust = {"amd_arks": {p: [fingerprint(k.ark)] for p, k in pkis.items()}}
    entries: list[dict[str, Any]] = []

    def add(
        vid: str,
        evidence: bytes,
        files: Sequence[tuple[str, bytes]],
        expected: str,
        features: Sequence[str],
        *,
        policy: dict[str, Any] | None = None,
        at: _dt.datetime = VECTOR_TIME,
        pin: FakeAmdPKI | None = None,
    ) -> None:
        pinned = trust
        if pin is not None:  # this vector's ARK differs from the default one: pin it
            arks = dict(trust["amd_arks"])
            arks[pin.product] = [fingerprint(pin.ark)]
            pinned = {"amd_arks": arks}
        folder = Path("snp") / vid.removeprefix("snp.")
        rel = write_file(outdir, folder / "report.bin", evidence)
        coll = [write_file(outdir, folder / fname, data) for fname, data in files]
        entries.append(
            {
                "id": vid,
                "platform": "snp",
                "evidence": rel,
                "collateral": coll,
                "trust": pinned,
                "policy": policy,
                "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expected": expected,
                "exit_code": exit_code(expected),
                "features": list(features),
                "source": "cocoverify_testing.snp.generate_vectors",
            }
        )

    def chain(
        pki: FakeAmdPKI,
        leaf: x509.Certificate,
        *,
        vlek: bool = False,
        crl: x509.CertificateRevocationList | None = None,
    ) -> list[tuple[str, bytes]]:
        files = [
            ("vlek.der" if vlek else "vcek.der", _der(leaf)),
            ("asvk.pem" if vlek else "ask.pem", pem(pki.asvk if vlek else pki.ask)),
            ("ark.pem", pem(pki.ark)),
        ]
        if crl is not None:
            files.append(("crl.der", _der(crl)))
        return files

    m, g, t = pkis["Milan"], pkis["Genoa"], pkis["Turin"]
    mb, gb, tb = (SnpReportBuilder.for_product(p) for p in ("Milan", "Genoa", "Turin"))
    mrep, grep, trep = mb.sign(m), gb.sign(g), tb.sign(t)
    mv, gv, tv = m.vcek_for(mrep), g.vcek_for(grep), t.vcek_for(trep)
    ok = ["snp"]

    # accepted
    add("snp.accept.milan_v3_vcek", mrep, chain(m, mv), "accept", [*ok, "milan", "v3", "vcek"])
    add("snp.accept.genoa_v3_vcek", grep, chain(g, gv), "accept", [*ok, "genoa", "v3", "vcek"])
    add("snp.accept.turin_v5_vcek", trep, chain(t, tv), "accept", [*ok, "turin", "v5", "fmc"])
    v2 = SnpReportBuilder.for_product("Milan", version=2).sign(m)
    add(
        "snp.accept.milan_v2_vcek",
        v2,
        chain(m, m.vcek_for(v2)),
        "accept",
        [*ok, "v2", "product_from_certificate"],
    )
    v4 = SnpReportBuilder.for_product("Milan", version=4).sign(m)
    add("snp.accept.milan_v4_vcek", v4, chain(m, m.vcek_for(v4)), "accept", [*ok, "v4"])
    vl = SnpReportBuilder.for_product("Milan", version=2).vlek().sign(m)
    add(
        "snp.accept.milan_v2_vlek",
        vl,
        chain(m, m.vlek(), vlek=True),
        "accept",
        [*ok, "v2", "vlek", "masked_chip_id"],
    )
    masked = mb.set(chip_id=bytes(64)).sign(m)
    add("snp.accept.masked_chip_id", masked, chain(m, mv), "accept", [*ok, "masked_chip_id"])
    add(
        "snp.accept.crl_checked",
        mrep,
        chain(m, mv, crl=m.crl(revoked=[0x0BAD])),
        "accept",
        [*ok, "crl"],
    )
    table = cert_table(vcek=_der(mv), ask=_der(m.ask), ark=_der(m.ark))
    add("snp.accept.cert_table", mrep + table, [], "accept", [*ok, "cert_table"])
    add(
        "snp.accept.debug_allowed_unsafe",
        mb.set(policy=0xB0000).sign(m),
        chain(m, mv),
        "accept",
        [*ok, "debug", "policy"],
        policy={"unsafe_allow_debug": True},
    )

    # chain defects
    add(
        "snp.chain.wrong_product_ark",
        mrep,
        [("vcek.der", _der(mv)), ("ask.pem", pem(m.ask)), ("ark.pem", pem(g.ark))],
        "product_mismatch",
        [*ok, "chain", "pinning"],
    )
    rogue = m.with_(ark_label="rogue")
    add(
        "snp.chain.unpinned_ark",
        mrep,
        chain(rogue, rogue.vcek_for(mrep)),
        "untrusted_root",
        [*ok, "chain", "pinning", "self_made_ark"],
    )
    bad_ask = m.with_(ask_signer="rogue")
    add(
        "snp.chain.ask_not_signed_by_ark",
        mrep,
        chain(bad_ask, bad_ask.vcek_for(mrep)),
        "chain_invalid",
        [*ok, "chain"],
    )
    add(
        "snp.chain.vcek_not_signed_by_ask",
        mrep,
        chain(m, m.vcek_for(mrep, signer="rogue")),
        "chain_invalid",
        [*ok, "chain"],
    )
    past = (EPOCH - _dt.timedelta(days=800), EPOCH + _dt.timedelta(days=300))
    future = (VECTOR_TIME + _dt.timedelta(days=1), VECTOR_TIME + _dt.timedelta(days=3000))
    exp_ark = m.with_(ark_validity=past)
    add(
        "snp.chain.ark_expired",
        mrep,
        chain(exp_ark, exp_ark.vcek_for(mrep)),
        "certificate_expired",
        [*ok, "validity"],
        pin=exp_ark,
    )
    exp_ask = m.with_(ask_validity=past)
    add(
        "snp.chain.ask_expired",
        mrep,
        chain(exp_ask, exp_ask.vcek_for(mrep)),
        "certificate_expired",
        [*ok, "validity"],
    )
    add(
        "snp.chain.vcek_expired",
        mrep,
        chain(m, m.vcek_for(mrep, validity=past)),
        "certificate_expired",
        [*ok, "validity"],
    )
    add(
        "snp.chain.vcek_not_yet_valid",
        mrep,
        chain(m, m.vcek_for(mrep, validity=future)),
        "certificate_not_yet_valid",
        [*ok, "validity"],
    )
    nyv_ask = m.with_(ask_validity=future)
    add(
        "snp.chain.ask_not_yet_valid",
        mrep,
        chain(nyv_ask, nyv_ask.vcek_for(mrep)),
        "certificate_not_yet_valid",
        [*ok, "validity"],
    )
    pkcs1 = m.with_(pss=False)
    add(
        "snp.chain.pkcs1_signatures",
        mrep,
        chain(pkcs1, pkcs1.vcek_for(mrep)),
        "certificate_profile_invalid",
        [*ok, "chain", "profile"],
        pin=pkcs1,
    )
    add(
        "snp.chain.missing_ask",
        mrep,
        [("vcek.der", _der(mv)), ("ark.pem", pem(m.ark))],
        "collateral_missing",
        [*ok, "chain"],
    )
    add(
        "snp.chain.vlek_presented_as_vcek",
        mrep,
        chain(m, m.vlek(), vlek=True),
        "key_type_mismatch",
        [*ok, "vlek", "key_type"],
    )
    vl3 = mb.vlek().sign(m)
    add(
        "snp.chain.vcek_presented_as_vlek",
        vl3,
        chain(m, mv),
        "key_type_mismatch",
        [*ok, "vlek", "key_type"],
    )
    add(
        "snp.chain.genoa_vcek_for_milan_report",
        mrep,
        chain(g, g.vcek_for(mrep)),
        "product_mismatch",
        [*ok, "product"],
    )

    # binding defects: one REPORTED_TCB component at a time
    for product, pki, builder, comps in (
        ("milan", m, mb, ("bootloader", "tee", "snp", "microcode")),
        ("turin", t, tb, ("fmc", "bootloader", "tee", "snp", "microcode")),
    ):
        base = DEFAULT_TCB[pki.product]
        rep = builder.sign(pki)
        for comp in comps:
            cert_tcb = dataclasses.replace(base, **{comp: getattr(base, comp) + 1})
            add(
                f"snp.binding.{product}_tcb_{comp}",
                rep,
                chain(pki, pki.vcek_for(rep, tcb=cert_tcb)),
                "tcb_mismatch",
                [*ok, "tcb_binding", product],
            )
    other_hw = hashlib.sha512(b"another chip").digest()
    add(
        "snp.binding.hwid_mismatch",
        mrep,
        chain(m, m.vcek_for(mrep, hwid=other_hw)),
        "chip_id_mismatch",
        [*ok, "hwid"],
    )
    add(
        "snp.binding.turin_hwid_mismatch",
        trep,
        chain(t, t.vcek_for(trep, hwid=other_hw[:8])),
        "chip_id_mismatch",
        [*ok, "hwid", "turin"],
    )
    tail = tb.set(chip_id=default_chip_id("Turin")[:8] + b"\x01" + bytes(55)).sign(t)
    add(
        "snp.binding.turin_chip_id_tail",
        tail,
        chain(t, tv),
        "chip_id_mismatch",
        [*ok, "hwid", "turin"],
    )
    add(
        "snp.binding.product_name",
        mrep,
        chain(m, m.vcek_for(mrep, product_name="Genoa")),
        "product_mismatch",
        [*ok, "product"],
    )

    # revocation
    add(
        "snp.crl.ask_revoked",
        mrep,
        chain(m, mv, crl=m.crl(revoked=[0x010001])),
        "certificate_revoked",
        [*ok, "crl"],
    )
    stale = m.crl(
        this_update=VECTOR_TIME - _dt.timedelta(days=400),
        next_update=VECTOR_TIME - _dt.timedelta(days=1),
    )
    add("snp.crl.stale", mrep, chain(m, mv, crl=stale), "crl_expired", [*ok, "crl"])
    add(
        "snp.crl.not_yet_valid",
        mrep,
        chain(m, mv, crl=m.crl(this_update=VECTOR_TIME + _dt.timedelta(days=1))),
        "crl_not_yet_valid",
        [*ok, "crl"],
    )
    add(
        "snp.crl.bad_signature",
        mrep,
        chain(m, mv, crl=m.crl(signer="rogue")),
        "crl_invalid",
        [*ok, "crl"],
    )
    add(
        "snp.crl.required_missing",
        mrep,
        chain(m, mv),
        "crl_missing",
        [*ok, "crl", "policy"],
        policy={"require_crl": True},
    )

    # signature and parsing
    add(
        "snp.signature.tampered_measurement",
        tamper(mrep, 0x090),
        chain(m, mv),
        "signature_invalid",
        [*ok, "signature"],
    )
    add(
        "snp.signature.unsigned",
        mb.set(key_info=7 << 2).unsigned(),
        chain(m, mv),
        "signature_invalid",
        [*ok, "signature"],
    )
    add(
        "snp.parse.unsupported_signature_algo",
        mb.set(signature_algo=2).sign(m),
        chain(m, mv),
        "unsupported_algorithm",
        [*ok, "parse"],
    )
    for cut in (REPORT_SIZE - 1, SIGNED_SIZE, 0x40, 8):
        add(
            f"snp.parse.truncated_{cut}",
            mrep[:cut],
            chain(m, mv),
            "truncated",
            [*ok, "parse", "truncation"],
        )
    add(
        "snp.parse.trailing_bytes",
        mrep + b"\x00" * 7,
        chain(m, mv),
        "trailing_data",
        [*ok, "parse"],
    )
    add(
        "snp.parse.reserved_nonzero",
        mb.mutate(0x1EB, 1).sign(m),
        chain(m, mv),
        "reserved_nonzero",
        [*ok, "parse", "reserved"],
    )
    add(
        "snp.parse.cert_table_truncated",
        mrep + table[:-10],
        [],
        "truncated",
        [*ok, "parse", "cert_table", "truncation"],
    )

    # regression findings (their tests are in tests/tee/snp/): one vector each
    add(
        "snp.accept.expired_twin_vcek",
        mrep,
        [("vcek-old.der", _der(m.vcek_for(mrep, validity=past))), *chain(m, mv)],
        "accept",
        [*ok, "validity", "order_independence"],
    )
    higher = dataclasses.replace(DEFAULT_TCB["Milan"], bootloader=4)
    above = mb.set(reported_tcb=higher).sign(m)
    add(
        "snp.binding.reported_above_current",
        above,
        chain(m, m.vcek_for(above)),
        "tcb_mismatch",
        [*ok, "tcb_binding"],
    )
    pkcs1_crl = make_crl(
        issuer=m.ark.subject,
        issuer_key=m.ark_key,
        this_update=VECTOR_TIME - _dt.timedelta(days=30),
        next_update=VECTOR_TIME + _dt.timedelta(days=300),
        rsa_pss=False,
    )
    add(
        "snp.crl.pkcs1_signature",
        mrep,
        chain(m, mv, crl=pkcs1_crl),
        "crl_invalid",
        [*ok, "crl", "profile"],
    )
    add(
        "snp.chain.vcek_mgf1_sha256",
        mrep,
        chain(m, vcek_with_mgf1(m, mv, hashes.SHA256())),
        "certificate_profile_invalid",
        [*ok, "chain", "profile"],
    )
    vcek_der = _der(mv)
    start = 3 * 24
    overlap = (
        uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes
        + start.to_bytes(4, "little")
        + len(vcek_der).to_bytes(4, "little")
        + uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes
        + (start + 16).to_bytes(4, "little")
        + (32).to_bytes(4, "little")
        + bytes(24)
        + vcek_der
    )
    add(
        "snp.parse.cert_table_overlap",
        mrep + overlap,
        [],
        "malformed",
        [*ok, "parse", "cert_table"],
    )

    # policy (authentic reports)
    add(
        "snp.policy.debug_rejected",
        mb.set(policy=0xB0000).sign(m),
        chain(m, mv),
        "debug_enabled",
        [*ok, "policy", "debug"],
    )
    add(
        "snp.policy.measurement",
        mrep,
        chain(m, mv),
        "measurement_mismatch",
        [*ok, "policy"],
        policy={"snp": {"measurement": ["00" * 48]}},
    )
    add(
        "snp.policy.min_reported_tcb",
        mrep,
        chain(m, mv),
        "tcb_below_minimum",
        [*ok, "policy", "tcb"],
        policy={"snp": {"min_reported_tcb": {"snp": 21}}},
    )
    add(
        "snp.policy.migration_agent",
        mb.set(policy=0x70000).sign(m),
        chain(m, mv),
        "attribute_rejected",
        [*ok, "policy"],
    )

    return entries
