"""The walk-throughs (docs/walkthrough-*.md) run as written on the real samples (vectors/real).

Every line of a ```sh block that starts with ``cocoverify`` must end with ``# exit N``; it is run
in a copy of vectors/real, in page order (later lines use files earlier lines wrote), and must
exit with N. ``cocoverify fetch`` lines reach a loopback PCCS and KDS serving the samples' own
collateral (COCOVERIFY_PCCS_URL, COCOVERIFY_KDS_URL), never the network. The samples match
the SHA-256 in their PROVENANCE.md and each folder has its LICENSE.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify.cli import main

from _shared import PROJECT_VECTORS, ROOT
from _shared.vendors import Reply, VendorServer

REAL = PROJECT_VECTORS / "real"
PAGES = sorted((ROOT / "docs").glob("walkthrough-*.md"))
FENCE = re.compile(r"^```(\w*)\s*$")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
# the SNP sample's identifiers (cocoverify show amd-snp-milan/report.bin)
SNP_HWID = (
    "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f"
    "8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e"
)
SNP_SPL = "blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
SHA_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([0-9a-f]{64})`\s*\|")


def commands(page: Path) -> list[tuple[int, str, int]]:
    """(line number, command, expected exit) of every ``cocoverify`` line in ```sh blocks."""
    found: list[tuple[int, str, int]] = []
    lang: str | None = None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang != "sh" or not line.startswith("cocoverify"):
            continue
        marker = EXIT.search(line)
        assert marker, f"{page.name}:{number}: a command without '# exit N'"
        found.append((number, line[: marker.start()], int(marker.group(1))))
    return found


def test_the_pages_exist_and_have_commands() -> None:
    names = {p.name for p in PAGES}
    assert {"walkthrough-intel.md", "walkthrough-snp.md", "walkthrough-cca.md"} <= names
    for page in PAGES:
        assert len(commands(page)) >= 5, page.name


def test_a_command_without_its_exit_code_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "walkthrough-x.md"
    page.write_text("```sh\ncocoverify show a   # exit 0\ncocoverify verify a\n```\n")
    with pytest.raises(AssertionError, match=r"walkthrough-x\.md:3"):
        commands(page)
    page.write_text("```text\ncocoverify verify a\n```\n```sh\ncocoverify show b  # exit 2\n```\n")
    assert commands(page) == [(5, "cocoverify show b", 2)]


@pytest.fixture
def vendors() -> Iterator[VendorServer]:
    """A loopback PCCS and KDS serving the samples' own collateral, with the real URL shapes."""
    server = VendorServer()
    server.serve_intel(REAL / "intel-tdx", tee="tdx", fmspc="B0C06F000000", ca="platform")
    snp = REAL / "amd-snp-milan"
    server.route(
        f"/vcek/v1/Milan/{SNP_HWID}?{SNP_SPL}",
        Reply(200, (snp / "vcek.der").read_bytes(), {"Content-Type": "application/x-x509-ca-cert"}),
    )
    chain = (snp / "ask.pem").read_bytes() + (snp / "ark.pem").read_bytes()
    server.route(
        "/vcek/v1/Milan/cert_chain", Reply(200, chain, {"Content-Type": "application/x-pem-file"})
    )
    crl = x509.load_pem_x509_crl((REAL / "amd-kds-milan" / "crl.pem").read_bytes())
    server.route(
        "/vcek/v1/Milan/crl",
        Reply(200, crl.public_bytes(Encoding.DER), {"Content-Type": "application/pkix-crl"}),
    )
    yield server
    server.close()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_command_exits_as_the_page_says(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    vendors: VendorServer,
) -> None:
    work = tmp_path / "real"
    shutil.copytree(REAL, work)
    monkeypatch.chdir(work)
    for name in ("COCOVERIFY_OFFLINE", "COCOVERIFY_PCS_API_KEY", "COCOVERIFY_UPDATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCOVERIFY_PCCS_URL", vendors.url)
    monkeypatch.setenv("COCOVERIFY_KDS_URL", vendors.url)
    monkeypatch.setenv("COCOVERIFY_CACHE_DIR", str(tmp_path / "cache"))
    wrong = []
    for number, command, want in commands(page):
        argv = shlex.split(command)[1:]
        got = main(argv)
        out = capsys.readouterr()
        if got != want:
            wrong.append(f"{page.name}:{number}: exit {got}, page says {want}: {command}\n{out}")
    assert not wrong, "\n".join(wrong)


def _samples() -> list[Path]:
    return sorted(p for p in REAL.iterdir() if p.is_dir())


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_samples_match_their_provenance(sample: Path) -> None:
    assert (sample / "LICENSE").is_file()
    rows = dict(
        m.groups()
        for m in map(SHA_ROW.match, (sample / "PROVENANCE.md").read_text().splitlines())
        if m
    )
    data = {p.name for p in sample.iterdir()} - {"LICENSE", "PROVENANCE.md"}
    assert set(rows) == data, "every file listed, and only those"
    for name, digest in rows.items():
        assert hashlib.sha256((sample / name).read_bytes()).hexdigest() == digest, name


def demo_commands() -> list[tuple[int, list[str]]]:
    """(expected exit, argv) of each ``demo N "title" ARGS...`` line of scripts/demo.sh on the
    real samples (``$R``); the loop over the test-PKI samples is left to the demo itself."""
    text = (ROOT / "scripts" / "demo.sh").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.startswith("demo ") and "$R" in line:
            _, want, _title, *argv = shlex.split(line.replace("$R", "vectors/real"))
            found.append((int(want), argv))
    return found


def test_the_demo_states_the_right_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README's first command (scripts/demo.sh) checks these exit codes; so does the suite."""
    monkeypatch.chdir(ROOT)
    found = demo_commands()
    assert len(found) >= 4
    assert not any("--trust-root" in argv for _, argv in found)  # the real roots only
    for want, argv in found:
        assert main(argv) == want, argv
        capsys.readouterr()
