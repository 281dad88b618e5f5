"""Product, VCEK/VLEK selection, report signature and the binding of the KDS extensions to the
report (docs/snp.md "Order of checks" steps 2, 3, 6, 7)."""

from __future__ import annotations

import pytest

from cocoverify.errors import ChainInvalid, CollateralUnavailable, Reason, UnsupportedEvidence
from cocoverify.tee.snp.parse import parse_report
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.tee.snp.verify import parse_vek_extensions, select_vek
from cocoverify.trust import TrustStore
from cocoverify_testing.pki import CertSpec, ec_key, issue
from cocoverify_testing.snp import EPOCH, FakeAmdPKI, SnpReportBuilder, _amd_name

# --- product --------------------------------------------------------------------------------------
from _shared.snp import MB, TB, M, T, rejects, verify_with


def test_unknown_cpuid_is_unsupported_product() -> None:
    rep = MB.set(cpuid_fam_id=0x1A, cpuid_mod_id=0x50).sign(M)  # Venice: no chain known
    rejects(UnsupportedEvidence, Reason.UNSUPPORTED_PRODUCT, rep, M.vcek_for(rep), M.ask, M.ark)


def test_v2_product_comes_from_the_certificate_issuer() -> None:
    v2 = SnpReportBuilder.for_product("Turin", version=2).sign(T)
    assert verify_with(v2, T.vcek_for(v2), T.ask, T.ark).claims["product"] == "Turin"


def test_v2_with_unknown_issuer_product() -> None:
    v2 = SnpReportBuilder.for_product("Milan", version=2).sign(M)
    spec = CertSpec(
        subject=M.vcek_for(v2).subject,
        public_key=M.vcek_key.public_key(),
        serial=1,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=2030),
    )
    odd = issue(spec, issuer=_amd_name("SEV-Venice"), issuer_key=ec_key("venice", "P-384"))
    rejects(UnsupportedEvidence, Reason.UNSUPPORTED_PRODUCT, v2, odd, M.ask, M.ark)


# --- selecting the VCEK/VLEK ----------------------------------------------------------------------


def test_no_vek_is_collateral_missing() -> None:
    rejects(CollateralUnavailable, Reason.COLLATERAL_MISSING, MB.sign(M), M.ask, M.ark)


def test_the_vek_that_signed_the_report_is_chosen() -> None:
    rep = MB.sign(M)
    other = M.vcek_for(rep, key=ec_key("another-vcek", "P-384"))
    right = M.vcek_for(rep)
    assert select_vek([other, right], 0, parse_report(rep)) == right
    assert verify_with(rep, other, right, M.ask, M.ark).accepted


# --- extensions and binding -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["2", "3.1", "3.2", "3.3", "3.8", "4"])
def test_missing_extension_is_profile_invalid(suffix: str) -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep, omit=(suffix,))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, rep, vcek, M.ask, M.ark)


def test_turin_needs_fmc_extension() -> None:
    rep = TB.sign(T)
    vcek = T.vcek_for(rep, omit=("3.9",))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, rep, vcek, T.ask, T.ark)


@pytest.mark.parametrize(
    ("suffix", "value"),
    [
        ("3.1", b"\x04\x01\x03"),
        ("3.1", b"\x02\x01\xff"),
        ("3.1", b"\x02\x01\x03\x00"),
        ("3.1", b"\x02"),
        ("2", b"\x02\x01\x00"),
        ("2", b"\x16\x02\xff\xfe"),
    ],
)
def test_badly_encoded_extension(suffix: str, value: bytes) -> None:
    with pytest.raises(ChainInvalid) as exc:
        parse_vek_extensions(M.vcek(ext_values={suffix: value}))
    assert exc.value.reason is Reason.CERTIFICATE_PROFILE_INVALID


def test_hwid_length_per_product() -> None:
    rep = MB.sign(M)
    short = M.vcek_for(rep, hwid=parse_report(rep).chip_id[:8])
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, rep, short, M.ask, M.ark)
    trep = TB.sign(T)
    long = T.vcek_for(trep, hwid=parse_report(trep).chip_id)
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, trep, long, T.ask, T.ark)


def test_octet_string_wrapped_hwid_is_accepted() -> None:
    rep = MB.sign(M)
    chip = parse_report(rep).chip_id
    wrapped = M.vcek_for(rep, ext_values={"4": b"\x04\x40" + chip})
    assert verify_with(rep, wrapped, M.ask, M.ark).accepted


def test_vlek_report_ignores_chip_id() -> None:
    rep = MB.vlek().set(chip_id=b"\x07" * 64).sign(M)
    res = verify_with(rep, M.vlek(), M.asvk, M.ark)
    assert res.claims["signing_key"] == "VLEK"
    assert res.collateral["csp_id"] == "CN=cloud.test.example"


def test_masked_chip_id_on_turin() -> None:
    rep = TB.set(chip_id=bytes(64)).sign(T)
    assert verify_with(rep, T.vcek(), T.ask, T.ark).claims["chip_id_masked"] is True


def test_productname_stepping_is_ignored() -> None:
    rep = MB.sign(M)
    assert verify_with(rep, M.vcek_for(rep, product_name="Milan-C1"), M.ask, M.ark).accepted


# --- REPORTED_TCB above CURRENT_TCB (go-sev-guest validateTcb) ------------------------------------


def test_reported_tcb_above_current_tcb_is_rejected() -> None:
    for component in ("bootloader", "tee", "snp", "microcode"):
        base = TcbVersion(bootloader=3, tee=0, snp=20, microcode=209)
        higher = TcbVersion(**{**base.components(), component: base.components()[component] + 1})
        rep = MB.set(reported_tcb=higher).sign(M)
        rejects(ChainInvalid, Reason.TCB_MISMATCH, rep, M.vcek_for(rep), M.ask, M.ark)
    # lower REPORTED_TCB (a VCEK at an older TCB) stays acceptable
    lower = TcbVersion(bootloader=3, tee=0, snp=19, microcode=209)
    rep = MB.set(reported_tcb=lower).sign(M)
    assert verify_with(rep, M.vcek_for(rep), M.ask, M.ark).accepted


def test_turin_fmc_above_current_is_rejected() -> None:
    t = FakeAmdPKI("Turin")
    trust = TrustStore.from_certificates(amd={"Turin": [t.ark]})
    tb = SnpReportBuilder.for_product("Turin")
    higher = TcbVersion(bootloader=3, tee=2, snp=5, microcode=97, fmc=2)
    rep = tb.set(reported_tcb=higher).sign(t)
    rejects(ChainInvalid, Reason.TCB_MISMATCH, rep, t.vcek_for(rep), t.ask, t.ark, trust=trust)
