"""The collateral documents: TCB Info and QE Identity (QVL ``TcbInfo.cpp``, ``TcbLevel.cpp``,
``EnclaveIdentityV2.cpp``).

* the signed-JSON envelope ``{"<member>": {...}, "signature": "<hex>"}`` with the exact
  served text of the member (the signature covers those bytes, not a re-serialisation);
* the documents modelled strictly: closed status enums, 16 components, no duplicated levels;
* which document a quote uses (FMSPC, TEE, QE id; preferring one current at ``at`` whose
  signature verifies), and the issue/next-update window.

The signatures themselves are checked in ``verify.py`` (``verify_signed_json``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cocoverify._core.json import loads_strict
from cocoverify.errors import CollateralError, CollateralInvalid, CollateralUnavailable, Reason
from cocoverify.result import format_time

__all__ = [
    "PLATFORM_STATUSES",
    "SIMPLE_STATUSES",
    "EnclaveIdentity",
    "ModuleIdentity",
    "SignedJson",
    "SimpleLevel",
    "TcbInfo",
    "TcbLevel",
    "check_window",
    "load_signed_json",
    "parse_enclave_identity",
    "parse_tcb_info",
    "select_document",
]

#: Platform level statuses (QVL Verifiers/TcbStatus.h).
PLATFORM_STATUSES = frozenset(
    {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "Revoked",
    }
)
#: QE identity and TDX module levels.
SIMPLE_STATUSES = frozenset({"UpToDate", "OutOfDate", "Revoked"})


def _bad(msg: str) -> CollateralInvalid:
    return CollateralInvalid(msg, reason=Reason.COLLATERAL_MALFORMED)


def _time(where: str, value: Any) -> _dt.datetime:
    if not isinstance(value, str):
        raise _bad(f"{where}: expected a date string")
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{where}: not ISO 8601: {value!r}") from None
    if t.tzinfo is None:
        raise _bad(f"{where}: no time zone")
    return t.astimezone(_dt.UTC)


def _int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"{where}: expected a non-negative integer")
    return value


def _hex(where: str, value: Any, n: int) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"{where}: expected hex text")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise _bad(f"{where}: not hex") from None
    if len(raw) != n:
        raise _bad(f"{where}: expected {n} bytes, got {len(raw)}")
    return raw


def _advisories(where: str, level: dict[str, Any]) -> tuple[str, ...]:
    ids = level.get("advisoryIDs", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad(f"{where}.advisoryIDs: expected a list of strings")
    return tuple(ids)


def _status(where: str, value: Any, allowed: frozenset[str]) -> str:
    # go-tdx-guest pcs.TcbComponentStatus: unknown statuses are rejected (closed enum)
    if value not in allowed:
        raise _bad(f"{where}.tcbStatus: unknown status {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class TcbLevel:
    """One TCB level of TCB Info."""

    sgx: tuple[int, ...]
    pce_svn: int
    tdx: tuple[int, ...] | None
    date: _dt.datetime
    status: str
    advisory_ids: tuple[str, ...]

    @property
    def sort_key(self) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """QVL ``TcbLevel.cpp`` ``operator>``: SGX components, PCESVN, TDX components."""
        return (self.sgx, self.pce_svn, self.tdx or ())


@dataclass(frozen=True, slots=True)
class SimpleLevel:
    """A QE identity or TDX module level: isvsvn threshold."""

    isv_svn: int
    date: _dt.datetime
    status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModuleIdentity:
    """A TDX module identity (``tdxModuleIdentities[]`` entry or ``tdxModule``)."""

    id: str
    mr_signer: bytes
    attributes: bytes
    attributes_mask: bytes
    levels: tuple[SimpleLevel, ...]


@dataclass(frozen=True, slots=True)
class TcbInfo:
    """TCB Info v2 (SGX) or v3 (SGX/TDX) (QVL ``TcbInfo.cpp``)."""

    id: str
    version: int
    issue_date: _dt.datetime
    next_update: _dt.datetime
    fmspc: bytes
    pce_id: bytes
    tcb_type: int
    evaluation_data_number: int
    tdx_module: ModuleIdentity | None
    tdx_module_identities: tuple[ModuleIdentity, ...]
    levels: tuple[TcbLevel, ...]  # sorted descending (QVL order)


@dataclass(frozen=True, slots=True)
class EnclaveIdentity:
    """QE Identity v2 (QVL ``EnclaveIdentityV2.cpp``)."""

    id: str
    version: int
    issue_date: _dt.datetime
    next_update: _dt.datetime
    evaluation_data_number: int
    misc_select: bytes
    misc_select_mask: bytes
    attributes: bytes
    attributes_mask: bytes
    mr_signer: bytes
    isv_prod_id: int
    levels: tuple[SimpleLevel, ...]  # listed order


def _simple_levels(where: str, value: Any) -> tuple[SimpleLevel, ...]:
    if not isinstance(value, list) or not value:
        raise _bad(f"{where}: expected a non-empty list")
    out = []
    for i, lv in enumerate(value):
        w = f"{where}[{i}]"
        if not isinstance(lv, dict) or not isinstance(lv.get("tcb"), dict):
            raise _bad(f"{w}: malformed level")
        out.append(
            SimpleLevel(
                isv_svn=_int(f"{w}.tcb.isvsvn", lv["tcb"].get("isvsvn")),
                date=_time(f"{w}.tcbDate", lv.get("tcbDate")),
                status=_status(w, lv.get("tcbStatus"), SIMPLE_STATUSES),
                advisory_ids=_advisories(w, lv),
            )
        )
    return tuple(out)


def _module(where: str, value: Any, with_levels: bool) -> ModuleIdentity:
    if not isinstance(value, dict):
        raise _bad(f"{where}: expected an object")
    return ModuleIdentity(
        id=str(value.get("id", "")),
        mr_signer=_hex(f"{where}.mrsigner", value.get("mrsigner"), 48),
        attributes=_hex(f"{where}.attributes", value.get("attributes"), 8),
        attributes_mask=_hex(f"{where}.attributesMask", value.get("attributesMask"), 8),
        levels=_simple_levels(f"{where}.tcbLevels", value.get("tcbLevels")) if with_levels else (),
    )


def _components(where: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) != 16:
        raise _bad(f"{where}: expected 16 components")
    out = []
    for i, c in enumerate(value):
        if not isinstance(c, dict):
            raise _bad(f"{where}[{i}]: expected an object")
        out.append(_int(f"{where}[{i}].svn", c.get("svn")))
    return tuple(out)


def parse_tcb_info(body: dict[str, Any]) -> TcbInfo:
    """Validate and model a ``tcbInfo`` object (QVL TcbInfo.cpp, TcbLevel.cpp)."""
    version = _int("tcbInfo.version", body.get("version"))
    if version not in (2, 3):
        raise _bad(f"tcbInfo.version {version} is not supported (2 or 3)")
    tee_id = body.get("id", "SGX") if version == 3 else "SGX"
    if version == 3 and tee_id not in ("SGX", "TDX"):
        raise _bad(f"tcbInfo.id {tee_id!r}")
    if "id" not in body and version == 3:
        raise _bad("tcbInfo.id missing")
    tcb_type = _int("tcbInfo.tcbType", body.get("tcbType"))
    if tcb_type != 0:
        raise _bad(f"tcbInfo.tcbType {tcb_type} (must be 0)")
    is_tdx = tee_id == "TDX"
    levels_raw = body.get("tcbLevels")
    if not isinstance(levels_raw, list) or not levels_raw:
        raise _bad("tcbInfo.tcbLevels: expected a non-empty list")
    levels = []
    for i, lv in enumerate(levels_raw):
        w = f"tcbInfo.tcbLevels[{i}]"
        if not isinstance(lv, dict) or not isinstance(lv.get("tcb"), dict):
            raise _bad(f"{w}: malformed level")
        tcb = lv["tcb"]
        tdx = None
        if version == 2:
            sgx = tuple(
                _int(f"{w}.tcb.sgxtcbcomp{n:02d}svn", tcb.get(f"sgxtcbcomp{n:02d}svn"))
                for n in range(1, 17)
            )
        else:
            sgx = _components(f"{w}.tcb.sgxtcbcomponents", tcb.get("sgxtcbcomponents"))
            if is_tdx:
                tdx = _components(f"{w}.tcb.tdxtcbcomponents", tcb.get("tdxtcbcomponents"))
        levels.append(
            TcbLevel(
                sgx=sgx,
                pce_svn=_int(f"{w}.tcb.pcesvn", tcb.get("pcesvn")),
                tdx=tdx,
                date=_time(f"{w}.tcbDate", lv.get("tcbDate")),
                status=_status(w, lv.get("tcbStatus"), PLATFORM_STATUSES),
                advisory_ids=_advisories(w, lv),
            )
        )
    levels.sort(key=lambda lv: lv.sort_key, reverse=True)
    for a, b in itertools.pairwise(levels):
        if a.sort_key == b.sort_key:
            raise _bad("tcbInfo.tcbLevels: duplicated TCB levels")
    module = None
    identities: tuple[ModuleIdentity, ...] = ()
    if is_tdx:
        module = _module("tcbInfo.tdxModule", body.get("tdxModule"), with_levels=False)
        raw_ids = body.get("tdxModuleIdentities", [])
        if not isinstance(raw_ids, list):
            raise _bad("tcbInfo.tdxModuleIdentities: expected a list")
        identities = tuple(
            _module(f"tcbInfo.tdxModuleIdentities[{i}]", m, with_levels=True)
            for i, m in enumerate(raw_ids)
        )
    return TcbInfo(
        id=tee_id,
        version=version,
        issue_date=_time("tcbInfo.issueDate", body.get("issueDate")),
        next_update=_time("tcbInfo.nextUpdate", body.get("nextUpdate")),
        fmspc=_hex("tcbInfo.fmspc", body.get("fmspc"), 6),
        pce_id=_hex("tcbInfo.pceId", body.get("pceId"), 2),
        tcb_type=tcb_type,
        evaluation_data_number=_int(
            "tcbInfo.tcbEvaluationDataNumber", body.get("tcbEvaluationDataNumber", 0)
        ),
        tdx_module=module,
        tdx_module_identities=identities,
        levels=tuple(levels),
    )


def parse_enclave_identity(body: dict[str, Any]) -> EnclaveIdentity:
    """Validate and model an ``enclaveIdentity`` object (QVL EnclaveIdentityV2.cpp)."""
    version = _int("enclaveIdentity.version", body.get("version"))
    if version != 2:
        raise _bad(f"enclaveIdentity.version {version} is not supported (2)")
    ident = body.get("id")
    if ident not in ("QE", "QVE", "TD_QE"):
        raise _bad(f"enclaveIdentity.id {ident!r}")
    return EnclaveIdentity(
        id=str(ident),
        version=version,
        issue_date=_time("enclaveIdentity.issueDate", body.get("issueDate")),
        next_update=_time("enclaveIdentity.nextUpdate", body.get("nextUpdate")),
        evaluation_data_number=_int(
            "enclaveIdentity.tcbEvaluationDataNumber", body.get("tcbEvaluationDataNumber", 0)
        ),
        misc_select=_hex("enclaveIdentity.miscselect", body.get("miscselect"), 4),
        misc_select_mask=_hex("enclaveIdentity.miscselectMask", body.get("miscselectMask"), 4),
        attributes=_hex("enclaveIdentity.attributes", body.get("attributes"), 16),
        attributes_mask=_hex("enclaveIdentity.attributesMask", body.get("attributesMask"), 16),
        mr_signer=_hex("enclaveIdentity.mrsigner", body.get("mrsigner"), 32),
        isv_prod_id=_int("enclaveIdentity.isvprodid", body.get("isvprodid")),
        levels=_simple_levels("enclaveIdentity.tcbLevels", body.get("tcbLevels")),
    )


# --- the signed-JSON envelope -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedJson:
    """A PCS response body: the parsed inner object and the exact signed text."""

    member: str
    body: dict[str, Any]
    signed_text: bytes
    signature: bytes


_SIG_HEX = re.compile(r"[0-9A-Fa-f]{128}")


@functools.lru_cache(maxsize=256)
def load_signed_json(raw: bytes, member: str) -> SignedJson:
    """Split ``{"<member>": {...}, "signature": "<hex>"}`` keeping the member's exact text.

    Memoised by the raw bytes (pure); callers must treat ``body`` as read-only.
    """
    try:
        text = raw.decode("utf-8")
        doc = loads_strict(text)
        if not isinstance(doc, dict) or not isinstance(doc.get(member), dict):
            raise ValueError(f"no {member} object")
        sig_hex = doc.get("signature")
        # raw r||s, 128 hex digits exactly (bytes.fromhex would also take spaces)
        if not isinstance(sig_hex, str) or _SIG_HEX.fullmatch(sig_hex) is None:
            raise ValueError("signature is not 128 hex digits")
        signature = bytes.fromhex(sig_hex)
        span = _member_span(text, member)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CollateralInvalid(
            f"{member}: malformed ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None
    return SignedJson(
        member=member,
        body=doc[member],
        signed_text=text[span[0] : span[1]].encode("utf-8"),
        signature=signature,
    )


def _member_span(text: str, member: str) -> tuple[int, int]:
    """Character span of a top-level member's value, using the stdlib scanner."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"
    pos = 0
    while text[pos] in ws:
        pos += 1
    if text[pos] != "{":
        raise ValueError("not an object")
    pos += 1
    while True:
        while text[pos] in ws:
            pos += 1
        key, pos = decoder.raw_decode(text, pos)
        while text[pos] in ws:
            pos += 1
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos += 1
        while text[pos] in ws:
            pos += 1
        start = pos
        _, pos = decoder.raw_decode(text, pos)
        if key == member:
            return start, pos
        while text[pos] in ws:
            pos += 1
        if text[pos] != ",":
            raise ValueError(f"member {member!r} not found")
        pos += 1


# --- which document, and when -----------------------------------------------------------------

M = TypeVar("M", TcbInfo, EnclaveIdentity)


@functools.lru_cache(maxsize=256)
def _parsed(raw: bytes, member: str) -> tuple[SignedJson, Any]:
    """Signed JSON split and modelled, memoised by the raw bytes (both steps are pure)."""
    signed = load_signed_json(raw, member)
    model = (
        parse_tcb_info(signed.body) if member == "tcbInfo" else parse_enclave_identity(signed.body)
    )
    return signed, model


def select_document(
    raws: tuple[bytes, ...],
    member: str,
    model: type[M],
    fits: Callable[[M], bool],
    at: _dt.datetime,
    what: str,
    verify: Callable[[SignedJson], object],
) -> tuple[SignedJson, M]:
    """Pick the collateral document that fits the quote; prefer one valid at ``at``.

    A malformed document is reported only when no well-formed one fits: a collateral store
    may hold documents of other platforms (or of versions this verifier does not read),
    and those must not make this quote fail. Likewise the preferred document whose
    signature ``verify`` accepts is taken, so an injected unsigned document cannot displace
    a genuine one; when none verifies, the preferred one's error is raised.
    """
    docs: list[tuple[SignedJson, M]] = []
    malformed: CollateralInvalid | None = None
    for r in raws:
        try:
            signed, parsed = _parsed(r, member)
        except CollateralInvalid as exc:
            malformed = malformed or exc
            continue
        assert isinstance(parsed, model)
        docs.append((signed, parsed))
    if not docs and malformed is None:
        raise CollateralUnavailable(f"no {what} supplied", reason=Reason.COLLATERAL_MISSING)
    fitting = [(s, m) for s, m in docs if fits(m)]
    if not fitting and malformed is not None:
        raise malformed
    if not fitting:
        raise CollateralInvalid(
            f"no {what} supplied for this platform (FMSPC / TEE type)",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    fitting.sort(
        key=lambda d: (d[1].issue_date <= at <= d[1].next_update, d[1].issue_date), reverse=True
    )
    first_error: CollateralError | None = None
    for doc in fitting:
        try:
            verify(doc[0])
        except CollateralError as exc:
            first_error = first_error or exc
            continue
        return doc
    assert first_error is not None
    raise first_error


def check_window(
    what: str, issue: _dt.datetime, next_update: _dt.datetime, at: _dt.datetime
) -> None:
    """issueDate <= at <= nextUpdate (QVL ``TCBInfoVerifier.cpp``, ``EnclaveIdentityV2.cpp``:
    expired when at > nextUpdate; an issue date in the future is refused too, as the peer
    dcap-qvl does)."""
    if at > next_update:
        raise CollateralInvalid(
            f"{what} expired at {format_time(next_update)}", reason=Reason.COLLATERAL_EXPIRED
        )
    if at < issue:
        raise CollateralInvalid(
            f"{what} issued at {format_time(issue)}, after the verification time",
            reason=Reason.COLLATERAL_NOT_YET_VALID,
        )
