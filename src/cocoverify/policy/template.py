"""``cocoverify policy init``: a commented YAML policy that pins one verified evidence.

From a :class:`VerificationResult` (the evidence already verified with its collateral), the
policy pins what identifies the workload (per TEE: the measurement registers and identities)
and accepts the TCB status and advisories the evidence gets now. Every pinned key is one of
the policy's own keys (docs/policy.md); the text is checked to build a :class:`Policy` before
it is returned. Values that are per machine or per boot (a CCA instance ID, an SE CUID, Nitro
PCR4) are written as comments: pinning them would accept one machine only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from cocoverify.errors import ConfigurationError, Reason
from cocoverify.policy.check import check_text
from cocoverify.result import VerificationResult

__all__ = ["policy_yaml"]

#: one pinned key: (policy key, value or None to skip, comment, commented out)
Pin = tuple[str, Any, str, bool]


def _hex(value: Any) -> str | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value if isinstance(value, str) else None


def _one(claims: Mapping[str, Any], name: str) -> list[str] | None:
    value = _hex(claims.get(name))
    return [value] if value is not None else None


def _tdx(c: Mapping[str, Any]) -> list[Pin]:
    pins: list[Pin] = [
        ("mr_td", _one(c, "mr_td"), "MRTD: the TD's initial memory (virtual firmware)", False),
        ("rtmr0", _one(c, "rtmr0"), "RTMR0: firmware configuration (TD HOB, ACPI tables)", False),
        ("rtmr1", _one(c, "rtmr1"), "RTMR1: the boot loader and kernel image", False),
        ("rtmr2", _one(c, "rtmr2"), "RTMR2: kernel command line and initrd", False),
        ("rtmr3", _one(c, "rtmr3"), "RTMR3: runtime (e.g. the attestation agent's log)", False),
        ("mr_config_id", _one(c, "mr_config_id"), "MRCONFIGID: host-provided config", False),
        ("mr_owner", _one(c, "mr_owner"), "MROWNER", False),
        ("mr_owner_config", _one(c, "mr_owner_config"), "MROWNERCONFIG", False),
        ("mr_seam", _one(c, "mr_seam"), "MRSEAM: the TDX module (changes on updates)", False),
        ("mr_signer_seam", _one(c, "mr_signer_seam"), "MRSIGNERSEAM", False),
    ]
    if c.get("mr_service_td") is not None:
        pins.append(("mr_service_td", _one(c, "mr_service_td"), "MRSERVICETD", False))
    if _hex(c.get("td_attributes")) is not None:
        pins.append(("td_attributes_mask", "ff" * 8, "TDATTRIBUTES: every bit as now", False))
        pins.append(("td_attributes_value", _hex(c["td_attributes"]), "", False))
    if _hex(c.get("xfam")) is not None:
        pins.append(("xfam_mask", "ff" * 8, "XFAM: the CPU features as now", False))
        pins.append(("xfam_value", _hex(c["xfam"]), "", False))
    return pins


def _sgx(c: Mapping[str, Any]) -> list[Pin]:
    return [
        ("mr_enclave", _one(c, "mr_enclave"), "MRENCLAVE: the enclave's code and data", False),
        ("mr_signer", _one(c, "mr_signer"), "MRSIGNER: the enclave author's key", False),
        ("isv_prod_id", [c.get("isv_prod_id")], "ISVPRODID", False),
        ("min_isv_svn", c.get("isv_svn"), "ISVSVN at least as now", False),
        ("config_id", _one(c, "config_id"), "CONFIGID", False),
        ("min_config_svn", c.get("config_svn"), "CONFIGSVN at least as now", False),
        ("isv_ext_prod_id", _one(c, "isv_ext_prod_id"), "ISVEXTPRODID", False),
        ("isv_family_id", _one(c, "isv_family_id"), "ISVFAMILYID", False),
    ]


def _snp(c: Mapping[str, Any]) -> list[Pin]:
    tcb = c.get("reported_tcb") or {}
    minimum = {k: tcb[k] for k in ("fmc", "bootloader", "tee", "snp", "microcode") if k in tcb}
    policy = c.get("policy") or {}
    platform = c.get("platform_info") or {}
    on = [k for k, v in policy.items() if v is True]
    pins: list[Pin] = [
        ("measurement", _one(c, "measurement"), "MEASUREMENT: the launch digest", False),
        ("host_data", _one(c, "host_data"), "HOST_DATA (e.g. the init-data digest)", False),
        ("family_id", _one(c, "family_id"), "FAMILY_ID", False),
        ("image_id", _one(c, "image_id"), "IMAGE_ID", False),
        ("id_key_digest", _one(c, "id_key_digest"), "ID_KEY_DIGEST", False),
        ("vmpl", [c.get("vmpl")], "VMPL the report was requested from", False),
        ("min_guest_svn", c.get("guest_svn"), "GUEST_SVN at least as now", False),
        ("min_reported_tcb", minimum, "REPORTED_TCB at least as now (SPLs)", False),
        (
            "allow_migration_agent",
            bool(policy.get("migrate_ma")),
            "POLICY bits now: " + (", ".join(on) or "none"),
            False,
        ),
        ("allow_smt", bool(platform.get("smt_en", True)), "PLATFORM_INFO.SMT_EN as now", False),
        ("chip_id", _one(c, "chip_id"), "CHIP_ID: this one machine only", True),
    ]
    if c.get("author_key_en"):
        pins.insert(5, ("author_key_digest", _one(c, "author_key_digest"), "", False))
    return pins


#: the keys of a cca.platform_sw_components reference (tee/cca/policy.py SwComponentReference)
_CCA_COMPONENT_KEYS = ("measurement", "signer_id", "type", "version")


def _cca(c: Mapping[str, Any]) -> list[Pin]:
    realm, plat = c.get("realm") or {}, c.get("platform") or {}
    rems = [[_hex(v)] for v in realm.get("extensible_measurements") or ()]
    components = [
        {
            k: _hex(v) if k in ("measurement", "signer_id") else v
            for k, v in sw.items()
            if k in _CCA_COMPONENT_KEYS  # what a reference names (docs/cca.md); not hash_algo
        }
        for sw in plat.get("sw_components") or ()
        if isinstance(sw, Mapping)
    ]
    return [
        ("realm_initial_measurement", _one(realm, "initial_measurement"), "RIM", False),
        ("realm_extensible_measurements", rems or None, "REM0..REM3", False),
        ("realm_personalization_value", _one(realm, "personalization_value"), "RPV", False),
        ("platform_implementation_id", _one(plat, "implementation_id"), "", False),
        ("platform_sw_components", components or None, "the platform firmware", False),
        ("platform_instance_id", _one(plat, "instance_id"), "this one machine only", True),
    ]


def _nitro(c: Mapping[str, Any]) -> list[Pin]:
    def pcr(i: int) -> list[str] | None:
        value = _hex(c.get(f"pcr{i}"))
        return [value] if value is not None and any(ch != "0" for ch in value) else None

    pcrs = {str(i): pcr(i) for i in (0, 1, 2, 8) if pcr(i) is not None}
    return [
        ("pcrs", pcrs, "PCR0 image, PCR1 kernel, PCR2 application, PCR8 signing cert", False),
    ]


def _se(c: Mapping[str, Any]) -> list[Pin]:
    return [
        ("tag", _one(c, "tag"), "the SE image header's tag", False),
        ("image_phkh", _one(c, "image_phkh"), "host key hash of the image", False),
        ("attestation_phkh", _one(c, "attestation_phkh"), "host key hash of the request", False),
        ("cuid", _one(c, "cuid"), "CUID: this one machine only", True),
    ]


def _gpu(c: Mapping[str, Any]) -> list[Pin]:
    measurements = c.get("measurements") or {}
    config = c.get("config") or {}
    return [
        ("measurements", {str(k): [v] for k, v in measurements.items()}, "SPDM blocks", False),
        ("arches", [c["arch"]] if c.get("arch") not in (None, "unknown") else None, "", False),
        (
            "driver_versions",
            [config["driver_version"]] if "driver_version" in config else None,
            "",
            False,
        ),
        (
            "vbios_versions",
            [config["vbios_version"]] if "vbios_version" in config else None,
            "",
            False,
        ),
    ]


def _azure(claims: Mapping[str, Any]) -> list[Pin]:
    c = claims.get("azure") or claims  # az-*: under "azure"; trustee's tpm: at the top
    pcrs = c.get("pcrs") or {}
    boot = {str(i): [_hex(pcrs[str(i)])] for i in range(8) if str(i) in pcrs}
    config = c.get("vm_configuration") or {}
    pins: list[Pin] = [("pcrs", boot or None, "vTPM PCR0..7: firmware and boot", False)]
    for key, name in (
        ("secure_boot", "secure-boot"),
        ("tpm_enabled", "tpm-enabled"),
        ("console_enabled", "console-enabled"),
    ):
        if isinstance(config.get(name), bool):
            pins.append((key, config[name], f"VM configuration {name}", False))
    return pins


#: policy section -> the pins of its evidence
_SECTIONS: dict[str, Callable[[Mapping[str, Any]], list[Pin]]] = {
    "tdx": _tdx,
    "sgx": _sgx,
    "snp": _snp,
    "cca": _cca,
    "nitro": _nitro,
    "se": _se,
    "gpu": _gpu,
    "az-snp-vtpm": _azure,
    "az-tdx-vtpm": _azure,
    "tpm": _azure,
}


def _flow(value: Any) -> str:
    """A YAML flow value (JSON is YAML)."""
    return json.dumps(value)


def _section_lines(tee: str, pins: list[Pin]) -> list[str]:
    out = [f"{tee}:"]
    for key, value, comment, commented in pins:
        if value is None or value == {} or value == [None]:
            continue
        if comment:
            out.append(f"  # {comment}")
        out.append(f"  {'# ' if commented else ''}{key}: {_flow(value)}")
    return out


def policy_yaml(result: VerificationResult, *, source: str) -> str:
    """The commented YAML text; ConfigurationError when it would not load (a bug)."""
    tee = result.tee
    lines = [
        f"# cocoverify policy pinned from {source} by `cocoverify policy init`",
        f"# {tee} evidence verified at {result.to_dict()['verified_at']}"
        + (f", TCB status {result.tcb_status}" if result.tcb_status else ""),
        "# Review it: every value below is what this one piece of evidence carries.",
        "# Check it with `cocoverify policy check FILE`; use it with `verify --policy FILE`.",
        "",
        "# only this TEE's evidence passes",
        f"allowed_tees: {_flow([tee])}",
    ]
    if result.tcb_status is not None:
        statuses = sorted({"UpToDate", result.tcb_status})
        lines += [
            "# the TCB status this evidence gets now (and UpToDate, after platform updates)",
            f"accepted_tcb_statuses: {_flow(statuses)}",
        ]
        if result.advisory_ids:
            lines += [
                "# the advisories of that status now; a new advisory rejects until reviewed",
                f"allowed_advisory_ids: {_flow(sorted(result.advisory_ids))}",
            ]
    pins = _SECTIONS.get(tee)
    if pins is None:
        raise ConfigurationError(
            f"policy init: no measurements to pin for {tee} evidence",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    lines += ["", *_section_lines(tee, pins(_plain(result.claims)))]
    if "event_log" in result.claims:
        lines += [
            "# The event log replayed to the RTMRs pinned above; per-event rules: see the",
            "# eventlog section in docs/eventlog.md.",
        ]
    text = "\n".join(lines) + "\n"
    policy, problems = check_text(text.encode(), "<policy init>")
    if policy is None:
        raise ConfigurationError(
            "policy init produced an invalid policy: " + "; ".join(map(str, problems)),
            reason=Reason.INVALID_POLICY,
        )
    return text


def _plain(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Claims as plain dicts and lists (read-only mappings and tuples thawed)."""

    def thaw(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {str(k): thaw(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [thaw(x) for x in v]
        return v

    out: dict[str, Any] = thaw(claims)
    return out
