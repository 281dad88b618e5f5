"""The ``eventlog:`` policy section: expected digests per event or per register, kernel command
line and initrd rules, AA event log rules; through verify() on the real COS-113 quote and
through Policy.evaluate on built logs."""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any

import pytest

import cocoverify
from cocoverify import Policy
from cocoverify.errors import ConfigurationError, PolicyRejected, Reason
from cocoverify.result import Appraisal
from cocoverify.wrappers.tdx_eventlog import EventLogPolicy, appraise_with_log
from cocoverify_testing.eventlog import LogBuilder

from _shared import SHARED_VECTORS

COS = SHARED_VECTORS / "intel" / "tdx-v4-gotdx-cos113"
LOG = SHARED_VECTORS / "tdx-eventlog" / "gotdx-cos113-ccel-with-quote" / "cos-113-intel-tdx.bin"
AT = "2025-10-31T14:17:11Z"
_COLLATERAL = ("tcb_info.json", "identity.json", "pck_crl.der", "intel_root_ca_crl.der",
               "pck_crl_issuer_chain.pem", "tcb_info_issuer_chain.pem",
               "qe_identity_issuer_chain.pem")  # fmt: skip


def _verify(policy: dict[str, Any], **kw: Any) -> cocoverify.VerificationResult:
    if not LOG.is_file():
        pytest.skip(f"real vectors not available under {SHARED_VECTORS}")
    quote = (COS / "cos-113-tdx-quote.dat").read_bytes()
    return cocoverify.verify(
        quote,
        collateral=[str(COS / f) for f in _COLLATERAL],
        at=AT,
        policy=Policy.from_dict(policy),
        **kw,
    )


def test_real_log_policy_accepts_and_rejects() -> None:
    log = LOG.read_bytes() if LOG.is_file() else b""
    ok = {
        "eventlog": {
            "required": True,
            "kernel_cmdline_contains": ["console=ttyS0,115200", "module.sig_enforce=1"],
            "rtmrs": {
                "rtmr2": "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70"
                "cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1"
            },
        }
    }
    r = _verify(ok, event_log=log)
    rules = [v.rule for v in r.policy]
    assert "eventlog.rtmr2" in rules and "eventlog.kernel_cmdline_contains[1]" in rules
    with pytest.raises(PolicyRejected) as err:
        _verify({"eventlog": {"kernel_cmdline_contains": ["init=/bin/sh"]}}, event_log=log)
    assert err.value.reason is Reason.MEASUREMENT_MISMATCH and err.value.exit_code == 5
    with pytest.raises(PolicyRejected) as err:
        _verify({"eventlog": {"required": True}})  # no log given
    assert err.value.reason is Reason.POLICY_REJECTED
    # a policy with only an eventlog section still accepts the quote's TEE
    assert _verify({"eventlog": {"required": False, "initrd": ["/x"]}}).accepted


def _appraisal(b: LogBuilder) -> Appraisal:
    rtmrs = b.rtmrs()
    return appraise_with_log(
        b"q", b.build(), inner=lambda _q: Appraisal(tee="tdx", claims=MappingProxyType(rtmrs))
    )


def _failed(section: dict[str, Any], a: Appraisal) -> list[str]:
    return [v.rule for v in EventLogPolicy.from_dict("eventlog", section).rules(a) if not v.passed]


def test_rules_on_a_built_log() -> None:
    b = LogBuilder.typical()
    a = _appraisal(b)
    pull = {"domain": "github.com/confidential-containers", "operation": "PullImage",
            "content": {"digest": "sha256:00", "image": "busybox"}}  # fmt: skip
    sep = hashlib.sha384(b"\0\0\0\0").hexdigest()
    good = {
        "rtmrs": {f"rtmr{i}": [v.hex()] for i, v in enumerate(b.rtmrs().values())},
        "events": [{"digest": sep, "register": "rtmr0", "type": "EV_SEPARATOR"}],
        "kernel_cmdline": ["/vmlinuz root=/dev/vda1 console=ttyS0"],
        "kernel_cmdline_contains": ["console=ttyS0"],
        "initrd": ["/initrd.img"],
        "aael_required": [pull, {"domain": "coco.com", "operation": "op"}],
        "aael_domains": ["github.com/confidential-containers", "coco.com"],
        "aael_operations": ["PullImage", "op"],
    }
    assert _failed(good, a) == []
    assert _failed({"events": [{"digest": sep, "register": "rtmr1"}]}, a) == ["eventlog.events[0]"]
    assert _failed({"kernel_cmdline": ["other"]}, a) == ["eventlog.kernel_cmdline"]
    assert _failed({"initrd": ["/other"]}, a) == ["eventlog.initrd"]
    assert _failed({"initrd_digests": ["00" * 48]}, a) == ["eventlog.initrd_digests"]
    assert _failed({"rtmrs": {"rtmr3": ["00" * 48]}}, a) == ["eventlog.rtmr3"]
    bad_pull = dict(pull, content={"image": "evil"})
    assert _failed({"aael_required": [bad_pull]}, a) == ["eventlog.aael_required[0]"]
    assert _failed({"aael_operations": ["PullImage"]}, a) == ["eventlog.aael_operations"]
    assert _failed({"aael_domains": ["coco.com"]}, a) == ["eventlog.aael_domains"]


def test_round_trip_and_errors() -> None:
    section = {
        "required": True,
        "rtmrs": {"rtmr0": ["ab" * 48]},
        "events": [{"digest": "cd" * 48, "register": "rtmr2", "type": "EV_IPL"}],
        "kernel_cmdline": ["a"],
        "initrd_digests": ["ef" * 48],
        "aael_required": [{"domain": "d", "operation": "o", "content": {"k": [1]}}],
        "aael_operations": ["o"],
    }
    p = EventLogPolicy.from_dict("eventlog", section)
    assert p.to_dict() == section
    assert EventLogPolicy().to_dict() == {}
    assert EventLogPolicy().rules(Appraisal(tee="tdx", claims={})) == []
    for bad in (
        {"unknown": 1},
        {"required": "yes"},
        {"rtmrs": {"rtmr4": ["ab" * 48]}},
        {"rtmrs": {"rtmr0": ["ab"]}},
        {"events": [{"digest": "ab" * 48, "register": "pcr0"}]},
        {"events": [{"digest": "ab" * 48, "extra": 1}]},
        {"kernel_cmdline": [1]},
        {"aael_required": [{"domain": "d"}]},
    ):
        with pytest.raises(ConfigurationError) as err:
            Policy.from_dict({"eventlog": bad})
        assert err.value.reason is Reason.INVALID_POLICY
