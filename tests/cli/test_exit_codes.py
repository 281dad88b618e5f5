"""Every documented failure of every subcommand, through the command line: exit code and
reason (0 accepted, 1 usage/argument, 2 evidence, 3 authenticity, 4 collateral, 5 policy).

Issue 11 regressions among the rows: a garbage ``--trust-root`` was exit 2, a
``--report-data`` longer than 64 bytes exit 5, a deeply nested policy ``internal error:
RecursionError`` (14 s for YAML), ``show DIRECTORY`` ``internal error: IsADirectoryError``,
``/dev/zero`` or a 2 GB file read until memory ran out, damaged PEM collateral skipped.
The last tests check that no input of a broad set ever prints ``internal error``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cocoverify.cli.app import run

from _shared import PROJECT_VECTORS, SHARED_VECTORS

INTEL = SHARED_VECTORS / "intel" / "tdx-v4-dcapqvl-sample"
QUOTE = INTEL / "tdx_quote"
AT = "2025-07-04T10:16:31Z"
SGX = SHARED_VECTORS / "intel" / "sgx-v3-dcapqvl-sample"  # ConfigurationAndSWHardeningNeeded
OK = ("--collateral", str(INTEL), "--at", AT)


@dataclass(frozen=True)
class Files:
    """Inputs made once per test in a temporary folder."""

    tmp: Path

    def write(self, name: str, data: bytes | str) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
        return str(path)

    @property
    def fifo(self) -> str:
        path = self.tmp / "fifo"
        if not path.exists():
            os.mkfifo(path)
        return str(path)

    @property
    def sparse(self) -> str:
        path = self.tmp / "sparse.bin"
        if not path.exists():
            with open(path, "wb") as fh:
                fh.truncate(2 << 30)
        return str(path)

    @property
    def folder(self) -> str:
        path = self.tmp / "a-folder"
        path.mkdir(exist_ok=True)
        return str(path)

    @property
    def missing(self) -> str:
        return str(self.tmp / "does-not-exist")

    def flipped_signature(self) -> str:
        data = bytearray(QUOTE.read_bytes())
        data[48 + 584 + 4 + 10] ^= 0x01  # inside the quote's ECDSA signature (v4 layout)
        return self.write("flipped.dat", bytes(data))

    def damaged_pem_folder(self) -> str:
        chain = (INTEL / "tcb_info_issuer_chain.pem").read_bytes()
        self.write("damaged/chain.pem", chain[: len(chain) - 40])  # no END line
        return str(self.tmp / "damaged")

    def case_with_truncated_json(self) -> str:
        """A copy of the case folder whose TCB Info was cut short (a download that stopped)."""
        for item in INTEL.iterdir():
            data = item.read_bytes()
            self.write(
                f"case/{item.name}",
                data[: len(data) // 2] if item.name == "tcb_info.json" else data,
            )
        return str(self.tmp / "case" / QUOTE.name)

    def deep_json(self) -> str:
        return self.write("deep.json", "[" * 100_000 + "]" * 100_000)

    def deep_yaml(self) -> str:
        return self.write("deep.yaml", "tdx: " + "[" * 100_000)

    def deep_block_yaml(self) -> str:
        return self.write("block.yaml", "".join(" " * i + f"k{i}:\n" for i in range(1400)))


Argv = Callable[[Files], list[str]]


@dataclass(frozen=True)
class Row:
    id: str
    argv: Argv
    code: int
    reason: str | None  # printed on stdout or stderr; None: a usage error (argparse)


def _hex(n: int, byte: str = "00") -> str:
    return byte * n


ROWS: list[Row] = [
    # --- verify --------------------------------------------------------------------------
    Row("verify-accepted", lambda f: ["verify", str(QUOTE), *OK], 0, None),
    Row("verify-no-arguments", lambda f: ["verify"], 1, None),
    Row("verify-unknown-option", lambda f: ["verify", str(QUOTE), "--nope"], 1, None),
    Row("verify-bad-format", lambda f: ["verify", str(QUOTE), "--format", "xml"], 1, None),
    Row("verify-evidence-missing", lambda f: ["verify", f.missing], 1, None),
    Row("verify-evidence-directory", lambda f: ["verify", f.folder], 2, "malformed"),
    Row("verify-evidence-dev-zero", lambda f: ["verify", "/dev/zero"], 2, "malformed"),
    Row("verify-evidence-fifo", lambda f: ["verify", f.fifo], 2, "malformed"),
    Row("verify-evidence-2gb", lambda f: ["verify", f.sparse], 2, "malformed"),
    Row("verify-evidence-empty", lambda f: ["verify", f.write("e", b"")], 2, "truncated"),
    Row(
        "verify-evidence-garbage",
        lambda f: ["verify", f.write("g", b"\x07garbage" * 40)],
        2,
        "unknown_format",
    ),
    Row(
        "verify-evidence-truncated",
        lambda f: ["verify", f.write("t", QUOTE.read_bytes()[:700]), *OK],
        2,
        "truncated",
    ),
    Row(
        "verify-not-authentic",
        lambda f: ["verify", f.flipped_signature(), *OK],
        3,
        "signature_invalid",
    ),
    Row("verify-no-collateral", lambda f: ["verify", str(QUOTE), "--at", AT], 4, None),
    Row(
        "verify-collateral-missing-file",
        lambda f: ["verify", str(QUOTE), "--collateral", f.missing],
        4,
        "collateral_missing",
    ),
    Row(
        "verify-collateral-dev-zero",
        lambda f: ["verify", str(QUOTE), *OK, "--collateral", "/dev/zero"],
        4,
        "collateral_malformed",
    ),
    Row(
        "verify-collateral-fifo",
        lambda f: ["verify", str(QUOTE), *OK, "--collateral", f.fifo],
        4,
        "collateral_malformed",
    ),
    Row(
        "verify-collateral-2gb",
        lambda f: ["verify", str(QUOTE), *OK, "--collateral", f.sparse],
        4,
        "collateral_malformed",
    ),
    Row(
        "verify-collateral-damaged-pem",
        lambda f: ["verify", str(QUOTE), *OK, "--collateral", f.damaged_pem_folder()],
        4,
        "collateral_malformed",
    ),
    Row(
        "verify-collateral-unrecognised-file",
        lambda f: ["verify", str(QUOTE), *OK, "--collateral", f.write("n.txt", "notes")],
        4,
        "collateral_malformed",
    ),
    Row(
        "verify-collateral-expired",
        lambda f: ["verify", str(QUOTE), "--collateral", str(INTEL), "--at", "2025-12-01"],
        4,
        "crl_expired",
    ),
    Row(
        "verify-policy-rejects-tcb",
        lambda f: ["verify", str(SGX / "sgx_quote"), "--collateral", str(SGX), "--at", AT],
        5,
        "tcb_status_rejected",
    ),
    Row(
        "verify-report-data-mismatch",
        lambda f: ["verify", str(QUOTE), *OK, "--report-data", _hex(64, "ff")],
        5,
        "report_data_mismatch",
    ),
    Row(
        "verify-report-data-longer-than-field",
        lambda f: ["verify", str(QUOTE), *OK, "--report-data", _hex(65)],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-report-data-longer-than-any-field",
        lambda f: ["verify", str(QUOTE), *OK, "--report-data", _hex(1025)],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-report-data-not-hex",
        lambda f: ["verify", str(QUOTE), *OK, "--report-data", "xyz"],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-init-data-longer-than-field",
        lambda f: ["verify", str(QUOTE), *OK, "--init-data", _hex(49)],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-trust-root-garbage",
        lambda f: ["verify", str(QUOTE), *OK, "--trust-root", f.write("r.pem", "garbage\n")],
        1,
        "invalid_trust_store",
    ),
    Row(
        "verify-trust-root-empty",
        lambda f: ["verify", str(QUOTE), *OK, "--trust-root", f.write("r.pem", "")],
        1,
        "invalid_trust_store",
    ),
    Row(
        "verify-trust-root-missing",
        lambda f: ["verify", str(QUOTE), *OK, "--trust-root", f.missing],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-trust-root-dev-zero",
        lambda f: ["verify", str(QUOTE), *OK, "--trust-root", "/dev/zero"],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-policy-invalid",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.write("p.yaml", "nonsense: 1\n")],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-missing",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.missing],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-deep-json",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.deep_json()],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-deep-yaml",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.deep_yaml()],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-deep-block-yaml",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.deep_block_yaml()],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-dev-zero",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", "/dev/zero"],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-fifo",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.fifo],
        1,
        "invalid_policy",
    ),
    Row(
        "verify-policy-directory",
        lambda f: ["verify", str(QUOTE), *OK, "--policy", f.folder],
        1,
        "invalid_policy",
    ),
    Row("verify-bad-at", lambda f: ["verify", str(QUOTE), "--at", "yesterday"], 1, None),
    Row(
        "verify-ear-key-garbage",
        lambda f: ["verify", str(QUOTE), *OK, "--ear-key", f.write("k.pem", "x")],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-reference-values-without-rego",
        lambda f: ["verify", str(QUOTE), *OK, "--reference-values", f.write("rv.json", "{}")],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-rego-missing",
        lambda f: ["verify", str(QUOTE), *OK, "--rego", f.missing],
        1,
        "invalid_argument",
    ),
    Row(
        "verify-event-log-dev-zero",
        lambda f: ["verify", str(QUOTE), *OK, "--event-log", "/dev/zero"],
        1,
        "invalid_argument",
    ),
    # --- show ----------------------------------------------------------------------------
    Row("show-ok", lambda f: ["show", str(QUOTE)], 0, None),
    Row("show-directory", lambda f: ["show", f.folder], 2, "malformed"),
    Row("show-missing", lambda f: ["show", f.missing], 1, None),
    Row("show-dev-zero", lambda f: ["show", "/dev/zero"], 2, "malformed"),
    Row("show-fifo", lambda f: ["show", f.fifo], 2, "malformed"),
    Row("show-2gb", lambda f: ["show", f.sparse], 2, "malformed"),
    Row("show-garbage", lambda f: ["show", f.write("g", b"\x07garbage")], 2, "unknown_format"),
    # --- policy check --------------------------------------------------------------------
    Row(
        "policy-check-ok",
        lambda f: ["policy", "check", f.write("ok.yaml", "accepted_tcb_statuses: [UpToDate]\n")],
        0,
        None,
    ),
    Row("policy-check-no-action", lambda f: ["policy"], 1, None),
    Row(
        "policy-check-invalid",
        lambda f: ["policy", "check", f.write("p.yaml", "nonsense: 1\n")],
        1,
        None,
    ),
    Row("policy-check-missing", lambda f: ["policy", "check", f.missing], 1, None),
    Row("policy-check-deep-json", lambda f: ["policy", "check", f.deep_json()], 1, None),
    Row("policy-check-deep-yaml", lambda f: ["policy", "check", f.deep_yaml()], 1, None),
    Row("policy-check-dev-zero", lambda f: ["policy", "check", "/dev/zero"], 1, None),
    Row("policy-check-fifo", lambda f: ["policy", "check", f.fifo], 1, None),
    Row("policy-check-directory", lambda f: ["policy", "check", f.folder], 1, None),
    Row("policy-check-2gb", lambda f: ["policy", "check", f.sparse], 1, None),
    # --- batch ---------------------------------------------------------------------------
    Row(
        "batch-accepted",
        lambda f: ["batch", str(QUOTE), *OK, "--jobs", "1", "--quiet"],
        0,
        None,
    ),
    Row(
        "batch-malformed",
        lambda f: ["batch", f.write("g", b"\x07garbage"), "--jobs", "1", "--quiet"],
        2,
        "unknown_format",
    ),
    Row(
        "batch-not-authentic",
        lambda f: ["batch", f.flipped_signature(), *OK, "--jobs", "1", "--quiet"],
        3,
        "signature_invalid",
    ),
    Row(
        "batch-no-collateral",
        lambda f: ["batch", str(QUOTE), "--at", AT, "--jobs", "1", "--quiet"],
        4,
        None,
    ),
    Row(
        "batch-policy-rejects",
        lambda f: [
            "batch",
            str(SGX / "sgx_quote"),
            "--collateral",
            str(SGX),
            "--at",
            AT,
            "--jobs",
            "1",
            "--quiet",
        ],
        5,
        "tcb_status_rejected",
    ),
    Row("batch-input-missing", lambda f: ["batch", f.missing, "--jobs", "1", "--quiet"], 1, None),
    Row(
        "batch-policy-invalid",
        lambda f: ["batch", str(QUOTE), "--policy", f.write("p.yaml", "nonsense: 1\n")],
        1,
        "invalid_policy",
    ),
    Row(
        "batch-policy-deep",
        lambda f: ["batch", str(QUOTE), "--policy", f.deep_yaml()],
        1,
        "invalid_policy",
    ),
    Row(
        "batch-collateral-damaged-pem",
        lambda f: ["batch", str(QUOTE), "--collateral", f.damaged_pem_folder(), "--jobs", "1"],
        4,
        "collateral_malformed",
    ),
    Row(
        "batch-collateral-dev-zero",
        lambda f: ["batch", str(QUOTE), "--collateral", "/dev/zero", "--jobs", "1"],
        4,
        "collateral_malformed",
    ),
    Row(
        "batch-trust-root-garbage",
        lambda f: ["batch", str(QUOTE), "--trust-root", f.write("r.pem", "garbage\n")],
        1,
        "invalid_trust_store",
    ),
    Row(
        "batch-evidence-dev-zero",
        lambda f: ["batch", "/dev/zero", "--jobs", "1", "--quiet"],
        2,
        "malformed",
    ),
    Row("batch-evidence-fifo", lambda f: ["batch", f.fifo, "--jobs", "1", "--quiet"], 2, None),
    Row("batch-evidence-2gb", lambda f: ["batch", f.sparse, "--jobs", "1", "--quiet"], 2, None),
    Row(
        "batch-folder-collateral-truncated-json",
        lambda f: [
            "batch",
            f.case_with_truncated_json(),
            "--collateral-from-dir",
            "--at",
            AT,
            "--jobs",
            "1",
            "--quiet",
        ],
        4,
        "collateral_malformed",
    ),
    Row(
        "batch-manifest-dev-zero",
        lambda f: ["batch", "--manifest", "/dev/zero", "--jobs", "1", "--quiet"],
        1,
        "invalid_argument",
    ),
    Row("batch-resume-without-output", lambda f: ["batch", str(QUOTE), "--resume"], 1, None),
    Row("batch-bad-at", lambda f: ["batch", str(QUOTE), "--at", "yesterday"], 1, None),
    # --- fetch (offline, empty cache: no network) -----------------------------------------
    Row("fetch-evidence-missing", lambda f: ["fetch", f.missing, "-o", f.folder], 1, None),
    Row("fetch-evidence-dev-zero", lambda f: ["fetch", "/dev/zero", "-o", f.folder], 2, None),
    Row("fetch-evidence-directory", lambda f: ["fetch", f.folder, "-o", f.folder], 2, None),
    Row(
        "fetch-evidence-garbage",
        lambda f: ["fetch", f.write("g", b"\x07garbage"), "-o", f.folder],
        2,
        "unknown_format",
    ),
    Row(
        "fetch-nothing-cached-offline",
        lambda f: ["fetch", str(QUOTE), "-o", f.folder, "--offline", "--at", AT],
        4,
        None,
    ),
    Row(
        "fetch-collateral-damaged",
        lambda f: ["fetch", str(QUOTE), "--collateral", f.damaged_pem_folder(), "--offline"],
        4,
        "collateral_malformed",
    ),
    # --- policy init ---------------------------------------------------------------------
    Row("policy-init-ok", lambda f: ["policy", "init", str(QUOTE), *OK], 0, None),
    Row("policy-init-evidence-missing", lambda f: ["policy", "init", f.missing], 1, None),
    Row("policy-init-evidence-dev-zero", lambda f: ["policy", "init", "/dev/zero"], 2, None),
    Row(
        "policy-init-not-authentic",
        lambda f: ["policy", "init", f.flipped_signature(), *OK],
        3,
        "signature_invalid",
    ),
    Row(
        "policy-init-no-collateral",
        lambda f: ["policy", "init", str(QUOTE), "--at", AT],
        4,
        None,
    ),
    Row(
        "policy-init-trust-root-garbage",
        lambda f: ["policy", "init", str(QUOTE), *OK, "--trust-root", f.write("r", "x")],
        1,
        "invalid_trust_store",
    ),
    Row(
        "policy-init-event-log-dev-zero",
        lambda f: ["policy", "init", str(QUOTE), *OK, "--event-log", "/dev/zero"],
        1,
        "invalid_argument",
    ),
]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network and a private, empty cache for every row."""
    for name in ("COCOVERIFY_PCCS_URL", "COCOVERIFY_KDS_URL", "COCOVERIFY_UPDATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCOVERIFY_OFFLINE", "1")
    monkeypatch.setenv("COCOVERIFY_CACHE_DIR", str(tmp_path / "cache"))


def _needs(row_argv: list[str]) -> None:
    if any(str(SHARED_VECTORS) in a for a in row_argv) and not INTEL.is_dir():
        pytest.skip(f"real vectors not available: {INTEL} is absent")


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_exit_code_and_reason(row: Row, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not INTEL.is_dir() and row.id.split("-")[1] not in ("evidence", "directory", "check"):
        pytest.skip(f"real vectors not available: {INTEL} is absent")
    try:
        argv = row.argv(Files(tmp_path))
    except FileNotFoundError as exc:  # a row built from a real vector of ../shared
        if INTEL.is_dir():
            raise
        pytest.skip(f"real vectors not available: {exc.filename} is absent")
    _needs(argv)
    start = time.monotonic()
    rc = run(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert (rc, "internal error" in text) == (row.code, False), text[-2000:]
    if row.reason is not None:
        assert row.reason in text, text[-2000:]
    assert time.monotonic() - start < 20, "each failure answers quickly"


def test_every_subcommand_has_rows() -> None:
    commands = {tuple(r.id.split("-")[:2]) if r.id.startswith("policy") else r.id.split("-")[0]
                for r in ROWS}  # fmt: skip
    assert commands >= {"verify", "show", "batch", "fetch", ("policy", "check"),
                        ("policy", "init")}  # fmt: skip


# --- through a real process (the exit code as the shell sees it) ------------------------


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (lambda f: ["verify", "/dev/zero"], 2),
        (lambda f: ["verify", f.fifo], 2),
        (lambda f: ["show", f.folder], 2),
        (lambda f: ["policy", "check", f.deep_yaml()], 1),
        (lambda f: ["verify", str(QUOTE), *OK, "--report-data", _hex(65)], 1),
    ],
    ids=["dev-zero", "fifo", "show-directory", "deep-yaml-policy", "report-data-65"],
)
def test_exit_codes_through_a_process(argv: Argv, code: int, tmp_path: Path) -> None:
    args = argv(Files(tmp_path))
    _needs(args)
    proc = subprocess.run(
        [sys.executable, "-m", "cocoverify", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_stdin_is_capped_through_a_process() -> None:
    """``verify -`` with /dev/zero on stdin: refused at the limit, not read forever."""
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(
            [sys.executable, "-m", "cocoverify", "verify", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2 and "8 MiB limit" in proc.stderr, proc.stderr


# --- no input of a broad set gives "internal error" ------------------------------------


def _real_evidence() -> list[Path]:
    out = [QUOTE, SGX / "sgx_quote"]
    for rel in (
        "amd/ms-milan-v3-vcek/report.bin",
        "nitro/evervault-beta-20221013/attestation.cose",
        "azure/trustee-az-tdx-vtpm-v0/evidence-v0.json",
        "nvidia/trustee-hopper-chain-case1/hopper_cert_chain_case1.txt",
    ):
        out.append(SHARED_VECTORS / rel)
    out += sorted((SHARED_VECTORS / "cca").glob("ccatoken-good-*/*.cbor"))[:1]
    out += sorted(PROJECT_VECTORS.glob("**/*.bin"))[:6]
    return [p for p in out if p.is_file()]


def _broad_inputs(tmp_path: Path) -> list[tuple[str, bytes]]:
    rng = random.Random(11)
    inputs: list[tuple[str, bytes]] = [("empty", b""), ("newline", b"\n"), ("nul", b"\x00")]
    for n in (1, 16, 64, 600, 5000):
        inputs.append((f"random{n}", rng.randbytes(n)))
    inputs += [
        ("json-garbage", b'{"tcbInfo": [}'),
        ("json-array", b"[1, 2"),
        ("pem-truncated", b"-----BEGIN CERTIFICATE-----\nMIIB\n"),
        ("hex-odd", b"3082abc"),
        ("base64-ish", b"QUJD" * 50),
        ("deep-json", b"[" * 50_000),
        ("yaml", b"a: [b, {c: d}]\n"),
    ]
    for path in _real_evidence():
        data = path.read_bytes()
        for cut in (1, 4, 48, len(data) // 3, len(data) // 2, len(data) - 1):
            if 0 < cut < len(data):
                inputs.append((f"{path.name}[:{cut}]", data[:cut]))
    return inputs


def test_no_input_gives_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not INTEL.is_dir():
        pytest.skip(f"real vectors not available: {INTEL} is absent")
    files = Files(tmp_path)
    specials = ["/dev/zero", files.fifo, files.folder, files.sparse, files.missing]
    paths = [files.write(f"in/{i}", data) for i, (_, data) in enumerate(_broad_inputs(tmp_path))]
    runs = 0
    for path in [*paths, *specials]:
        for argv in (
            ["verify", path, *OK],
            ["show", path],
            ["policy", "check", path],
            ["verify", str(QUOTE), *OK, "--collateral", path],
            ["verify", str(QUOTE), *OK, "--policy", path],
            ["verify", str(QUOTE), *OK, "--trust-root", path],
        ):
            rc = run(argv)
            out = capsys.readouterr()
            assert 0 <= rc <= 5, argv
            assert "internal error" not in out.err + out.out, (argv, out.err[-1000:])
            runs += 1
    assert runs > 300


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--at"],
        ["verify", str(QUOTE), "--at", "2025-13-45"],
        ["verify", str(QUOTE), "--init-data", "zz"],
        ["verify", str(QUOTE), "--format", "ear", "--ear-profile", "x"],
        ["show"],
        ["batch"],
        ["batch", str(QUOTE), "--jobs", "-1"],
        ["batch", str(QUOTE), "--jobs", "x"],
        ["policy", "check"],
        ["policy", "nope"],
        ["fetch"],
        ["nope"],
        [],
    ],
    ids=repr,
)
def test_bad_arguments_are_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(argv)
    out = capsys.readouterr()
    assert rc == 1 and "internal error" not in out.err
