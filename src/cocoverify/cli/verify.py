"""``cocoverify verify``: one evidence file, one verdict, a meaningful exit code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import cocoverify.api as _api
import cocoverify.cli.fetch as fetch
from cocoverify._core.io import ARGUMENT_LIMIT, EVIDENCE_LIMIT, read_capped
from cocoverify._core.text import decode_text
from cocoverify._core.x509 import load_certificates
from cocoverify.cli.output import error_dict, render_text, use_colour, write_json
from cocoverify.collateral import load_collateral
from cocoverify.errors import (
    CocoverifyError,
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
)
from cocoverify.integrations.ear import (
    PROFILE,
    TRUSTEE_PROFILE,
    VERAISON_PROFILE,
    sign_ear,
    to_composite_ear,
    to_ear,
)
from cocoverify.integrations.reference import load_reference_values
from cocoverify.integrations.rego import RegoDecision, evaluate_policy, reject
from cocoverify.integrations.trustee import composite_primary
from cocoverify.policy import Policy
from cocoverify.registry import peek_tee
from cocoverify.result import VerificationResult
from cocoverify.trust import TrustStore
from cocoverify.wrappers.composite import looks_like_kbs

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="verify one piece of evidence",
        description="Verify evidence (raw bytes, hex or base64 text; kind detected from content).",
    )
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file, or - for stdin")
    p.add_argument(
        "--collateral",
        action="append",
        default=[],
        metavar="PATH",
        help="collateral file or directory (repeatable; recognised by content)",
    )
    p.add_argument("--at", metavar="ISO8601", help="verification time (default: now)")
    p.add_argument("--policy", metavar="FILE", help="policy file (JSON or YAML)")
    p.add_argument(
        "--report-data",
        "--nonce",
        dest="report_data",
        metavar="HEX",
        help="expected report data / nonce (hex; zero-padded to the field)",
    )
    p.add_argument(
        "--init-data",
        dest="init_data",
        metavar="HEX",
        help="expected init-data digest (MRCONFIGID / CONFIGID / HOST_DATA / RPV)",
    )
    p.add_argument(
        "--trust-root",
        action="append",
        default=[],
        metavar="PEM",
        help="pin these root certificates instead of the built-in vendor roots "
        "(test PKIs, pre-production); ARK-<product> roots count for AMD",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "ear"),
        default="text",
        help="ear: an EAR attestation result (docs/ear.md); a signed JWT with --ear-key, "
        "else the unsigned claims as JSON",
    )
    p.add_argument(
        "--ear-key",
        metavar="PEM",
        help="EC P-256 (ES256) or P-384 (ES384) private key that signs the EAR",
    )
    p.add_argument(
        "--ear-profile",
        choices=("cocoverify", "trustee", "veraison"),
        default="cocoverify",
        help="eat_profile of the EAR (trustee: the CoCo AS profile string; veraison: the EAR "
        "draft's profile that Veraison's verifier accepts, docs/ear.md)",
    )
    p.add_argument(
        "--rego",
        metavar="FILE",
        help="also evaluate this OPA Rego policy (trustee input shape; needs cocoverify[rego]); "
        "rejects (exit 5) when data.policy.allow is false or the ear.status trustee derives "
        "from data.policy.trust_claims is not affirming",
    )
    p.add_argument(
        "--reference-values",
        metavar="FILE",
        help="reference values for --rego (JSON or YAML id -> value, trustee's RVPS shape): "
        "query_reference_value(id) and data.reference",
    )
    p.add_argument(
        "--event-log",
        metavar="FILE",
        help="TDX: the CC event log (CCEL area, binary or base64), replayed into the quote's "
        "RTMR0..3; a mismatch is exit 3 (docs/eventlog.md)",
    )
    p.add_argument(
        "--aa-event-log",
        metavar="FILE",
        help="TDX: a legacy text AA event log (INIT sha384/<hex> then one line per event), "
        "replayed into RTMR3",
    )
    p.add_argument(
        "--online",
        action="store_true",
        help="fetch missing collateral (Intel PCS/PCCS, AMD KDS; cached); options below",
    )
    fetch.add_source_arguments(p)
    p.set_defaults(func=run)


def read_evidence(path: str) -> bytes:
    """Read the evidence file (``-`` = stdin), at most ``EVIDENCE_LIMIT`` bytes; a larger or
    special file (FIFO, device, directory) is MalformedEvidence (exit 2)."""
    return read_capped(path, EVIDENCE_LIMIT, kind="evidence", stdin=True)


def _argument_file(path: str, what: str, limit: int = ARGUMENT_LIMIT) -> bytes:
    """A file named by an argument: any failure to read it is an argument error (exit 1)."""
    try:
        return read_capped(path, limit, kind="argument")
    except OSError as exc:
        raise ConfigurationError(
            f"{what} {path}: {exc.strerror or exc}", reason=Reason.INVALID_ARGUMENT
        ) from None
    except CocoverifyError as exc:
        raise ConfigurationError(f"{what}: {exc.args[0]}", reason=exc.reason) from None


def _read_log(path: str | None, what: str, *, text: bool) -> bytes | None:
    if path is None:
        return None
    raw = _argument_file(path, what, EVIDENCE_LIMIT)
    return raw if text else decode_text(raw)


def _trust(paths: list[str]) -> TrustStore | None:
    if not paths:
        return None
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            found = load_certificates(_argument_file(path, "--trust-root"), what=path)
        except MalformedEvidence as exc:  # the file is an argument, not evidence: exit 1
            raise ConfigurationError(
                f"--trust-root {exc.args[0]}", reason=Reason.INVALID_TRUST_STORE
            ) from None
        if not found:
            raise ConfigurationError(
                f"--trust-root {path}: no certificate", reason=Reason.INVALID_TRUST_STORE
            )
        certs.extend(found)
    return TrustStore.from_root_certificates(certs)


def _read_text(path: str, what: str) -> str:
    try:
        return _argument_file(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{what} {path}: {exc}", reason=Reason.INVALID_ARGUMENT) from None


#: The longest binding field of any evidence kind: a Nitro nonce (docs/nitro.md).
_MAX_BINDING = 1024


def _binding_arguments(args: argparse.Namespace) -> None:
    """``--report-data`` / ``--init-data`` are hex of at most ``_MAX_BINDING`` bytes (exit 1)."""
    for flag, value in (("--report-data", args.report_data), ("--init-data", args.init_data)):
        if value is None:
            continue
        try:
            raw = bytes.fromhex(value.strip().removeprefix("0x"))
        except ValueError:
            raise ConfigurationError(f"{flag}: not hex", reason=Reason.INVALID_ARGUMENT) from None
        if len(raw) > _MAX_BINDING:
            raise ConfigurationError(
                f"{flag}: {len(raw)} bytes, longer than any evidence field ({_MAX_BINDING})",
                reason=Reason.INVALID_ARGUMENT,
            )


def _too_long_binding(error: CocoverifyError) -> ConfigurationError | None:
    """A binding rule that failed only because the expected value is longer than this
    evidence's field: the argument can never match, so it is an argument error (exit 1)."""
    if not isinstance(error, PolicyRejected) or error.result is None:
        return None
    for v in error.result.failed_rules():
        if (
            v.rule in ("report_data", "init_data")
            and isinstance(v.expected, bytes)
            and isinstance(v.actual, bytes)
            and len(v.expected) > len(v.actual)
        ):
            flag = "--report-data" if v.rule == "report_data" else "--init-data"
            return ConfigurationError(
                f"{flag}: {len(v.expected)} bytes, longer than this evidence's "
                f"{len(v.actual)}-byte {v.rule} field",
                reason=Reason.INVALID_ARGUMENT,
            )
    return None


def _ear_key(path: str) -> ec.EllipticCurvePrivateKey:
    pem = _argument_file(path, "--ear-key")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"--ear-key {path}: {exc}", reason=Reason.INVALID_ARGUMENT
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _EAR_CURVES:
        raise ConfigurationError(
            f"--ear-key {path}: need an EC P-256 or P-384 private key",
            reason=Reason.INVALID_ARGUMENT,
        )
    return key


_EAR_CURVES = {"secp256r1": "ES256", "secp384r1": "ES384"}
_EAR_PROFILES = {"cocoverify": PROFILE, "trustee": TRUSTEE_PROFILE, "veraison": VERAISON_PROFILE}


def _write_ear(
    args: argparse.Namespace,
    outcome: VerificationResult | CocoverifyError,
    key: ec.EllipticCurvePrivateKey | None,
    decision: RegoDecision | None,
    inputs: dict[str, Any],
) -> None:
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    # rejected before a result existed: the requested time, else now
    iat = result.verified_at if result is not None else _api.as_time(args.at)
    profile = _EAR_PROFILES[args.ear_profile]
    claims = to_ear(outcome, iat=iat, decision=decision, profile=profile, **inputs)
    if key is not None:
        sys.stdout.write(sign_ear(claims, key, _EAR_CURVES[key.curve.name]) + "\n")
    else:
        write_json(claims)


def run(args: argparse.Namespace) -> int:
    """Verify and print; the exit code is the error class's."""
    _binding_arguments(args)
    try:
        raw = read_evidence(args.evidence)
    except OSError as exc:
        print(f"cocoverify: {args.evidence}: {exc.strerror}", file=sys.stderr)
        return 1
    data = decode_text(raw)
    if looks_like_kbs(data):
        return _run_composite(args, data)
    tee = peek_tee(data)
    result = None
    error: CocoverifyError | None = None
    rego_text = _read_text(args.rego, "--rego") if args.rego else None
    if args.reference_values and rego_text is None:
        raise ConfigurationError("--reference-values needs --rego", reason=Reason.INVALID_ARGUMENT)
    reference = (
        load_reference_values(_argument_file(args.reference_values, "--reference-values"))
        if args.reference_values
        else None
    )
    ear_key = _ear_key(args.ear_key) if args.ear_key else None
    decision: RegoDecision | None = None
    inputs: dict[str, Any] = {}  # the quote and collateral: Intel supplemental claims
    try:
        policy = Policy.from_file(args.policy) if args.policy else Policy.default()
        collateral = load_collateral(args.collateral)
        trust = _trust(args.trust_root)
        inputs = {"evidence": data, "collateral": collateral, "trust": trust}
        result = _api.verify(
            data,
            collateral=collateral,
            policy=policy,
            at=args.at,
            trust=trust,
            expected_report_data=args.report_data,
            expected_init_data=args.init_data,
            event_log=_read_log(args.event_log, "--event-log", text=False),
            aa_event_log=_read_log(args.aa_event_log, "--aa-event-log", text=True),
            collateral_source=fetch.source_from_args(args) if args.online else None,
        )
        if rego_text is not None:
            decision = evaluate_policy(result, rego_text, reference_values=reference, **inputs)
            if not decision.allowed:
                raise reject(result, decision)
    except CocoverifyError as exc:
        if rego_text is not None and result is not None and isinstance(exc, ConfigurationError):
            raise  # a broken Rego file or a missing engine: usage error (exit 1), not a verdict
        error = exc
        result = exc.result
        too_long = _too_long_binding(exc)
        if too_long is not None:
            raise too_long from None
    if args.format == "ear":
        outcome: VerificationResult | CocoverifyError | None = (
            error if error is not None else result
        )
        assert outcome is not None
        _write_ear(args, outcome, ear_key, decision, inputs)
    elif args.format == "json":
        if error is None:
            assert result is not None
            write_json(result.to_dict())
        else:
            write_json(error_dict(error, tee))
    else:
        print(
            render_text(
                result, error=error, tee=tee, source=args.evidence, colour=use_colour(sys.stdout)
            )
        )
    return 0 if error is None else error.exit_code


def _run_composite(args: argparse.Namespace, data: bytes) -> int:
    """KBS tee-evidence (primary + additional evidence): one verdict per device; ``ear``
    gives one EAR with a submodule per device (docs/nvidia.md "Composite")."""
    if args.rego or args.reference_values:
        raise ConfigurationError(
            "--rego is not supported with composite evidence", reason=Reason.INVALID_ARGUMENT
        )
    ear_key = _ear_key(args.ear_key) if args.ear_key else None
    try:
        combined = _api.verify_composite(
            data,
            policy=Policy.from_file(args.policy) if args.policy else None,
            collateral=load_collateral(args.collateral),
            trust=_trust(args.trust_root),
            at=args.at,
            expected_report_data=args.report_data,
            collateral_source=fetch.source_from_args(args) if args.online else None,
            primary=composite_primary,  # trustee's SNP / quote objects as primary evidence
        )
    except CocoverifyError as exc:
        if args.format == "text":
            print(f"REJECTED {args.evidence}: {exc.reason.value}: {exc}")
        else:
            write_json(error_dict(exc, None))
        return exc.exit_code
    if args.format == "ear":
        profile = _EAR_PROFILES[args.ear_profile]
        outcomes = {p.name: p.outcome for p in combined.parts}
        claims = to_composite_ear(outcomes, iat=_api.as_time(args.at), profile=profile)
        if ear_key is not None:
            sys.stdout.write(sign_ear(claims, ear_key, _EAR_CURVES[ear_key.curve.name]) + "\n")
        else:
            write_json(claims)
    elif args.format == "json":
        write_json(combined.to_dict())
    else:
        for part in combined.parts:
            result = part.result if part.error is None else None
            print(f"[{part.name}]")
            print(
                render_text(
                    result,
                    error=part.error,
                    tee=part.result.tee if part.result is not None else None,
                    source=f"{args.evidence} {part.name}",
                    colour=use_colour(sys.stdout),
                )
            )
    return combined.exit_code
