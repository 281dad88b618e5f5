"""TEST ONLY. The project's CCA vectors (``vectors/cca``): a data table of cases.

Each case is (id, builder or raw bytes, expected, features, options); :func:`generate_vectors`
writes the token and the CPAK collateral of each. Deterministic (RFC 6979 signatures).
"""

from __future__ import annotations

import json
import pathlib
import shutil
from typing import Any

import cbor2

from cocoverify.tee.cca.platform import (
    PLATFORM_PROFILE_2023,
    PLATFORM_PROFILE_2024,
    PLATFORM_PROFILE_LEGACY,
)
from cocoverify.tee.cca.realm import REALM_PROFILE_1, REALM_PROFILE_2
from cocoverify_testing.cca.platform import FakeCcaPlatform
from cocoverify_testing.cca.token import CcaTokenBuilder, cbor_map
from cocoverify_testing.manifest import exit_code, write_file
from cocoverify_testing.pki import ec_key, fill

__all__ = ["generate_vectors"]

_AT = "2026-01-01T00:00:00Z"


def _indefinite_map(data: bytes) -> bytes:
    # turn the leading definite map header into an indefinite one (0xbf ... 0xff)
    n = data[0] & 0x1F
    skip = 1 if n < 24 else 2
    return b"\xbf" + data[skip:] + b"\xff"


def _nonminimal_map(data: bytes) -> bytes:
    n = data[0] & 0x1F
    assert n < 24
    return bytes([0xB8, n]) + data[1:]


def _dup_last_key(data: bytes) -> bytes:
    claims = cbor2.loads(data)
    pairs = list(claims.items())
    return cbor_map([*pairs, pairs[-1]])


def _cases() -> list[tuple[str, Any, str, list[str], dict[str, Any]]]:
    """(id, builder | bytes, expected, features, options)."""
    b = CcaTokenBuilder()
    p256 = CcaTokenBuilder(platform=FakeCcaPlatform("P-256"))
    p521 = CcaTokenBuilder(platform=FakeCcaPlatform("P-521"))
    other = ec_key("cca-other", "P-384")
    pf, rl = b.sign_parts()
    good = {1: -35}
    cases: list[tuple[str, Any, str, list[str], dict[str, Any]]] = [
        ("cca.accept.p384_cmw907", b, "accept", ["cmw-907", "es384"], {}),
        ("cca.accept.p256", p256, "accept", ["es256"], {}),
        ("cca.accept.p521", p521, "accept", ["es512"], {}),
        ("cca.accept.legacy399", b.with_container("collection-399"), "accept", ["tag-399"], {}),
        (
            "cca.accept.legacy_profiles_raw_rak",
            b.with_profiles(PLATFORM_PROFILE_LEGACY, None),
            "accept",
            ["legacy-profile", "raw-rak"],
            {},
        ),
        (
            "cca.accept.legacy_platform_realm1",
            b.with_profiles(PLATFORM_PROFILE_LEGACY, REALM_PROFILE_1),
            "accept",
            ["mixed-profiles"],
            {},
        ),
        (
            "cca.accept.realm2",
            b.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2),
            "accept",
            ["realm-2.0"],
            {},
        ),
        (
            "cca.accept.platform2024",
            b.with_profiles(PLATFORM_PROFILE_2024, REALM_PROFILE_2),
            "accept",
            ["platform-2024"],
            {},
        ),
        ("cca.accept.jwk", b, "accept", ["jwk"], {"collateral": "jwk"}),
        ("cca.accept.ta_store", b, "accept", ["ta-store"], {"collateral": "ta"}),
        ("cca.accept.binding_sha384", b.with_rak_hash_alg("sha-384"), "accept", ["binding"], {}),
        ("cca.accept.binding_sha512", b.with_rak_hash_alg("sha-512"), "accept", ["binding"], {}),
        (
            "cca.accept.unknown_realm_claims",
            b.with_realm_claim(99999, 1).with_realm_claim("x-vendor", "y"),
            "accept",
            ["unknown-claims"],
            {},
        ),
        (
            "cca.accept.policy_pins",
            b,
            "accept",
            ["policy"],
            {
                "policy": {
                    "cca": {
                        "realm_initial_measurement": [fill("cca-rim").hex()],
                        "realm_personalization_value": [fill("cca-rpv", 64).hex()],
                        "realm_extensible_measurements": [fill("cca-rem0").hex(), None, None, None],
                        "platform_implementation_id": [b.platform.implementation_id.hex()],
                        "platform_sw_components": [
                            {"type": "RSE_BL2", "measurement": fill("m-rse-bl2").hex()},
                            {"type": "RMM", "measurement": fill("m-rmm").hex()},
                        ],
                    }
                }
            },
        ),
        # policy rejections
        (
            "cca.policy.lifecycle_debug",
            b.with_platform_claim(2395, 0x4000),
            "debug_enabled",
            ["lifecycle"],
            {},
        ),
        (
            "cca.policy.lifecycle_provisioning",
            b.with_platform_claim(2395, 0x2001),
            "lifecycle_rejected",
            ["lifecycle"],
            {},
        ),
        (
            "cca.policy.rim_mismatch",
            b,
            "measurement_mismatch",
            ["policy"],
            {"policy": {"cca": {"realm_initial_measurement": ["00" * 32]}}},
        ),
        (
            "cca.policy.sw_component_mismatch",
            b,
            "measurement_mismatch",
            ["policy"],
            {
                "policy": {
                    "cca": {"platform_sw_components": [{"type": "RMM", "measurement": "00" * 32}]}
                }
            },
        ),
        # container
        ("cca.container.top_tag_18", pf, "malformed", ["container"], {}),
        (
            "cca.container.wrong_tag",
            cbor2.dumps(cbor2.CBORTag(906, {44234: [263, pf], 44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.untagged",
            cbor2.dumps({44234: [263, pf], 44241: [263, rl]}),
            "unknown_format",
            ["container"],
            {},
        ),
        (
            "cca.container.platform_missing",
            cbor2.dumps(cbor2.CBORTag(907, {44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.realm_missing",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.content_format",
            b.with_container("cmw-907", 264),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.cmw_bare_bstr",
            cbor2.dumps(cbor2.CBORTag(907, {44234: pf, 44241: rl})),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.legacy_cmw_entry",
            cbor2.dumps(cbor2.CBORTag(399, {44234: [263, pf], 44241: [263, rl]})),
            "malformed",
            ["container", "tag-399"],
            {},
        ),
        (
            "cca.container.cmw_three_elements",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf, 0], 44241: [263, rl]})),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.empty_entry",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, b""]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.non_cose_entry",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, cbor2.dumps({})], 44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        ("cca.container.trailing_bytes", b.sign() + b"\x00", "trailing_data", ["cbor"], {}),
        ("cca.container.truncated", b.sign()[:-10], "truncated", ["cbor"], {}),
        (
            "cca.container.indefinite_map",
            b"\xd9\x03\x8b" + _indefinite_map(b.sign()[3:]),
            "malformed",
            ["cbor", "indefinite"],
            {},
        ),
        (
            "cca.container.nonminimal_length",
            b"\xd9\x03\x8b" + _nonminimal_map(b.sign()[3:]),
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        (
            "cca.container.duplicate_entry",
            b"\xd9\x03\x8b"
            + cbor_map([(44234, [263, pf]), (44241, [263, rl]), (44241, [263, rl])]),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
        (
            "cca.container.nonminimal_tag",
            b"\xda\x00\x00\x03\x8b" + b.sign()[3:],
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        # COSE_Sign1
        ("cca.cose.platform_untagged", b.untagged("platform"), "malformed", ["cose"], {}),
        ("cca.cose.realm_untagged", b.untagged("realm"), "malformed", ["cose"], {}),
        (
            "cca.cose.alg_missing",
            b.with_headers("platform", {4: b"kid"}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.alg_unprotected",
            b.with_headers("platform", {}, {1: -35}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.alg_unsupported",
            b.with_headers("realm", {1: -37}),
            "unsupported_algorithm",
            ["cose"],
            {},
        ),
        (
            "cca.cose.empty_protected",
            b.with_headers("platform", None),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.crit_header",
            b.with_headers("platform", {**good, 2: [99]}),
            "unsupported_algorithm",
            ["cose"],
            {},
        ),
        (
            "cca.cose.label_in_both_headers",
            b.with_headers("platform", good, {1: -35}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_not_map",
            b.with_payload_mutation("platform", lambda _p: cbor2.dumps([1, 2])),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_undecodable",
            b.with_payload_mutation("realm", lambda _p: b"\xff\xff"),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_indefinite",
            b.with_payload_mutation("realm", _indefinite_map),
            "malformed",
            ["cbor", "indefinite"],
            {},
        ),
        (
            "cca.cose.payload_nonminimal",
            b.with_payload_mutation("realm", _nonminimal_map),
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        (
            "cca.realm.duplicate_claim",
            b.with_payload_mutation("realm", _dup_last_key),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
        (
            "cca.platform.duplicate_claim",
            b.with_payload_mutation("platform", _dup_last_key),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
    ]
    # every mandatory platform claim missing in turn
    for key, name in (
        (265, "profile"),
        (10, "challenge"),
        (2396, "implementation_id"),
        (256, "instance_id"),
        (2401, "config"),
        (2395, "lifecycle"),
        (2399, "sw_components"),
        (2402, "hash_algo_id"),
    ):
        cases.append(
            (
                f"cca.platform.{name}_missing",
                b.without_platform_claim(key),
                "malformed",
                ["claims", "platform"],
                {},
            )
        )
    cases.append(
        (
            "cca.platform.client_id_missing",
            b.with_profiles(PLATFORM_PROFILE_2024, REALM_PROFILE_2).without_platform_claim(2394),
            "malformed",
            ["claims", "platform-2024"],
            {},
        )
    )
    for name, key, value, expected in (
        ("profile_unknown", 265, "tag:example.com,2099:not_cca#9", "unsupported_profile"),
        ("challenge_array", 10, [fill("a"), fill("b")], "malformed"),
        ("implementation_id_33", 2396, fill("i", 33), "malformed"),
        ("instance_id_32", 256, fill("u"), "malformed"),
        ("instance_id_type", 256, b"\x02" + fill("u"), "malformed"),
        ("lifecycle_out_of_range", 2395, 0x7000, "malformed"),
        ("lifecycle_text", 2395, "secured", "malformed"),
        ("sw_components_empty", 2399, [], "malformed"),
        ("sw_component_no_measurement", 2399, [{1: "BL", 5: fill("s")}], "malformed"),
        ("sw_component_no_signer", 2399, [{1: "BL", 2: fill("m")}], "malformed"),
        ("sw_component_measurement_20", 2399, [{2: fill("m", 20), 5: fill("s")}], "malformed"),
        ("config_text", 2401, "cfcf", "malformed"),
        ("verification_service_empty", 2400, "", "malformed"),
    ):
        cases.append(
            (
                f"cca.platform.{name}",
                b.with_platform_claim(key, value),
                expected,
                ["claims", "platform"],
                {},
            )
        )
    cases.append(
        (
            "cca.platform.challenge_31",
            b.with_binding(fill("c", 31)),
            "malformed",
            ["claims", "platform"],
            {},
        )
    )
    # every mandatory realm claim missing in turn
    for key, name in (
        (10, "challenge"),
        (44235, "personalization_value"),
        (44238, "initial_measurement"),
        (44239, "extensible_measurements"),
        (44236, "hash_algo_id"),
        (44237, "public_key"),
        (44240, "public_key_hash_algo_id"),
    ):
        cases.append(
            (
                f"cca.realm.{name}_missing",
                b.without_realm_claim(key),
                "malformed",
                ["claims", "realm"],
                {},
            )
        )
    r2 = b.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2)
    legacy = b.with_profiles(PLATFORM_PROFILE_LEGACY, None)
    rak = b.rak_bytes()
    rak_es256 = cbor2.dumps({1: 2, 3: -7, -1: 2, -2: rak[8:56], -3: rak[59:107]})
    off_curve = cbor2.dumps({1: 2, -1: 2, -2: bytes(48), -3: b"\x01" * 48})
    cases += [
        (
            "cca.realm.instance_id_missing",
            r2.without_realm_claim(256),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        (
            "cca.realm.mec_policy_missing",
            r2.without_realm_claim(44243),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        ("cca.realm.mec_policy_2", r2.with_realm_claim(44243, 2), "malformed", ["realm-2.0"], {}),
        (
            "cca.realm.mec_policy_text",
            r2.with_realm_claim(44243, "private"),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        (
            "cca.realm.challenge_32",
            b.with_challenge(fill("n")),
            "malformed",
            ["claims", "realm"],
            {},
        ),
        (
            "cca.realm.rpv_32",
            b.with_realm_claim(44235, fill("p")),
            "malformed",
            ["claims", "realm"],
            {},
        ),
        (
            "cca.realm.rim_20",
            b.with_realm_claim(44238, fill("r", 20)),
            "malformed",
            ["claims", "realm"],
            {},
        ),
        ("cca.realm.rems_3", b.with_realm_claim(44239, [fill("x")] * 3), "malformed", ["rems"], {}),
        ("cca.realm.rems_5", b.with_realm_claim(44239, [fill("x")] * 5), "malformed", ["rems"], {}),
        (
            "cca.realm.rem_20",
            b.with_realm_claim(44239, [fill("x")] * 3 + [fill("y", 20)]),
            "malformed",
            ["rems"],
            {},
        ),
        (
            "cca.realm.hash_algo_unknown",
            b.with_realm_claim(44236, "sha-1"),
            "unsupported_algorithm",
            ["hash-alg"],
            {},
        ),
        (
            "cca.realm.rak_hash_algo_unknown",
            b.with_rak_hash_alg("sha3-256"),
            "unsupported_algorithm",
            ["hash-alg"],
            {},
        ),
        (
            "cca.realm.profile_unknown",
            b.with_profiles(PLATFORM_PROFILE_2023, "tag:arm.com,2099:realm#9"),
            "unsupported_profile",
            ["profile"],
            {},
        ),
        (
            "cca.realm.raw_rak_wrong_length",
            legacy.with_rak_bytes(b"\x04" + bytes(95)),
            "malformed",
            ["rak"],
            {},
        ),
        ("cca.realm.cose_key_garbage", b.with_rak_bytes(b"\xa1\x01"), "truncated", ["rak"], {}),
        (
            "cca.realm.cose_key_raw_point",
            b.with_rak_bytes(legacy.rak_bytes()),
            "trailing_data",
            ["rak"],
            {},
        ),
        ("cca.realm.rak_off_curve", b.with_rak_bytes(off_curve), "malformed", ["rak"], {}),
        # signatures
        (
            "cca.sig.platform_bitflip",
            b.with_signature_defect("platform", "bitflip"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_bitflip",
            b.with_signature_defect("realm", "bitflip"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_truncated",
            b.with_signature_defect("platform", "truncate"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_empty",
            b.with_signature_defect("platform", "empty"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_der",
            b.with_signature_defect("platform", "der"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_zero",
            b.with_signature_defect("realm", "zero"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_other_key",
            b.with_signer("platform", other),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_other_key",
            b.with_signer("realm", other),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_alg_curve_mismatch",
            b.with_alg("platform", -7),
            "key_type_mismatch",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_alg_curve_mismatch",
            b.with_alg("realm", -36),
            "key_type_mismatch",
            ["signature"],
            {},
        ),
        (
            "cca.sig.rak_cose_alg_mismatch",
            b.with_rak_bytes(rak_es256),
            "key_type_mismatch",
            ["signature", "rak"],
            {},
        ),
        # binding
        (
            "cca.binding.mismatch",
            b.with_binding(fill("not-the-rak")),
            "binding_invalid",
            ["binding"],
            {},
        ),
        (
            "cca.binding.declared_alg_differs",
            b.with_rak_hash_alg("sha-512").with_realm_claim(44240, "sha-256"),
            "binding_invalid",
            ["binding"],
            {},
        ),
        (
            "cca.binding.length_differs",
            b.with_rak_hash_alg("sha-384").with_binding(fill("x", 48)[:32]),
            "binding_invalid",
            ["binding"],
            {},
        ),
        # collateral
        ("cca.collateral.missing", b, "collateral_missing", ["collateral"], {"collateral": "none"}),
        (
            "cca.collateral.other_instance",
            b,
            "collateral_missing",
            ["collateral", "ta-store"],
            {"collateral": "ta-other"},
        ),
        (
            "cca.collateral.bad_jwk",
            b,
            "collateral_malformed",
            ["collateral", "jwk"],
            {"collateral": "bad-jwk"},
        ),
        (
            "cca.collateral.wrong_curve",
            b,
            "key_type_mismatch",
            ["collateral"],
            {"collateral": "p256"},
        ),
    ]
    return cases


def generate_vectors(outdir: str | pathlib.Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/cca/<id>/`` (token.cbor + CPAK file) and return the manifest entries.

    Paths in the entries are relative to ``outdir``; ``<outdir>/cca`` is recreated.
    Deterministic (RFC 6979 signatures): the same bytes every run. TEST ONLY keys.
    """
    outdir = pathlib.Path(outdir)
    shutil.rmtree(outdir / "cca", ignore_errors=True)
    entries: list[dict[str, Any]] = []
    for case_id, source, expected, features, opts in _cases():
        folder = pathlib.Path("cca") / case_id
        if isinstance(source, CcaTokenBuilder):
            token, platform = source.sign(), source.platform
        else:
            token, platform = bytes(source), FakeCcaPlatform()
        evidence = write_file(outdir, folder / "token.cbor", token)
        kind = opts.get("collateral", "pem")
        collateral: list[str] = []
        content: bytes | None = None
        name = "cpak.pem"
        if kind == "pem":
            content = platform.cpak_pem()
        elif kind == "p256":
            content = FakeCcaPlatform("P-256").cpak_pem()
        elif kind == "jwk":
            name, content = "cpak.jwk.json", json.dumps(platform.cpak_jwk()).encode()
        elif kind == "ta":
            name, content = "ta-store.json", json.dumps(platform.ta_store()).encode()
        elif kind == "ta-other":
            store = platform.ta_store(b"\x01" + fill("some-other-platform"))
            name, content = "ta-store.json", json.dumps(store).encode()
        elif kind == "bad-jwk":
            jwk = dict(platform.cpak_jwk())
            jwk["y"] = FakeCcaPlatform(platform.curve, "elsewhere").cpak_jwk()["y"]
            name, content = "cpak.jwk.json", json.dumps(jwk).encode()
        if content is not None:
            collateral.append(write_file(outdir, folder / name, content))
        entries.append(
            {
                "id": case_id,
                "platform": "cca",
                "evidence": evidence,
                "collateral": collateral,
                "trust": None,
                "policy": opts.get("policy"),
                "at": _AT,
                "expected": expected,
                "exit_code": exit_code(expected),
                "features": features,
            }
        )
    return entries
