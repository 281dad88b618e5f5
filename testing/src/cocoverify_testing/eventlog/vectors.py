"""TEST ONLY. ``vectors/eventlog/``: generated TDX event-log vectors for ``vectors/generate.py``.

Each case is trustee's TDX evidence JSON ``{"quote", "cc_eventlog"}`` (recognised by
``cocoverify.verify`` by content): a TD quote from the fake Intel PKI whose RTMR0..3 are what
:meth:`LogBuilder.typical` replays to, with that log or a log with exactly one defect. The
Intel collateral is shared (``eventlog/common/``), the fake Intel root pinned through
``trust``. Deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from cocoverify.trust import fingerprint
from cocoverify_testing.eventlog import DEFECTS, SHA384, LogBuilder, ipl
from cocoverify_testing.intel.collateral import td_qe_identity, tdx_tcb_info
from cocoverify_testing.intel.pki import NOW, FakeIntelPKI
from cocoverify_testing.intel.quotes import QuoteBuilder
from cocoverify_testing.manifest import write_file
from cocoverify_testing.pki import iso, pem

__all__ = ["generate_vectors"]

_DER = serialization.Encoding.DER


def _quote(pki: FakeIntelPKI, rtmrs: dict[str, bytes]) -> bytes:
    b = QuoteBuilder.tdx()
    for i in range(4):
        b = b.rtmr(i, rtmrs[f"rtmr{i}"])
    return b.sign(pki)


def _evidence(quote: bytes, log: bytes) -> bytes:
    obj = {
        "quote": base64.b64encode(quote).decode(),
        "cc_eventlog": base64.b64encode(log).decode(),
    }
    return json.dumps(obj).encode()


def _cases(pki: FakeIntelPKI) -> list[tuple[str, bytes, str, int, dict[str, Any] | None, str]]:
    """(id, evidence, expected, exit code, policy, description)."""
    typical = LogBuilder.typical()
    quote = _quote(pki, typical.rtmrs())
    good = _evidence(quote, typical.build())
    out = [
        ("eventlog.good", good, "accept", 0, None, "the log replays to the quote's RTMRs"),
        (
            "eventlog.good.policy",
            good,
            "accept",
            0,
            {
                "eventlog": {
                    "required": True,
                    "kernel_cmdline_contains": ["console=ttyS0"],
                    "initrd": ["/initrd.img"],
                    "aael_domains": ["github.com/confidential-containers", "coco.com"],
                }
            },
            "an event-log policy the log meets",
        ),
    ]
    for name, make in DEFECTS.items():
        out.append(
            (f"eventlog.{name}", _evidence(quote, make(LogBuilder.typical())), "malformed", 2,
             None, f"one defect in the log: {name}")
        )  # fmt: skip
    changed = LogBuilder.typical()
    changed.entries[2].digests = [(SHA384, hashlib.sha384(b"another application").digest())]
    sm3 = LogBuilder(algorithms=[(0x12, 32)])
    sm3.add(1, 0x4, b"\0\0\0\0", digests=[(0x12, bytes(32))])
    grub = LogBuilder.typical()
    grub.entries[4].data = ipl("grub_kernel_cmdline /vmlinuz root=/dev/vda1 init=/bin/sh")
    out += [
        ("eventlog.digest_changed", _evidence(quote, changed.build()), "event_log_mismatch", 3,
         None, "one digest of RTMR1 changed: the log does not replay to the quote"),
        ("eventlog.other_quote", _evidence(_quote(pki, grub.rtmrs()), typical.build()),
         "event_log_mismatch", 3, None, "a quote whose RTMR2 is another log's"),
        ("eventlog.sm3_only", _evidence(quote, sm3.build()), "unsupported_algorithm", 2, None,
         "an SM3-only log cannot be replayed into TDX RTMRs"),
        ("eventlog.policy.cmdline", _evidence(_quote(pki, grub.rtmrs()), grub.build()),
         "measurement_mismatch", 5, {"eventlog": {"kernel_cmdline_contains": ["console=ttyS0"]}},
         "the kernel command line lacks what the policy requires"),
        ("eventlog.policy.required", quote.hex().encode(),
         "policy_rejected", 5, {"eventlog": {"required": True}},
         "the quote alone (hex), the policy requires an event log"),
    ]  # fmt: skip
    return out


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/eventlog/`` and return the manifest entries (paths relative to
    ``outdir``); ``<outdir>/eventlog`` is recreated."""
    out = Path(outdir)
    shutil.rmtree(out / "eventlog", ignore_errors=True)
    pki = FakeIntelPKI()
    common = [
        write_file(out, "eventlog/common/tcb_info.json", pki.tcb_info_body(tdx_tcb_info())),
        write_file(out, "eventlog/common/qe_identity.json", pki.qe_identity_body(td_qe_identity())),
        write_file(out, "eventlog/common/tcb_info_issuer_chain.pem", pki.tcb_signing_chain_pem()),
        write_file(out, "eventlog/common/pck_crl.der", pki.pck_crl("platform").public_bytes(_DER)),
        write_file(
            out,
            "eventlog/common/pck_crl_issuer_chain.pem",
            pki.pck_crl_issuer_chain_pem("platform"),
        ),
        write_file(out, "eventlog/common/root_ca_crl.der", pki.root_crl.public_bytes(_DER)),
    ]
    trust = {"intel_roots": [fingerprint(pki.root_cert)]}
    roots = [write_file(out, "eventlog/common/intel_root_ca.pem", pem(pki.root_cert))]
    entries = []
    for case_id, evidence, expected, code, policy, description in _cases(pki):
        name = "evidence.json" if evidence[:1] == b"{" else "quote.hex"
        entries.append(
            {
                "id": case_id,
                "platform": "tdx-eventlog",
                "evidence": write_file(out, f"eventlog/{case_id}/{name}", evidence),
                "collateral": common,
                "trust": trust,
                "trust_files": roots,
                "policy": policy,
                "at": iso(NOW),
                "expected": expected,
                "exit_code": code,
                "description": description,
                "features": ["eventlog"],
            }
        )
    return entries
