"""Bytes that are unsigned by design: the ONE list of mutations the mutation sweep
(tests/fuzz/sweep.py, docs/security.md "Mutation sweep") lets pass, each with the reason and
the spec section. Anything else accepted after a mutation is a finding. A mutant explained
here must still give the original's verdict (TEE, claims, TCB status, advisories) unless the
rule says the field it changes is reported as given (``same_claims=False``).

Every rule looks at the original and the mutated bytes only (and parses them with the
standard library or ``cryptography``, not with cocoverify's own parsers, except to find where
a DCAP quote or an event log ends in the original)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp

from cocoverify import CocoverifyError
from cocoverify._core.eventlog import parse_event_log
from cocoverify._core.text import decode_text
from cocoverify.tee.intel.parse import parse_quote_fields


@dataclass(frozen=True)
class Mutant:
    case: str  # golden case id
    where: str  # "evidence" or the collateral file's name
    offset: int
    orig: bytes
    mut: bytes
    #: DER of every certificate the case holds elsewhere (evidence, other collateral files)
    elsewhere: frozenset[bytes] = frozenset()


Check = Callable[[Mutant], bool]


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    spec: str
    applies: Check
    same_claims: bool = True


_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_HEX = re.compile(r"(0x)?(?:[0-9a-fA-F]{2})+")
_B64 = re.compile(r"[A-Za-z0-9+/_\-\s]+=*")


def _diff(a: bytes, b: bytes) -> list[int]:
    """Offsets where two equally long byte strings differ (all of them past a length change)."""
    if len(a) != len(b):
        return list(range(min(len(a), len(b)), max(len(a), len(b))))
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


# --- DCAP quotes, PEM, certificates ----------------------------------------------------------


def _quote_end(data: bytes) -> int | None:
    try:
        return parse_quote_fields(data).length
    except CocoverifyError:
        return None


def trailing_after_quote(a: bytes, b: bytes) -> bool:
    """Both decode to the same quote; they differ only after its end."""
    a, b = decode_text(a), decode_text(b)
    end = _quote_end(a)
    diff = _diff(a, b)
    return end is not None and bool(diff) and min(diff) >= end


def _pem_blocks(data: bytes) -> tuple[list[bytes], bytes] | None:
    """The DER of every PEM block and the text outside them (None: a block does not decode)."""
    ders = []
    for m in _PEM.finditer(data):
        try:
            ders.append(binascii.a2b_base64(re.sub(rb"\s", b"", m.group(2))))
        except binascii.Error:
            return None
    return ders, _PEM.sub(b"", data)


def same_certificates(a: bytes, b: bytes, *, outside: bool) -> bool:
    """The same DER items in the same order (base64 pad bits, RFC 4648 3.5); with ``outside``
    any text outside the blocks may differ too (RFC 7468 5.2), else it must be equal."""
    pa, pb = _pem_blocks(a), _pem_blocks(b)
    if pa is None or pb is None or not pa[0] or pa[0] != pb[0]:
        return False
    return outside or pa[1] == pb[1]


# --- JSON envelopes (trustee evidence, collateral documents) ---------------------------------


def _decoded(value: str) -> Any:
    if _HEX.fullmatch(value):
        return ("bytes", bytes.fromhex(value.removeprefix("0x")))
    if _B64.fullmatch(value) and len(value) >= 8:
        compact = re.sub(r"\s", "", value)
        try:
            if "-" in compact or "_" in compact:
                return ("bytes", base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4)))
            return ("bytes", base64.b64decode(compact + "=" * (-len(compact) % 4)))
        except (binascii.Error, ValueError):
            pass
    return ("text", value)


def _flat(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flat(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _flat(v, f"{path}[{i}]")
    elif isinstance(obj, str):
        yield path, _decoded(obj)
    else:
        yield path, obj


def _json(data: bytes) -> dict[str, Any] | None:
    try:
        return dict(_flat(json.loads(data)))
    except (ValueError, UnicodeDecodeError):
        return None


def json_changes(a: bytes, b: bytes) -> dict[str, tuple[Any, Any]] | None:
    """Paths whose decoded values differ (None: not both JSON)."""
    fa, fb = _json(a), _json(b)
    if fa is None or fb is None:
        return None
    return {k: (fa.get(k), fb.get(k)) for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}


def _payloads(change: tuple[Any, Any]) -> tuple[bytes, bytes] | None:
    x, y = change
    if isinstance(x, tuple) and isinstance(y, tuple) and x[0] == y[0] == "bytes":
        return x[1], y[1]
    return None


def _eventlog_tail(a: bytes, b: bytes) -> bool:
    """Differences only after the log's end (the unused 0xFF / 0x00 tail of the CCEL area)."""
    try:
        log = parse_event_log(a)
    except CocoverifyError:
        return False
    diff = _diff(a, b)
    return bool(diff) and min(diff) >= log.end_offset


def eventlog_spec_id(m: Mutant) -> bool:
    """Only the trustee JSON's ``cc_eventlog`` changed, inside its first event (the Spec ID
    event: EV_NO_ACTION, never extended; its register index is recorded as given)."""
    changes = json_changes(m.orig, m.mut) or {}
    pair = _payloads(changes[".cc_eventlog"]) if set(changes) == {".cc_eventlog"} else None
    if pair is None or len(pair[0]) < 32:
        return False
    spec_end = 32 + struct.unpack_from("<I", pair[0], 28)[0]
    diff = _diff(*pair)
    return bool(diff) and max(diff) < spec_end


def eventlog_event_type(m: Mutant) -> bool:
    """Only the EventType field of one event of a trustee JSON's ``cc_eventlog`` changed, and
    that event is neither an AAEL entry nor a GRUB string (whose retyping is refused)."""
    changes = json_changes(m.orig, m.mut) or {}
    pair = _payloads(changes[".cc_eventlog"]) if set(changes) == {".cc_eventlog"} else None
    if pair is None:
        return False
    try:
        log = parse_event_log(pair[0])
    except CocoverifyError:
        return False
    diff = _diff(*pair)
    for e in log.events:
        if diff and all(e.offset + 4 <= i < e.offset + 8 for i in diff):
            return not e.data.startswith((b"LEAA", b"grub_", b"kernel_cmdline"))
    return False


def _hcl_unsigned(a: bytes, b: bytes) -> bool:
    """HCL report fields outside the hardware signature and the var-data hash."""
    if len(a) < 1236 or len(a) != len(b):
        return False
    var_end = 1236 + struct.unpack_from("<I", a, 1232)[0]
    spans = [(12, 32), (1220, 1224), (var_end, len(a))]
    if struct.unpack_from("<I", a, 1224)[0] == 4:  # TDX: the TDREPORT is MACed, not signed
        spans.append((32, 1216))
    return all(any(lo <= i < hi for lo, hi in spans) for i in _diff(a, b))


#: per JSON member (last path element): when a decoded payload may differ, and why
_PAYLOAD_RULES: dict[str, Callable[[bytes, bytes], bool]] = {
    "quote": trailing_after_quote,
    "cc_eventlog": _eventlog_tail,
}


def eventlog_unmeasured_data(m: Mutant) -> bool:
    """Only bytes inside the data of one event of a trustee JSON's ``cc_eventlog`` changed,
    an event whose digest is not the hash of its data (a PE image, a firmware blob, a file
    GRUB read, the value of a boot variable but not its name): docs/eventlog.md check 5b."""
    changes = json_changes(m.orig, m.mut) or {}
    pair = _payloads(changes[".cc_eventlog"]) if set(changes) == {".cc_eventlog"} else None
    if pair is None or len(pair[0]) != len(pair[1]):
        return False
    try:
        log = parse_event_log(pair[0])
    except CocoverifyError:
        return False
    diff = _diff(*pair)
    for e in log.events:
        start = e.offset + 16 + sum(2 + len(d.value) for d in e.digests)  # the event data
        if diff and all(start <= i < start + len(e.data) for i in diff):
            return not e.digest_matches_event and not e.data.startswith(
                (b"LEAA", b"grub_", b"kernel_cmdline")
            )
    return False


def _byte_array(data: bytes, key: str) -> bytes | None:
    """The JSON member ``key`` as bytes when it is a list of byte values (trustee's v0 form)."""
    try:
        value = json.loads(data).get(key)
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if isinstance(value, list) and all(type(v) is int and 0 <= v < 256 for v in value):
        return bytes(value)
    return None


def hcl_header(m: Mutant) -> bool:
    """Only the trustee JSON's ``hcl_report`` (v1+: base64; v0: ``report``, a list of byte
    values) changed, in its unsigned header fields."""
    changes = json_changes(m.orig, m.mut) or {}
    pair = _payloads(changes[".hcl_report"]) if set(changes) == {".hcl_report"} else None
    if pair is None and changes and all(k.startswith(".report[") for k in changes):
        a, b = _byte_array(m.orig, "report"), _byte_array(m.mut, "report")
        pair = (a, b) if a is not None and b is not None else None
    return pair is not None and _hcl_unsigned(*pair)


def json_equivalent(m: Mutant) -> bool:
    """The same JSON values once hex/base64 strings are decoded (letter case, pad bits,
    whitespace), payloads differing only where their own rule allows."""
    changes = json_changes(m.orig, m.mut)
    if changes is None:
        return False
    for path, change in changes.items():
        pair = _payloads(change)
        member = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
        if pair is None:
            return False
        if member in _PAYLOAD_RULES and _PAYLOAD_RULES[member](*pair):
            continue
        if not same_certificates(*pair, outside=True):  # a PEM chain given in JSON
            return False
    return True


def nvidia_uuid(m: Mutant) -> bool:
    """Only trustee's ``uuid`` member of an NVIDIA device entry changed (value or key)."""
    changes = json_changes(m.orig, m.mut)
    if not m.case.startswith("project/nvidia") or not changes:
        return False
    fa = _json(m.orig) or {}
    uuids = {v for k, v in fa.items() if k.endswith(".uuid")}
    return all(p.endswith(".uuid") or x in uuids or y in uuids for p, (x, y) in changes.items())


# --- collateral files ------------------------------------------------------------------------


def _item(label: bytes, der: bytes) -> Any:
    """What a signature or a key comparison sees of one DER item (None: unreadable)."""
    try:
        if label in (b"CERTIFICATE", b""):
            c = x509.load_der_x509_certificate(der)
            return ("cert", c.tbs_certificate_bytes, c.signature, c.signature_algorithm_oid)
    except ValueError:
        if label:
            return None
    try:
        if label in (b"X509 CRL", b""):
            r = x509.load_der_x509_crl(der)
            return ("crl", r.tbs_certlist_bytes, r.signature, r.signature_algorithm_oid)
        if label == b"PUBLIC KEY":
            key = serialization.load_der_public_key(der)
            return ("key", key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    except ValueError:
        return None
    return None


def _items(data: bytes) -> list[Any] | None:
    blocks = list(_PEM.finditer(data))
    if not blocks:
        item = _item(b"", data)
        return None if item is None else [item]
    out = []
    for b in blocks:
        try:
            der = binascii.a2b_base64(re.sub(rb"\s", b"", b.group(2)))
        except binascii.Error:
            return None
        out.append(_item(b.group(1), der))
    return None if None in out else out


def same_signed_items(m: Mutant) -> bool:
    """A collateral file (PEM or DER) whose certificates, CRLs and keys keep their signed
    part, algorithm and signature (a key: the same key)."""
    a, b = _items(m.orig), _items(m.mut)
    return m.where != "evidence" and a is not None and a == b


def _changed_certificates(m: Mutant) -> list[tuple[bytes, bytes]] | None:
    """(original, mutated) DER of the PEM blocks that differ; None unless only blocks differ
    (the same number of them, the text outside equal)."""
    pa, pb = _pem_blocks(m.orig), _pem_blocks(m.mut)
    if pa is None or pb is None or len(pa[0]) != len(pb[0]) or pa[1] != pb[1]:
        return None
    return [(x, y) for x, y in zip(pa[0], pb[0], strict=True) if x != y]


def _same_signed(x: bytes, y: bytes) -> bool:
    try:
        cx, cy = x509.load_der_x509_certificate(x), x509.load_der_x509_certificate(y)
    except ValueError:
        return False
    return (cx.tbs_certificate_bytes, cx.signature, cx.signature_algorithm_oid) == (
        cy.tbs_certificate_bytes,
        cy.signature,
        cy.signature_algorithm_oid,
    )


def same_signed_certificate(m: Mutant) -> bool:
    """Every changed certificate keeps its TBS, signature algorithm and signature value."""
    changed = _changed_certificates(m)
    return bool(changed) and all(_same_signed(x, y) for x, y in changed or ())


def duplicate_certificate(m: Mutant) -> bool:
    """Every changed certificate of a collateral file is also given elsewhere, unchanged."""
    changed = _changed_certificates(m)
    return (
        m.where != "evidence" and bool(changed) and all(x in m.elsewhere for x, _ in changed or ())
    )


def _other_subject(m: Mutant) -> bool:
    """The mutated CRL names another issuer, or the OCSP response another certificate."""
    where, a, b = m.where, m.orig, m.mut
    try:
        if where.endswith("crl.der"):
            return x509.load_der_x509_crl(a).issuer != x509.load_der_x509_crl(b).issuer
        if where.endswith("crl.pem"):
            return x509.load_pem_x509_crl(a).issuer != x509.load_pem_x509_crl(b).issuer
        if where.endswith(".ocsp.der"):
            ra, rb = ocsp.load_der_ocsp_response(a), ocsp.load_der_ocsp_response(b)
            ida = (ra.issuer_name_hash, ra.issuer_key_hash, ra.serial_number)
            return ida != (rb.issuer_name_hash, rb.issuer_key_hash, rb.serial_number)
    except ValueError:
        return False
    return False


RULES: tuple[Rule, ...] = (
    Rule(
        "same-bytes-after-text-decoding",
        "evidence given as hex or base64 text: another letter case, whitespace or base64 pad "
        "bits decode to the same bytes, so nothing signed changed",
        "RFC 4648 3.5; docs/intel.md 'Evidence accepted' (raw, hex or base64)",
        lambda m: (
            m.where == "evidence"
            and m.orig != decode_text(m.orig)
            and decode_text(m.orig) == decode_text(m.mut)
        ),
    ),
    Rule(
        "bytes-after-the-quote",
        "bytes after the end of a DCAP quote's signature data are not part of the quote "
        "(real TDX quotes come zero-padded to 8000 bytes); ignored as QVL does, with a warning",
        "shared docs/intel.md 2.5; docs/intel.md 'Trailing bytes'",
        lambda m: m.where == "evidence" and trailing_after_quote(m.orig, m.mut),
    ),
    Rule(
        "same-certificates-in-quote",
        "the certification data is not covered by the quote signature; a change of base64 "
        "pad bits inside a PEM line leaves every certificate's DER, and so its signature, "
        "unchanged",
        "shared docs/intel.md 2.5-2.6; RFC 4648 3.5; docs/intel.md 'Evidence accepted'",
        lambda m: m.where == "evidence" and same_certificates(m.orig, m.mut, outside=False),
    ),
    Rule(
        "same-signed-certificate",
        "a certificate re-encoded outside its signed part (e.g. the unused-bits count of the "
        "signatureValue BIT STRING) with the same tbsCertificate, algorithm and signature "
        "value: nothing its issuer signed changed",
        "RFC 5280 4.1.1.3 (signatureValue is outside tbsCertificate); X.690 8.6.2",
        same_signed_certificate,
    ),
    Rule(
        "duplicate-certificate",
        "a collateral chain file repeats certificates the case holds elsewhere (the quote's "
        "own PCK chain, the root in the other issuer-chain files); when several supplied "
        "certificates fit, the first whose chain verifies is used, so a damaged duplicate is "
        "not used",
        "docs/intel.md ('the first one whose chain is valid is used'); "
        "docs/trust-and-collateral.md",
        duplicate_certificate,
    ),
    Rule(
        "json-equivalent-encoding",
        "JSON evidence or collateral: the same values once hex and base64 strings are decoded "
        "(hex letter case, base64 pad bits, whitespace outside the signed text); decoded "
        "payloads may differ only after a quote's end or in an event log's unused tail",
        "trustee evidence JSON (shared docs/trustee_interface.md); TCG PC Client PFP 10.4.5 "
        "(EV_NO_ACTION not extended), docs/eventlog.md 'Parsing decisions'; shared "
        "docs/azure.md HCL layout; docs/intel.md (signature: 128 hex digits)",
        json_equivalent,
    ),
    Rule(
        "eventlog-spec-id-event",
        "the first event of a CC event log is the Spec ID event (EV_NO_ACTION): never "
        "extended into a register; cocoverify reads its algorithm sizes and records its "
        "register index and header as given (claim event_log.spec_id_index)",
        "TCG PC Client PFP 10.4.5.1 (EV_NO_ACTION not extended); docs/eventlog.md 'Parsing "
        "decisions' (the first event's register index is recorded, never checked)",
        eventlog_spec_id,
        same_claims=False,
    ),
    Rule(
        "eventlog-event-type",
        "the EventType field of a TCG event is not extended into a register; of an event "
        "that is neither an AA event log entry nor a GRUB string (their retyping is refused: "
        "docs/eventlog.md check 5b), nothing cocoverify's typed claims or policy read depends "
        "on it, and the event is reported with the type it was given, as trustee does",
        "TCG PC Client PFP 10.2.2 (TCG_PCR_EVENT2: only the digests are extended); "
        "docs/eventlog.md 'Checks, in order' 5b",
        eventlog_event_type,
        same_claims=False,
    ),
    Rule(
        "eventlog-unmeasured-event-data",
        "the data of a TCG event whose digest measures something else (a PE image, a firmware "
        "volume, a file GRUB read, ACPI tables; a boot variable's name, EDK2 hashing only its "
        "value) is a description the replay cannot bind; cocoverify's typed claims and policy "
        "read none of it and trustee's uefi_event_logs reports it as given; data that is the "
        "hash input (PFP data-hashed types, AAEL entries, GRUB strings, boot variable values) "
        "is checked (docs/eventlog.md check 5b)",
        "TCG PC Client PFP 10.4.1 (event types and what each digest covers); docs/eventlog.md "
        "'Checks, in order' 5b",
        eventlog_unmeasured_data,
        same_claims=False,
    ),
    Rule(
        "nvidia-json-uuid",
        "trustee's NVIDIA evidence JSON names the GPU by a uuid outside the signed SPDM "
        "report; it is reported as the claim uuid as given, as trustee does",
        "docs/nvidia.md (claims: uuid); shared docs/nvidia.md",
        nvidia_uuid,
        same_claims=False,
    ),
    Rule(
        "collateral-same-signed-items",
        "a collateral file (PEM or DER) whose certificates and CRLs keep their signed part, "
        "algorithm and signature value, and whose keys are the same keys: base64 pad bits, "
        "text outside PEM blocks, the unused-bits count of a BIT STRING",
        "RFC 7468 5.2; RFC 4648 3.5; RFC 5280 4.1.1.3 and 5.1.1.3; X.690 8.6.2",
        same_signed_items,
    ),
    Rule(
        "azure-hcl-unsigned-header",
        "the HCL report's request type, status, reserved bytes, IGVM version and the padding "
        "after the var data are covered neither by the hardware signature nor by the var-data "
        "hash (and for TDX the TDREPORT itself: MACed, not signed; the TD quote is checked "
        "instead); cocoverify reports request_type, status and version as given (azure.hcl)",
        "shared docs/azure.md (HCL report layout); docs/azure.md",
        hcl_header,
        same_claims=False,
    ),
    Rule(
        "revocation-document-of-another-subject",
        "a CRL whose issuer no longer names the chain's CA, or an OCSP response whose CertID "
        "names another certificate, does not apply to this chain and is ignored; without "
        "require_crl the result says revocation_checked false with a warning",
        "docs/snp.md step 5; docs/nvidia.md 'Revocation'; RFC 5280 6.3.3; RFC 6960 4.1.1",
        _other_subject,
    ),
    Rule(
        "expired-twin-vcek",
        "the case gives an expired VCEK beside the valid one; a VCEK that does not verify or "
        "is expired is skipped when another one verifies, so its bytes are not used",
        "docs/snp.md (VCEK/VLEK selection); vectors/manifest.json snp.accept.expired_twin_vcek",
        lambda m: m.case == "project/snp.accept.expired_twin_vcek" and m.where == "vcek-old.der",
    ),
    Rule(
        "nvidia-rim-not-signature-checked",
        "NVIDIA RIM files are taken as reference values as given: their XML-DSig signature is "
        "not verified by design, so only the active measurement values count (any other "
        "change leaves the verdict unchanged, which the sweep checks)",
        "docs/nvidia.md 'RIM files'",
        lambda m: m.case.startswith("project/nvidia") and m.where.endswith(".swidtag"),
        same_claims=False,  # the RIM's identity is reported (collateral.rim) as given
    ),
    Rule(
        "cca-trust-anchor-store-selector",
        "a CCA trust-anchor store is the operator's own trusted file; an entry whose "
        "implementation-id member is damaged binds its key by instance-id alone, and the "
        "token is still verified with that entry's key",
        "docs/cca.md (trust-anchor store: implementation-id, when given)",
        lambda m: m.where.endswith(".json") and _implementation_key_only(m.orig, m.mut),
    ),
)


def _implementation_key_only(a: bytes, b: bytes) -> bool:
    diff = _diff(a, b)
    keys = [k.start() for k in re.finditer(rb'"implementation-id"', a)]
    return bool(diff) and all(any(k <= i < k + 19 for k in keys) for i in diff)


def explain(m: Mutant) -> Rule | None:
    """The rule that lets this mutant pass, or None (then an acceptance is a finding)."""
    for rule in RULES:
        if rule.applies(m):
            return rule
    return None


def certificates_in(data: bytes) -> frozenset[bytes]:
    """DER of every PEM certificate in ``data`` (also inside hex/base64 text or JSON)."""
    out: set[bytes] = set()
    for text in {data, decode_text(data)}:
        blocks = _pem_blocks(text.replace(b"\\n", b"\n"))
        out |= set(blocks[0]) if blocks else set()
    if data[:1] == b"{":
        for value in (_json(data) or {}).values():
            if isinstance(value, tuple) and value[0] == "bytes":
                blocks = _pem_blocks(value[1])
                out |= set(blocks[0]) if blocks else set()
    return frozenset(out)
