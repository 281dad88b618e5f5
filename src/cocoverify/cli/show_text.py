"""The text view of ``cocoverify show``: a describe() dictionary as grouped, aligned lines.

Generic over every evidence kind: the groups a ``describe`` function returns (``identifiers``,
``header``, ``body``, ``signature``, ``certificates``, ``tcb``, ``flags``, ``event_log``, ...)
are printed in a fixed order with titles, anything else after them under its own key.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NOT_VERIFIED", "cert_role", "render"]

NOT_VERIFIED = (
    "NOT VERIFIED: show only decodes; no signature, certificate chain, revocation or "
    "collateral was checked (use `cocoverify verify`)."
)

#: group key -> title, in the order they are printed
_GROUPS = (
    ("collateral", "What this file is"),
    ("identifiers", "Identifiers (what selects the collateral to fetch)"),
    ("header", "Header"),
    ("body", "Body"),
    ("signature", "Signature data"),
    ("certificates", "Certificate chain (leaf first, as carried)"),
    ("tcb", "TCB components"),
    ("flags", "Decoded flags"),
    ("event_log", "Event log"),
    ("rtmr_replay", "RTMRs: replayed from the event log vs the quote"),
    ("aa_event_log", "AA event log (legacy text): its lines and RTMR3 replayed"),
    ("hardware_report", "Hardware report inside the wrapper"),
)
_SKIP = {"kind", "verified"}
#: keys printed besides the groups even when a ``body`` group exists
_ALWAYS = ("hardware_report", "aa_event_log", "certificates_error")
_WIDTH = 100

#: (subject CN contains, issuer CN contains or "", role); first match wins
_ROLES = (
    ("Intel SGX Root CA", "", "Intel SGX Root CA"),
    ("Intel SGX PCK Platform CA", "", "Intel PCK Platform CA"),
    ("Intel SGX PCK Processor CA", "", "Intel PCK Processor CA"),
    ("Intel SGX PCK Certificate", "", "Intel PCK leaf (platform key)"),
    ("Intel SGX TCB Signing", "", "Intel TCB signing (TCB Info, QE Identity)"),
    ("SEV-VLEK-", "", "AMD ASVK"),
    ("SEV-VCEK", "", "AMD VCEK (chip endorsement key)"),
    ("SEV-VLEK", "", "AMD VLEK (loaded endorsement key)"),
    ("ARK-", "", "AMD ARK (root)"),
    ("SEV-", "ARK-", "AMD ASK"),
    ("NVIDIA Device Identity CA", "", "NVIDIA device identity root"),
)


def cert_role(summary: dict[str, Any]) -> str:
    """What a certificate is, by its names (a label for people, never a trust decision)."""
    subject, issuer = str(summary.get("subject_cn", "")), str(summary.get("issuer_cn", ""))
    for want, by, role in _ROLES:
        if want in subject and by in issuer:
            product = _amd_product(subject, issuer) if role.startswith("AMD") else ""
            return role + (f", {product}" if product else "")
    if subject == "aws.nitro-enclaves":
        return "AWS Nitro root"
    if subject.endswith(".aws.nitro-enclaves"):
        return "AWS Nitro intermediate (regional, zonal or instance)"
    if issuer.endswith(".aws.nitro-enclaves"):
        return "AWS Nitro enclave certificate (signs the document)"
    full = str(summary.get("subject", "")) + str(summary.get("issuer", ""))
    if "NVIDIA" in full:
        return "NVIDIA device certificate"
    return "certificate"


def _amd_product(subject: str, issuer: str) -> str:
    for name in (subject, issuer):
        for product in ("Milan", "Genoa", "Turin"):
            if name.endswith(product):
                return product
    return ""


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "(none)"]
        width = min(max(len(str(k)) for k in value), 28)
        out: list[str] = []
        for key, item in value.items():
            if _is_scalar(item):
                out.append(f"{pad}{key!s:<{width}}  {_scalar(item)}")
            elif isinstance(item, list | tuple) and all(_is_scalar(v) for v in item):
                joined = ", ".join(_scalar(v) for v in item) or "(none)"
                if len(joined) + indent + width + 2 <= _WIDTH:
                    out.append(f"{pad}{key!s:<{width}}  {joined}")
                else:
                    out.append(f"{pad}{key}:")
                    out.extend(f"{pad}  {_scalar(v)}" for v in item)
            else:
                out.append(f"{pad}{key}:")
                out.extend(_lines(item, indent + 2))
        return out
    if isinstance(value, list | tuple):
        if not value:
            return [pad + "(none)"]
        out = []
        for i, item in enumerate(value):
            if _is_scalar(item):
                out.append(f"{pad}[{i}] {_scalar(item)}")
            else:
                out.append(f"{pad}[{i}]")
                out.extend(_lines(item, indent + 4))
        return out
    return [pad + _scalar(value)]


def _certificates(certs: list[dict[str, Any]], indent: int) -> list[str]:
    pad = " " * indent
    if not certs:
        return [pad + "(none carried)"]
    out = []
    for i, c in enumerate(certs):
        out.append(f"{pad}[{i}] {c.get('subject_cn') or c.get('subject')}  ({cert_role(c)})")
        out.extend(
            _lines(
                {
                    "issuer": c.get("issuer_cn") or c.get("issuer"),
                    "valid": f"{c.get('not_before')} .. {c.get('not_after')}",
                    "serial": c.get("serial"),
                    "sha256": c.get("sha256"),
                    "key": c.get("key"),
                    **{k: v for k, v in c.items() if k in ("product", "hwid", "tcb", "note")},
                    **({"self-signed": True} if c.get("self_signed") else {}),
                },
                indent + 4,
            )
        )
    return out


def _collateral(items: list[dict[str, Any]], indent: int) -> list[str]:
    out = []
    for item in items:
        out.append(" " * indent + str(item.get("what")))
        rest = {k: v for k, v in item.items() if k != "what"}
        out.extend(_lines(rest, indent + 4) if rest else [])
    return out


def _event_log(view: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    head = {k: v for k, v in view.items() if k != "events"}
    out = _lines(head, indent)
    out.append(f"{pad}events (number, type, register, digest, what it measured):")
    for e in view.get("events", ()):
        out.append(f"{pad}  [{e['number']}] {e['type']}  {e['register']}")
        out.append(f"{pad}      {e['digest_alg']} {e['digest']}")
        out.append(f"{pad}      {e['description']}")
    return out


def _replay(replay: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for name, item in replay.items():
        if not isinstance(item, dict):
            out.append(f"{pad}{name}: {item}")
            continue
        verdict = "match" if item["match"] else "DIFFERS"
        out.append(f"{pad}{name}  {verdict}")
        out.append(f"{pad}  replayed  {item['replayed']}")
        if not item["match"]:
            out.append(f"{pad}  quote     {item['quote']}")
    return out


def _group(key: str, value: Any, indent: int) -> list[str]:
    if key in ("certificates",) or key.endswith("_certificates"):
        return _certificates(value, indent)
    if key == "collateral":
        return _collateral(value, indent)
    if key == "event_log":
        return _event_log(value, indent)
    if key == "rtmr_replay":
        return _replay(value, indent)
    if key == "devices":  # NVIDIA: one set of groups per GPU
        out: list[str] = []
        for i, device in enumerate(value):
            out.append(" " * indent + f"Device [{i}]")
            out.extend(_groups(device, indent + 2))
        return out
    if key == "hardware_report" and isinstance(value, dict) and "kind" in value:
        return [" " * indent + f"{value['kind']} report inside", *_groups(value, indent + 2)]
    return _lines(value, indent)


def _groups(doc: dict[str, Any], indent: int) -> list[str]:
    """Every group of ``doc``: the known ones in order, then the rest under their keys."""
    pad = " " * indent
    out: list[str] = []
    shown = set(_SKIP)
    if "body" in doc:  # grouped: the flat keys kept for JSON compatibility repeat the groups
        shown.update(k for k in doc if k not in _ALWAYS)
    for key, title in _GROUPS:
        if key in doc:
            shown.add(key)
            out += ["", pad + title, *_group(key, doc[key], indent + 2)]
    for key, value in doc.items():
        if key in shown:
            continue
        title = key.replace("_", " ").capitalize()
        if _is_scalar(value):
            out += ["", f"{pad}{title}: {_scalar(value)}"]
        else:
            out += ["", pad + title, *_group(key, value, indent + 2)]
    return out


def render(doc: dict[str, Any], source: str) -> str:
    """The whole text view of one ``describe`` dictionary."""
    kind = doc.get("kind", "unknown")
    what = "collateral" if kind == "collateral" else f"{kind} evidence"
    return "\n".join([f"{source}: {what}", NOT_VERIFIED, *_groups(doc, 0)])
