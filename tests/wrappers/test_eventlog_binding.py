"""Event data bound to its digest (wrappers.tdx_eventlog.unbound_event): replaying the log binds
only the digests, so data that claims and the eventlog: policy read must be what was measured.
A change under an unchanged digest is event_log_mismatch (exit 3); every real log passes."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import cocoverify
from cocoverify._core.eventlog import parse_event_log
from cocoverify.errors import AuthenticityError, Reason
from cocoverify.result import Appraisal
from cocoverify.wrappers.eventlog_policy import EventLogPolicy
from cocoverify.wrappers.tdx_eventlog import appraise_with_log, event_claims, unbound_event
from cocoverify_testing.eventlog import LogBuilder, efi_variable

from _shared import SHARED_VECTORS

EL = SHARED_VECTORS / "tdx-eventlog"
PROJECT = Path(__file__).resolve().parents[2] / "vectors" / "eventlog"


def _real_logs() -> list[Path]:
    if not EL.is_dir():
        return []
    return sorted(
        p
        for p in EL.glob("*/*")
        if (p.name.startswith("CCEL") and p.suffix != ".json") or p.name == "cos-113-intel-tdx.bin"
    )


def _inner_for(rtmrs: dict[str, bytes]) -> Callable[[bytes], Appraisal]:
    def inner(_quote: bytes) -> Appraisal:
        return Appraisal(tee="tdx", claims=dict(rtmrs), tcb_status="UpToDate")

    return inner


@pytest.mark.parametrize("path", _real_logs(), ids=lambda p: p.parent.name)
def test_every_event_of_every_real_log_is_bound(path: Path) -> None:
    log = parse_event_log(path.read_bytes())
    assert [e.offset for e in log.events if unbound_event(e) is not None] == []


def test_real_logs_are_present() -> None:
    if not EL.is_dir():
        pytest.skip(f"real vectors not available: {EL} is absent")
    assert len(_real_logs()) >= 6


def test_upstream_grub_commands_are_read() -> None:
    """GRUB 2.06+ writes "grub_cmd: <command>" (the COS-113 log); its linux command is read."""
    path = EL / "gotdx-cos113-ccel-with-quote" / "cos-113-intel-tdx.bin"
    if not path.is_file():
        pytest.skip(f"real vectors not available: {path} is absent")
    claims = event_claims(parse_event_log(path.read_bytes()))
    assert claims["kernel"] == "/syslinux/vmlinuz.A"
    assert any(c.startswith("linux /syslinux/vmlinuz.A") for c in claims["grub_commands"])


def _tampered(entry: int, old: bytes, new: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The typical log with ``old`` replaced by ``new`` in one event's data, digests kept."""
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    e = b.entries[entry]
    e.digests = LogBuilder._digests(e)  # keep what was measured
    assert old in e.data and len(old) == len(new)
    e.data = e.data.replace(old, new)
    return b.build(), rtmrs


@pytest.mark.parametrize(
    ("entry", "old", "new", "register"),
    [
        (0, b"\x01", b"\x00", "rtmr0"),  # SecureBoot variable value (EV_EFI_VARIABLE_DRIVER_CONFIG)
        (1, b"\0\0\0\0", b"\xff\xff\xff\xff", "rtmr0"),  # EV_SEPARATOR
        (2, b"Calling", b"Kalling", "rtmr1"),  # EV_EFI_ACTION
        (3, b"console=ttyS0", b"evil=1 ttyS0 ", "rtmr2"),  # grub_cmd linux
        (4, b"console=ttyS0", b"evil=1 ttyS0 ", "rtmr2"),  # grub_kernel_cmdline
        (5, b"/initrd.img", b"/evil.image", "rtmr2"),  # grub_cmd initrd
        (6, b"busybox", b"evilbox", "rtmr3"),  # AAEL entry
    ],
)
def test_data_changed_under_its_digest_is_event_log_mismatch(
    entry: int, old: bytes, new: bytes, register: str
) -> None:
    log, rtmrs = _tampered(entry, old, new)
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(b"q", log, inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH and err.value.exit_code == 3
    assert err.value.details["register"] == register


def test_the_untampered_log_is_accepted() -> None:
    b = LogBuilder.typical()
    a = appraise_with_log(b"q", b.build(), inner=_inner_for(b.rtmrs()))
    assert a.claims["event_log"]["kernel_cmdline"] == "/vmlinuz root=/dev/vda1 console=ttyS0"


def test_a_forged_command_line_cannot_pass_a_policy_through_verify() -> None:
    """The mutation sweep's finding: the command line changed under its digest in the
    generated trustee JSON; verify() refuses it whatever the policy says."""
    case = PROJECT / "eventlog.good.policy"
    manifest = json.loads((PROJECT.parent / "manifest.json").read_text())
    entry = next(c for c in manifest["cases"] if c["id"] == "eventlog.good.policy")
    doc = json.loads((case / "evidence.json").read_text())
    log = bytearray(base64.b64decode(doc["cc_eventlog"]))
    i = bytes(log).find(b"console=ttyS0", 479)
    log[i : i + 13] = b"evil=1 ttyS0 "
    doc["cc_eventlog"] = base64.b64encode(bytes(log)).decode()
    trust = cocoverify.TrustStore(**entry["trust"])
    coll = [str(PROJECT.parent / f) for f in entry["collateral"]]
    policy = cocoverify.Policy.from_dict({"eventlog": {"kernel_cmdline_contains": ["evil=1"]}})
    with pytest.raises(AuthenticityError) as err:
        cocoverify.verify(
            json.dumps(doc).encode(), collateral=coll, trust=trust, at=entry["at"], policy=policy
        )
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH


def test_an_unsupported_digest_algorithm_is_not_checked() -> None:
    """SM3-only logs are refused as unsupported before this check; an event whose only digest
    has an algorithm this Python cannot hash is not judged bound or unbound."""
    b = LogBuilder.typical()
    e = parse_event_log(b.build()).events[3]
    fake = dataclasses.replace(e, digests=())
    assert unbound_event(fake) is None


@pytest.mark.parametrize(
    ("entry", "old", "new"),
    [
        (3, b"grub_cmd linux", b"grub_cme linux"),  # damaged GRUB prefix
        (4, b"grub_kernel_", b"grub_kennel_"),
        (5, b"grub_cmd initrd", b"gsub_cmd initrd"),
        (6, b"LEAA", b"LEAE"),  # damaged AAEL tag: the entry would vanish from aael claims
    ],
)
def test_a_damaged_prefix_cannot_hide_an_event(entry: int, old: bytes, new: bytes) -> None:
    """The digest shows the event was a GRUB string or an AAEL entry: a changed (unmeasured)
    prefix or tag would hide it from the claims and from rules such as aael_domains."""
    log, rtmrs = _tampered(entry, old, new)
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(b"q", log, inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH


@pytest.mark.parametrize(
    ("entry", "new_type"),
    [(3, 0x1), (4, 0x1), (6, 0x1), (3, 0x4), (6, 0x4), (6, 0x80000007)],
)
def test_a_changed_event_type_cannot_hide_an_event(entry: int, new_type: int) -> None:
    """GRUB strings and AAEL entries retyped (EV_POST_CODE, or EV_SEPARATOR / EV_EFI_ACTION,
    whose data is the hash input as for an AAEL entry): the EventType field is not measured."""
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    e = b.entries[entry]
    e.digests = LogBuilder._digests(e)
    e.event_type = new_type
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH


def test_a_changed_type_of_an_unread_event_is_reported_as_given() -> None:
    """EV_SEPARATOR recorded as EV_POST_CODE: nothing of cocoverify's claims or policy reads
    it, the log replays, so it is accepted and the event shows the type it was given."""
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    b.entries[1].digests = LogBuilder._digests(b.entries[1])
    b.entries[1].event_type = 0x1
    a = appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs))
    assert a.claims["event_log"]["events"][1]["type"] == "EV_POST_CODE"


def _boot_variable_log(value: bytes, name: str = "BootOrder") -> tuple[bytes, dict[str, bytes]]:
    """The typical log plus an EV_EFI_VARIABLE_BOOT whose digest is of its VariableData only
    (as EDK2 measures boot variables: every real TDX log), then its data replaced."""
    b = LogBuilder.typical()
    data = efi_variable(bytes(16), "BootOrder", b"\x01\x00\x00\x00")
    b.add(2, 0x80000002, data, digests=[(0xC, hashlib.sha384(b"\x01\x00\x00\x00").digest())])
    rtmrs = b.rtmrs()
    b.entries[-1].data = efi_variable(bytes(16), name, value)
    return b.build(), rtmrs


def test_a_boot_variable_value_is_bound() -> None:
    log, rtmrs = _boot_variable_log(b"\x01\x00\x00\x00")
    appraise_with_log(b"q", log, inner=_inner_for(rtmrs))
    log, rtmrs = _boot_variable_log(b"\x02\x00\x00\x00")
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(b"q", log, inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH


def test_a_boot_variable_name_is_not_measured() -> None:
    """EDK2 hashes only VariableData: the name is reported as given (docs/eventlog.md)."""
    log, rtmrs = _boot_variable_log(b"\x01\x00\x00\x00", name="BootOrdex")
    a = appraise_with_log(b"q", log, inner=_inner_for(rtmrs))
    assert a.claims["event_log"]["events"][-1]["details"]["unicode_name"] == "BootOrdex"


def test_an_aael_entry_made_unrecognisable_fails_the_aael_rules() -> None:
    """Two changed bytes (the tag and a byte of the entry) match no reading of the digest,
    so the entry is not an AAEL entry any more and would vanish from aael_domains' view: the
    rules on every entry then fail (eventlog.aael_complete)."""
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    e = b.entries[7]  # "coco.com op some content"
    e.digests = LogBuilder._digests(e)
    e.data = b"XEAA" + e.data[4:8] + bytes([e.data[8] ^ 1]) + e.data[9:]
    a = appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs))
    assert [x["domain"] for x in a.claims["aael"]] == ["github.com/confidential-containers"]
    policy = EventLogPolicy.from_dict(
        "eventlog", {"aael_domains": ["github.com/confidential-containers"]}
    )
    verdicts = {v.rule: v.passed for v in policy.rules(a)}
    assert verdicts["eventlog.aael_complete"] is False
    untouched = LogBuilder.typical()
    ok = appraise_with_log(b"q", untouched.build(), inner=_inner_for(untouched.rtmrs()))
    assert "eventlog.aael_complete" not in {v.rule for v in policy.rules(ok)}
