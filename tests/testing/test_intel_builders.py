"""Self-tests of the TEST-ONLY Intel fakes: layouts, signatures, extension, collateral.

Independent of the verifier: everything is checked with ``cryptography`` and a tiny DER
reader written here, against the layouts of QVL `QuoteStructures.h` and the PCS formats.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtensionOID

from cocoverify_testing import intel as fi
from cocoverify_testing.intel import (
    INTEL_QE_VENDOR_ID,
    NOW,
    SGX_EXTENSION_OID,
    FakeIntelPKI,
    QuoteBuilder,
)

from _shared import require_shared

PKI = FakeIntelPKI()
INTEL_DN = "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN={}"  # RFC 4514 order


# --- independent helpers -------------------------------------------------------------------


def der_read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, content, next position) of one DER TLV."""
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        length, hdr = first, 2
    else:
        n = first & 0x7F
        length, hdr = int.from_bytes(data[pos + 2 : pos + 2 + n], "big"), 2 + n
    start = pos + hdr
    assert start + length <= len(data)
    return tag, data[start : start + length], start + length


def der_items(content: bytes) -> list[tuple[int, bytes]]:
    out = []
    pos = 0
    while pos < len(content):
        tag, value, pos = der_read(content, pos)
        out.append((tag, value))
    return out


def oid_text(content: bytes) -> str:
    arcs: list[int] = []
    value = 0
    for b in content:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    return ".".join(
        str(a) for a in [min(first // 40, 2), first - 40 * min(first // 40, 2), *arcs[1:]]
    )


def decode_sgx_extension(value: bytes) -> dict[str, Any]:
    """OID suffix → decoded value (QVL `ParserUtils.h`, the Intel SGX PCK extension)."""
    tag, content, end = der_read(value)
    assert tag == 0x30 and end == len(value)
    out: dict[str, Any] = {}
    for tag, entry in der_items(content):
        assert tag == 0x30
        (otag, oid), (vtag, v) = der_items(entry)
        assert otag == 0x06
        suffix = oid_text(oid).removeprefix(SGX_EXTENSION_OID + ".")
        if vtag == 0x30:
            sub: dict[str, Any] = {}
            for stag, s in der_items(v):
                assert stag == 0x30
                (_, soid), (svtag, sv) = der_items(s)
                key = oid_text(soid).removeprefix(f"{SGX_EXTENSION_OID}.{suffix}.")
                sub[key] = (svtag, sv)
            out[suffix] = sub
        else:
            out[suffix] = (vtag, v)
    return out


def pub_from_raw(raw: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)


def verify_raw(key: ec.EllipticCurvePublicKey, sig: bytes, msg: bytes) -> None:
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    key.verify(encode_dss_signature(r, s), msg, ec.ECDSA(hashes.SHA256()))


def parse_quote(q: bytes) -> dict[str, Any]:
    """A minimal re-reading of the quote layout (QVL `QuoteStructures.h`), asserts only."""
    version = struct.unpack_from("<H", q, 0)[0]
    out: dict[str, Any] = {"version": version}
    if version == 5:
        btype, bsize = struct.unpack_from("<HI", q, 48)
        out["body_type"], body_off, body_len = btype, 54, bsize
    else:
        body_off, body_len = 48, 384 if version == 3 else 584
    out["signed"] = q[: body_off + body_len]
    out["body"] = q[body_off : body_off + body_len]
    pos = body_off + body_len
    sig_len = struct.unpack_from("<I", q, pos)[0]
    pos += 4
    out["sig_data"] = q[pos : pos + sig_len]
    assert len(out["sig_data"]) == sig_len
    sd = out["sig_data"]
    out["signature"], out["attest_key"] = sd[:64], sd[64:128]
    p = 128
    if version != 3:
        out["outer_type"], outer_size = struct.unpack_from("<HI", sd, p)
        p += 6
        assert p + outer_size == len(sd)
    out["qe_report"] = sd[p : p + 384]
    out["qe_sig"] = sd[p + 384 : p + 448]
    p += 448
    auth_len = struct.unpack_from("<H", sd, p)[0]
    out["auth"] = sd[p + 2 : p + 2 + auth_len]
    p += 2 + auth_len
    out["cert_type"], size = struct.unpack_from("<HI", sd, p)
    out["cert_data"] = sd[p + 6 : p + 6 + size]
    assert p + 6 + size == len(sd)
    return out


def chain_of(cert_data: bytes) -> list[x509.Certificate]:
    blocks = re.findall(
        rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", cert_data, re.S
    )
    return [x509.load_pem_x509_certificate(b) for b in blocks]


BUILDERS = {
    "sgx_v3": QuoteBuilder.sgx(),
    "sgx_v5": QuoteBuilder.sgx(version=5),
    "tdx_v4": QuoteBuilder.tdx(),
    "tdx_v5_td10": QuoteBuilder.tdx(version=5, body_type=2),
    "tdx_v5_td15": QuoteBuilder.tdx(version=5, body_type=3),
}


# --- quote layout --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "version", "body_off", "body_len", "report_data_off"),
    [
        ("sgx_v3", 3, 48, 384, 368),
        ("sgx_v5", 5, 54, 384, 374),
        ("tdx_v4", 4, 48, 584, 568),
        ("tdx_v5_td10", 5, 54, 584, 574),
        ("tdx_v5_td15", 5, 54, 648, 574),
    ],
)
def test_layout_offsets(
    kind: str, version: int, body_off: int, body_len: int, report_data_off: int
) -> None:
    b = BUILDERS[kind]
    built = b.build(PKI)
    q = built.data
    assert struct.unpack_from("<HHI", q, 0) == (version, 2, 0 if kind.startswith("sgx") else 0x81)
    assert q[12:28] == INTEL_QE_VENDOR_ID
    assert built.field("body").offset == body_off
    assert built.field("body").size == body_len
    assert built.field("body.report_data").offset == report_data_off
    assert built.field("sig_data_len").offset == body_off + body_len
    assert struct.unpack_from("<I", q, body_off + body_len)[0] == len(q) - body_off - body_len - 4
    if version == 5:
        expected_type = {"sgx_v5": 1, "tdx_v5_td10": 2, "tdx_v5_td15": 3}[kind]
        assert struct.unpack_from("<HI", q, 48) == (expected_type, body_len)
    # fields tile the quote: each starts where the previous top-level one ended
    top = [f for f in built.fields if "." not in f.name or f.name.startswith("qe_cert_data.")]
    pos = body_off + body_len
    for f in top:
        if f.offset >= pos:
            assert f.offset == pos, f.name
            pos = f.end
    assert pos == len(q)


def test_body_field_offsets_match_the_spec() -> None:
    sgx = dict((n, (o, s)) for n, o, s in fi.SGX_REPORT_FIELDS)
    assert sgx["mr_enclave"] == (64, 32)
    assert sgx["mr_signer"] == (128, 32)
    assert sgx["isv_prod_id"] == (256, 2)
    assert sgx["isv_family_id"] == (304, 16)
    assert sgx["report_data"] == (320, 64)
    for layout, size in ((fi.SGX_REPORT_FIELDS, 384), (fi.TD10_FIELDS, 584), (fi.TD15_FIELDS, 648)):
        pos = 0
        for _, off, n in layout:
            assert off == pos
            pos += n
        assert pos == size
    td = dict((n, (o, s)) for n, o, s in fi.TD15_FIELDS)
    assert td["td_attributes"] == (120, 8)
    assert td["rtmr3"] == (472, 48)
    assert td["tee_tcb_svn2"] == (584, 16)
    assert td["mr_service_td"] == (600, 48)


def test_every_body_setter_lands_at_its_offset() -> None:
    b = QuoteBuilder.sgx()
    q = (
        b.mr_enclave(b"\x01" * 32)
        .mr_signer(b"\x02" * 32)
        .isv_prod_id(0x0304)
        .isv_svn(0x0506)
        .config_id(b"\x07" * 64)
        .config_svn(9)
        .isv_ext_prod_id(b"\x0a" * 16)
        .isv_family_id(b"\x0b" * 16)
        .miscselect(0x0C)
        .report_data(b"nonce")
        .sign(PKI)
    )
    body = q[48 : 48 + 384]
    assert body[64:96] == b"\x01" * 32
    assert body[128:160] == b"\x02" * 32
    assert body[256:260] == bytes.fromhex("04030605")
    assert body[192:256] == b"\x07" * 64
    assert body[260:262] == b"\x09\x00"
    assert body[32:48] == b"\x0a" * 16
    assert body[304:320] == b"\x0b" * 16
    assert body[16:20] == b"\x0c\x00\x00\x00"
    assert body[320:384] == b"nonce".ljust(64, b"\x00")

    t = (
        QuoteBuilder.tdx(version=5, body_type=3)
        .mr_td(b"\x11" * 48)
        .rtmr(2, b"\x12" * 48)
        .td_attributes(1 << 28 | 1)
        .seam_attributes(2)
        .tee_tcb_svn2(b"\x13" * 16)
        .mr_service_td(b"\x14" * 48)
        .sign(PKI)
    )
    body = t[54 : 54 + 648]
    assert body[136:184] == b"\x11" * 48
    assert body[424:472] == b"\x12" * 48
    assert body[120:128] == (0x10000001).to_bytes(8, "little")
    assert body[112:120] == (2).to_bytes(8, "little")
    assert body[584:600] == b"\x13" * 16
    assert body[600:648] == b"\x14" * 48


def test_unknown_body_field_is_refused() -> None:
    with pytest.raises(KeyError):
        QuoteBuilder.tdx().body_field("mr_service_td", bytes(48))  # TD10 has no MRSERVICETD
    with pytest.raises(ValueError):
        QuoteBuilder.sgx().mr_enclave(b"short").sign(PKI)


# --- signatures and binding ----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_signatures_and_binding_verify(kind: str) -> None:
    q = parse_quote(BUILDERS[kind].sign(PKI))
    verify_raw(pub_from_raw(q["attest_key"]), q["signature"], q["signed"])
    chain = chain_of(q["cert_data"])
    assert len(chain) == 3
    leaf, ca, root = chain
    verify_raw(leaf.public_key(), q["qe_sig"], q["qe_report"])  # type: ignore[arg-type]
    assert q["qe_report"][320:352] == hashlib.sha256(q["attest_key"] + q["auth"]).digest()
    assert q["qe_report"][352:384] == bytes(32)
    assert len(q["auth"]) == 32
    assert q["cert_type"] == 5
    assert q["cert_data"].endswith(b"-----\n\x00")  # Intel's QE NUL-terminates the PEM
    if q["version"] != 3:
        assert q["outer_type"] == 6
    leaf.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert root == PKI.root_cert


def test_builders_are_immutable_and_deterministic() -> None:
    base = QuoteBuilder.sgx()
    changed = base.report_data(b"x")
    assert base.sign(PKI) != changed.sign(PKI)
    assert base.sign(PKI) == QuoteBuilder.sgx().sign(PKI)
    assert base.sign(PKI) == base.sign(FakeIntelPKI())


def test_defects_apply_after_signing() -> None:
    b = QuoteBuilder.sgx()
    good = b.sign(PKI)
    off = b.field_offset(PKI, "body.report_data")
    flipped = b.flip(off).sign(PKI)
    assert flipped[off] == good[off] ^ 1 and flipped[:off] == good[:off]
    q = parse_quote(flipped)
    with pytest.raises(InvalidSignature):
        verify_raw(pub_from_raw(q["attest_key"]), q["signature"], q["signed"])
    assert b.mutate(10, b"\xaa\xbb").sign(PKI)[10:12] == b"\xaa\xbb"
    assert b.truncate(100).sign(PKI) == good[:100]
    assert b.pad(8000).sign(PKI) == good + bytes(8000 - len(good))
    assert b.append(b"\x01").sign(PKI) == good + b"\x01"
    longer = b.sig_data_len_delta(1).sign(PKI)
    assert struct.unpack_from("<I", longer, 432)[0] == len(good) - 436 + 1


def test_qe_report_data_override_keeps_signature() -> None:
    q = parse_quote(QuoteBuilder.sgx().qe_report_data(bytes(64)).sign(PKI))
    leaf = chain_of(q["cert_data"])[0]
    verify_raw(leaf.public_key(), q["qe_sig"], q["qe_report"])  # type: ignore[arg-type]
    assert q["qe_report"][320:384] == bytes(64)


@pytest.mark.parametrize(("ctype", "size"), [(1, 34), (2, 276), (3, 404)])
def test_certification_data_without_chain(ctype: int, size: int) -> None:
    q = parse_quote(QuoteBuilder.sgx().cert_data_type(ctype).sign(PKI))
    assert q["cert_type"] == ctype
    assert len(q["cert_data"]) == size


def test_type4_and_der_chain() -> None:
    q = parse_quote(QuoteBuilder.sgx().cert_data_type(4).sign(PKI))
    assert [c.subject.rfc4514_string() for c in chain_of(q["cert_data"])] == [
        INTEL_DN.format("Intel SGX PCK Certificate")
    ]
    q = parse_quote(QuoteBuilder.tdx().der_chain().sign(PKI))
    data = q["cert_data"]
    certs = []
    pos = 0
    while pos < len(data):
        _, _, end = der_read(data, pos)
        certs.append(x509.load_der_x509_certificate(data[pos:end]))
        pos = end
    assert [c.subject.rfc4514_string() for c in certs] == [
        INTEL_DN.format(n)
        for n in ("Intel SGX PCK Certificate", "Intel SGX PCK Platform CA", "Intel SGX Root CA")
    ]


# --- certificates and the SGX extension ----------------------------------------------------


def _sgx_ext(cert: x509.Certificate) -> dict[str, Any]:
    ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXTENSION_OID))
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    return decode_sgx_extension(ext.value.value)


def test_processor_leaf_extension_decodes() -> None:
    spec = fi.sgx_pck()
    leaf = PKI.pck_cert(spec)
    d = _sgx_ext(leaf)
    assert sorted(d) == ["1", "2", "3", "4", "5"]
    assert d["1"] == (0x04, spec.extension.ppid)
    assert d["3"] == (0x04, b"\x00\x00")
    assert d["4"] == (0x04, fi.SGX_FMSPC)
    assert d["5"] == (0x0A, b"\x00")
    tcb = d["2"]
    assert sorted(tcb, key=int) == [str(i) for i in range(1, 19)]
    comps = [int.from_bytes(tcb[str(i)][1], "big") for i in range(1, 17)]
    assert comps == list(spec.extension.tcb_components)
    assert tcb["17"] == (0x02, b"\x0d")
    assert tcb["18"] == (0x04, bytes(spec.extension.tcb_components))
    assert leaf.issuer.rfc4514_string() == INTEL_DN.format("Intel SGX PCK Processor CA")
    assert leaf.subject.rfc4514_string() == INTEL_DN.format("Intel SGX PCK Certificate")


def test_platform_leaf_extension_decodes() -> None:
    d = _sgx_ext(PKI.pck_cert(fi.tdx_pck()))
    assert sorted(d) == ["1", "2", "3", "4", "5", "6", "7"]
    assert d["4"] == (0x04, fi.TDX_FMSPC)
    assert d["5"] == (0x0A, b"\x01")
    assert d["6"][0] == 0x04 and len(d["6"][1]) == 16
    assert d["7"] == {"1": (0x01, b"\xff"), "2": (0x01, b"\xff"), "3": (0x01, b"\xff")}


def test_der_integers_are_minimal() -> None:
    assert fi.der_int(0) == b"\x02\x01\x00"
    assert fi.der_int(0x7F) == b"\x02\x01\x7f"
    assert fi.der_int(0xFF) == b"\x02\x02\x00\xff"  # as in Intel's PCK (component 255)
    assert fi.der_oid("1.2.840.113741.1.13.1") == bytes.fromhex("06092a864886f84d010d01")
    assert fi.der_seq(b"\x01" * 200)[:3] == b"\x30\x81\xc8"


def test_pki_profile() -> None:
    root = PKI.root_cert
    assert root.subject == root.issuer
    assert root.subject.rfc4514_string() == INTEL_DN.format("Intel SGX Root CA")
    for cert, cn, pathlen in (
        (PKI.platform_ca_cert, "Intel SGX PCK Platform CA", 0),
        (PKI.processor_ca_cert, "Intel SGX PCK Processor CA", 0),
        (root, "Intel SGX Root CA", 1),
    ):
        assert cert.subject.rfc4514_string() == INTEL_DN.format(cn)
        bc = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        assert bc.ca and bc.path_length == pathlen
        cert.verify_directly_issued_by(root)
    PKI.tcb_signing_cert.verify_directly_issued_by(root)
    assert PKI.tcb_signing_cert.subject.rfc4514_string() == INTEL_DN.format("Intel SGX TCB Signing")
    for cert in (root, PKI.platform_ca_cert, PKI.tcb_signing_cert, PKI.pck_cert(fi.sgx_pck())):
        assert cert.not_valid_before_utc <= NOW <= cert.not_valid_after_utc
        assert cert.serial_number.bit_length() <= 160
    rogue = FakeIntelPKI(root_key="rogue-root")
    assert rogue.root_cert.subject == root.subject
    assert rogue.root_fingerprint() != PKI.root_fingerprint()


def test_bad_signer_knob_keeps_names() -> None:
    bad = PKI.but(tcb_signing=replace(PKI.tcb_signing, signer="other"))
    assert bad.tcb_signing_cert.issuer == PKI.root_cert.subject
    with pytest.raises(InvalidSignature):
        bad.tcb_signing_cert.verify_directly_issued_by(PKI.root_cert)


def test_crls() -> None:
    for crl, issuer in (
        (PKI.root_crl, PKI.root_cert),
        (PKI.platform_crl, PKI.platform_ca_cert),
        (PKI.processor_crl, PKI.processor_ca_cert),
    ):
        assert crl.issuer == issuer.subject
        assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
        assert crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number == 1
        aki = crl.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
        ski = issuer.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
        assert aki.key_identifier == ski.digest
        assert crl.last_update_utc <= NOW <= crl.next_update_utc  # type: ignore[operator]
    revoked = PKI.but(
        processor_crl_knobs=replace(PKI.processor_crl_knobs, revoked=(123,))
    ).processor_crl
    assert revoked.get_revoked_certificate_by_serial_number(123) is not None
    bad = PKI.but(root_crl_knobs=replace(PKI.root_crl_knobs, signer="x")).root_crl
    assert bad.issuer == PKI.root_cert.subject
    assert not bad.is_signature_valid(PKI.root_cert.public_key())  # type: ignore[arg-type]


# --- signed collateral ---------------------------------------------------------------------


def _signed_text(body: bytes, member: str) -> tuple[bytes, bytes]:
    prefix = b'{"' + member.encode() + b'":'
    assert body.startswith(prefix)
    tail = body.rindex(b',"signature":"')
    return body[len(prefix) : tail], bytes.fromhex(body[tail + 14 : -2].decode())


@pytest.mark.parametrize(
    ("member", "body"),
    [
        ("tcbInfo", PKI.tcb_info_body(fi.sgx_tcb_info())),
        ("tcbInfo", PKI.tcb_info_body(fi.sgx_tcb_info(version=2))),
        ("tcbInfo", PKI.tcb_info_body(fi.tdx_tcb_info())),
        ("enclaveIdentity", PKI.qe_identity_body(fi.sgx_qe_identity())),
        ("enclaveIdentity", PKI.qe_identity_body(fi.td_qe_identity())),
    ],
)
def test_collateral_signature_covers_exact_text(member: str, body: bytes) -> None:
    text, sig = _signed_text(body, member)
    key = PKI.tcb_signing_cert.public_key()
    verify_raw(key, sig, text)  # type: ignore[arg-type]
    compact = json.dumps(json.loads(text), separators=(",", ":")).encode()
    assert text == compact  # compact, member order kept, as PCS serves
    assert json.loads(body)[member] == json.loads(text)
    spaced, sig2 = _signed_text(fi.add_space(body), member)
    assert sig2 == sig and json.loads(spaced) == json.loads(text)
    with pytest.raises(InvalidSignature):
        verify_raw(key, sig, spaced)  # type: ignore[arg-type]


def test_tcb_info_member_order() -> None:
    v3 = json.loads(PKI.tcb_info_body(fi.tdx_tcb_info()))["tcbInfo"]
    assert list(v3) == [
        "id",
        "version",
        "issueDate",
        "nextUpdate",
        "fmspc",
        "pceId",
        "tcbType",
        "tcbEvaluationDataNumber",
        "tdxModule",
        "tdxModuleIdentities",
        "tcbLevels",
    ]
    assert list(v3["tcbLevels"][0]["tcb"]) == ["sgxtcbcomponents", "pcesvn", "tdxtcbcomponents"]
    assert [m["id"] for m in v3["tdxModuleIdentities"]] == ["TDX_03", "TDX_01"]
    v2 = json.loads(PKI.tcb_info_body(fi.sgx_tcb_info(version=2)))["tcbInfo"]
    assert "id" not in v2 and v2["version"] == 2
    assert list(v2["tcbLevels"][0]["tcb"])[:2] == ["sgxtcbcomp01svn", "sgxtcbcomp02svn"]
    qe = json.loads(PKI.qe_identity_body(fi.sgx_qe_identity()))["enclaveIdentity"]
    assert list(qe)[:3] == ["id", "version", "issueDate"]
    assert qe["attributesMask"] == "FBFFFFFFFFFFFFFF0000000000000000"


# --- the TCB level design reaches what the vectors claim (QVL `TcbLevel.cpp` ordering) -----


def _match_sgx(levels: tuple[fi.TcbLevel, ...], comps: tuple[int, ...], pcesvn: int) -> str | None:
    ordered = sorted(levels, key=lambda lv: (lv.sgx, lv.pcesvn, lv.tdx or ()), reverse=True)
    for lv in ordered:
        if all(c >= r for c, r in zip(comps, lv.sgx, strict=True)) and pcesvn >= lv.pcesvn:
            return lv.status
    return None


@pytest.mark.parametrize("status", sorted(fi.SGX_PLATFORM_TCB))
def test_sgx_platforms_reach_their_levels(status: str) -> None:
    got = _match_sgx(fi.SGX_LEVELS, fi.SGX_PLATFORM_TCB[status], 13)
    assert got == (None if status == "NotSupported" else status)


def test_levels_are_listed_highest_first_and_distinct() -> None:
    for levels in (fi.SGX_LEVELS, fi.TDX_LEVELS):
        keys = [(lv.sgx, lv.pcesvn, lv.tdx or ()) for lv in levels]
        assert keys == sorted(keys, reverse=True)
        assert len(set(keys)) == len(keys)


# --- fidelity against the real Intel artefacts (../shared, skipped when absent) ------------


def _real_leaf(case: str, quote_file: str) -> x509.Certificate:
    base = require_shared("intel")
    return chain_of((base / case / quote_file).read_bytes())[0]


@pytest.mark.parametrize(
    ("case", "quote_file"),
    [("sgx-v3-dcapqvl-sample", "sgx_quote"), ("tdx-v4-dcapqvl-sample", "tdx_quote")],
)
def test_extension_encoding_matches_real_pck(case: str, quote_file: str) -> None:
    leaf = _real_leaf(case, quote_file)
    ext = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXTENSION_OID))
    real = ext.value.value  # type: ignore[attr-defined]
    d = decode_sgx_extension(real)
    tcb = d["2"]
    mine = fi.SgxExtension(
        fmspc=d["4"][1],
        pce_id=d["3"][1],
        tcb_components=tuple(int.from_bytes(tcb[str(i)][1], "big") for i in range(1, 17)),
        pcesvn=int.from_bytes(tcb["17"][1], "big"),
        cpusvn=tcb["18"][1],
        ppid=d["1"][1],
        sgx_type=d["5"][1][0],
        platform_instance_id=d["6"][1] if "6" in d else None,
        configuration=tuple(d["7"][k][1] == b"\xff" for k in "123") if "7" in d else None,  # type: ignore[arg-type]
    )
    assert mine.encode() == real


def test_collateral_shapes_match_real_pcs_bodies() -> None:
    base = require_shared("intel")

    def shape(v: Any) -> Any:
        """Member names and value types; optional members (advisories, labels) dropped."""
        if isinstance(v, dict):
            optional = {"advisoryIDs", "category", "type"}
            return {k: shape(x) for k, x in v.items() if k not in optional}
        if isinstance(v, list):
            return [shape(v[0])] if v else []
        return type(v).__name__

    for real_file, mine in (
        ("tdx-v4-dcapqvl-sample/tcb_info.json", PKI.tcb_info_body(fi.tdx_tcb_info())),
        ("sgx-v3-dcapqvl-sample/tcb_info.json", PKI.tcb_info_body(fi.sgx_tcb_info())),
        ("sgx-v3-automata-tcbinfo-v2/tcbinfo.json", PKI.tcb_info_body(fi.sgx_tcb_info(version=2))),
        ("sgx-v3-dcapqvl-sample/qe_identity.json", PKI.qe_identity_body(fi.sgx_qe_identity())),
        ("tdx-v4-dcapqvl-sample/qe_identity.json", PKI.qe_identity_body(fi.td_qe_identity())),
    ):
        real = json.loads((base / real_file).read_bytes())
        ours = json.loads(mine)
        assert list(real) == list(ours)
        assert json.dumps(shape(real)) == json.dumps(shape(ours))  # order too


def _profile(cert: x509.Certificate) -> dict[str, Any]:
    """Extension OIDs with criticality, CA flags, key usage, CRL DP presence, key type."""
    out: dict[str, Any] = {
        "extensions": sorted((e.oid.dotted_string, e.critical) for e in cert.extensions),
        "signature": cert.signature_algorithm_oid.dotted_string,
        "curve": cert.public_key().curve.name,  # type: ignore[union-attr]
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial_bytes": (cert.serial_number.bit_length() + 7) // 8 <= 20,
    }
    bc = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    out["basic_constraints"] = (bc.ca, bc.path_length)
    ku = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    out["key_usage"] = (ku.digital_signature, ku.content_commitment, ku.key_cert_sign, ku.crl_sign)
    return out


def test_certificate_profiles_match_real_intel_certificates() -> None:
    base = require_shared("intel")
    real_sgx = chain_of((base / "sgx-v3-dcapqvl-sample" / "sgx_quote").read_bytes())
    real_tdx = chain_of((base / "tdx-v4-dcapqvl-sample" / "tdx_quote").read_bytes())
    real_signer = chain_of(
        (base / "tdx-v4-dcapqvl-sample" / "tcb_info_issuer_chain.pem").read_bytes()
    )
    fake_sgx = PKI.pck_chain(fi.sgx_pck())
    fake_tdx = PKI.pck_chain(fi.tdx_pck())
    pairs = [
        *zip(real_sgx, fake_sgx, strict=True),
        *zip(real_tdx, fake_tdx, strict=True),
        (real_signer[0], PKI.tcb_signing_cert),
    ]
    for real, fake in pairs:
        assert _profile(fake) == _profile(real), real.subject.rfc4514_string()
    real_crl = x509.load_der_x509_crl((base / "tdx-v4-dcapqvl-sample" / "pck_crl.der").read_bytes())
    assert sorted(e.oid.dotted_string for e in PKI.platform_crl.extensions) == sorted(
        e.oid.dotted_string for e in real_crl.extensions
    )
    assert PKI.platform_crl.issuer == real_crl.issuer
