"""Seed inputs of the fuzz targets: the project's generated vectors (vectors/) and, when
../shared is checked out, the real ones (../shared/vectors). Text-encoded evidence (hex,
base64) is seeded both as given and decoded. Every function returns distinct byte strings,
each at most ``MAX_SEED`` bytes (libFuzzer's -max_len of the CI runs)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import yaml
from cryptography import x509

from cocoverify._core.text import decode_text

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "vectors"
SHARED = Path(os.environ.get("COCOVERIFY_SHARED_VECTORS", ROOT.parent / "shared" / "vectors"))
MAX_SEED = 65536
_SGX_EXT = x509.ObjectIdentifier("1.2.840.113741.1.13.1")
_BLOCK = re.compile(r"```(?:yaml|json)\n(.*?)```", re.S)
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\n]+?-----END CERTIFICATE-----")


def _files(patterns: Iterable[tuple[Path, str]]) -> list[Path]:
    out: list[Path] = []
    for base, pattern in patterns:
        out += sorted(p for p in base.glob(pattern) if p.is_file())
    return out


def _distinct(items: Iterable[bytes]) -> list[bytes]:
    seen: dict[bytes, bytes] = {}
    for data in items:
        if data:
            seen.setdefault(hashlib.sha256(data).digest(), data[:MAX_SEED])
    return list(seen.values())


def _read(paths: Iterable[Path], *, decoded: bool = True) -> list[bytes]:
    out: list[bytes] = []
    for p in paths:
        raw = p.read_bytes()
        out.append(raw)
        if decoded:
            out.append(decode_text(raw))
    return _distinct(out)


def dcap_quotes() -> list[bytes]:
    """SGX and TDX quotes (v3, v4, v5)."""
    return _read(
        _files(
            [
                (PROJECT, "intel/quotes/*.bin"),
                (PROJECT, "sample/*/quote.bin"),
                (SHARED, "intel/*/quote*"),
                (SHARED, "intel/*/*.dat"),
            ]
        )
    )


def snp_reports() -> list[bytes]:
    return _read(_files([(PROJECT, "snp/*/report.bin"), (SHARED, "amd/*/report.bin")]))


def sgx_extensions() -> list[bytes]:
    """The SGX extension values (DER) of every PCK certificate in the Intel vectors."""
    out: list[bytes] = []
    paths = _files([(PROJECT, "intel/**/*"), (SHARED, "intel/**/*")])
    for path in paths:
        if path.stat().st_size > 4_000_000:
            continue
        raw = path.read_bytes()
        for text in {raw, decode_text(raw)}:
            for m in _PEM.finditer(text):
                try:
                    cert = x509.load_pem_x509_certificate(m.group(0).replace(b"\\n", b"\n"))
                    ext = cert.extensions.get_extension_for_oid(_SGX_EXT).value
                except (ValueError, x509.ExtensionNotFound):
                    continue
                out.append(ext.value)  # type: ignore[attr-defined]
    return _distinct(out)


def cca_tokens() -> list[bytes]:
    return _read(_files([(PROJECT, "cca/**/*.cbor"), (SHARED, "cca/*/*.cbor")]))


def event_logs() -> list[bytes]:
    """CCEL areas and AAEL (text) logs."""
    return _read(
        _files([(SHARED, "tdx-eventlog/*/CCEL_*"), (SHARED, "tdx-eventlog/*/*.bin")]),
        decoded=False,
    )


def azure() -> list[bytes]:
    """HCL reports, TPM quotes and whole az-snp/az-tdx evidence JSON."""
    return _read(_files([(SHARED, "azure/*/*.bin"), (SHARED, "azure/*/*.json")]), decoded=False)


def nvidia() -> list[bytes]:
    return _read(_files([(SHARED, "nvidia/*/*.txt")]))


def nitro() -> list[bytes]:
    return _read(_files([(SHARED, "nitro/*/attestation.cose")]), decoded=False)


def collateral_json() -> list[bytes]:
    """TCB Info and QE Identity documents (SGX, TDX, v2, v3)."""
    pats = [(PROJECT, "intel/common/*.json"), (SHARED, "intel/*/*.json")]
    return _read(
        [p for p in _files(pats) if re.search(r"tcb|qe|identity", p.name, re.I)], decoded=False
    )


def policies() -> list[bytes]:
    """Policy files (JSON, YAML) of the docs, tests and trustee's reference values."""
    pats = [
        (ROOT / "tests", "**/*.yaml"),
        (ROOT / "tests", "**/*policy*.json"),
        (ROOT / "docs", "**/*.yaml"),
        (SHARED, "trustee-policies/*.json"),
    ]
    out = _read(_files(pats), decoded=False)
    for doc in sorted((ROOT / "docs").glob("*.md")):  # the documented examples
        out += [m.encode() for m in _BLOCK.findall(doc.read_text(encoding="utf-8"))]
    manifest = json.loads((PROJECT / "manifest.json").read_text(encoding="utf-8"))
    for case in manifest["cases"]:  # the generated cases' policies, as JSON and as YAML
        if case["policy"]:
            out += [json.dumps(case["policy"]).encode(), yaml.safe_dump(case["policy"]).encode()]
    return _distinct(out)


def trustee_json() -> list[bytes]:
    """trustee evidence JSON (TDX with event logs, Azure, NVIDIA)."""
    pats = [
        (SHARED, "azure/*/evidence-*.json"),
        (SHARED, "tdx-eventlog/*/*.json"),
        (SHARED, "nvidia/*/*.json"),
        (SHARED, "intel/*/*.json"),
        (PROJECT, "eventlog/*/evidence.json"),
        (PROJECT, "azure/*/*.json"),
        (PROJECT, "nvidia/*/*.json"),
    ]
    return _read(
        [p for p in _files(pats) if p.read_bytes()[:1] == b"{" and "tcb" not in p.name],
        decoded=False,
    )


#: target name -> seed function; the C targets of csrc/fuzz take the first three.
SEEDS = {
    "dcap": dcap_quotes,
    "snp": snp_reports,
    "sgxext": sgx_extensions,
    "cca": cca_tokens,
    "eventlog": event_logs,
    "azure": azure,
    "nvidia": nvidia,
    "nitro": nitro,
    "collateral": collateral_json,
    "policy": policies,
    "trustee": trustee_json,
}


def write_corpus(name: str, folder: Path) -> int:
    """Write the seeds of ``name`` into ``folder`` (one file each); returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = SEEDS[name]()
    for data in seeds:
        (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    return len(seeds)


if __name__ == "__main__":
    for key, fn in SEEDS.items():
        print(key, len(fn()))
