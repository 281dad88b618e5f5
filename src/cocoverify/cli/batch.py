"""``cocoverify batch``: many evidence files on all cores, one JSON line each (docs/batch.md).

stdout (or ``--output``) carries only JSON lines, in input order; the progress bar (only when
stderr is a terminal) and the summary table go to stderr. Exit code: 0 when every verified
file was accepted, else the smallest non-zero per-file exit code seen (1 > 2 > 3 > 4 > 5).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final, TextIO

from cocoverify.batch import (
    BatchConfig,
    BatchItem,
    InlineExecutor,
    Skipped,
    expand_inputs,
    preload,
    read_manifest,
    record_exit_code,
    verify_many_lines,
)
from cocoverify.batch.cluster import connect
from cocoverify.batch.jsonl import ENCODER, record_line
from cocoverify.batch.report import FleetReport
from cocoverify.batch.report_html import render
from cocoverify.cli.verify import _trust
from cocoverify.errors import CocoverifyError, ConfigurationError, Reason
from cocoverify.policy import Policy

__all__ = ["Progress", "Summary", "register", "summary_table"]

#: ``write_json``'s output (compact, ASCII); the lines themselves come from ``record_line``,
#: which writes the same bytes faster.
_LINE = ENCODER

#: Output is flushed at least this often (and at the end): lines reach a pipe promptly
#: without a write system call per record.
FLUSH_SECONDS = 0.2


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "batch",
        help="verify many evidence files in parallel (JSON lines)",
        description="Verify files, folders (recursive; evidence recognised by content), "
        "globs and JSON-lines manifests. Collateral: --collateral (shared by all), plus "
        "<file>.collateral/ beside a file, plus the file's own directory with "
        "--collateral-from-dir, plus a manifest line's own collateral.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="file, directory or glob")
    p.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="JSON lines, one object per file: path (relative to the manifest's folder), "
        "optional at, report_data (hex), collateral, id; '-' reads stdin (repeatable)",
    )
    p.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write a self-contained HTML fleet posture report to FILE.html",
    )
    p.add_argument(
        "--collateral",
        action="append",
        default=[],
        metavar="PATH",
        help="collateral file or directory shared by every file (repeatable)",
    )
    p.add_argument(
        "--collateral-from-dir",
        action="store_true",
        help="also load collateral from each evidence file's own directory",
    )
    p.add_argument(
        "--at",
        metavar="ISO8601",
        help="verification time for every file without its own manifest 'at' "
        "(default: now, taken once)",
    )
    p.add_argument("--policy", metavar="FILE", help="policy file (JSON or YAML)")
    p.add_argument(
        "--trust-root",
        action="append",
        default=[],
        metavar="PEM",
        help="pin these root certificates instead of the built-in vendor roots",
    )
    p.add_argument(
        "--output", "-o", metavar="FILE", help="write JSON lines to FILE instead of stdout"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip inputs whose path is already in --output; append the rest",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default: all cores; 1 = in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786; "
        "needs cocoverify[dask]; paths must be the same on every worker)",
    )
    p.add_argument(
        "--show-skipped",
        action="store_true",
        help='also write {"path", "skipped": "not evidence"} lines for skipped files',
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no summary table")
    p.set_defaults(func=run)


class Progress:
    """A one-line progress bar on a terminal; does nothing otherwise (no dependency)."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool | None = None) -> None:
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.done = 0
        self.rejected = 0
        self.start = time.monotonic()
        self._last = 0.0

    def update(self, record: dict[str, Any]) -> None:
        """Count one record; redraw at most ten times a second."""
        self.done += 1
        if "skipped" not in record and not record.get("accepted"):
            self.rejected += 1
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.done == self.total):
            self._last = now
            self.stream.write("\r" + self.line(now) + "\033[K")
            self.stream.flush()

    def line(self, now: float) -> str:
        """The bar text."""
        width = 30
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * width)
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{frac:4.0%} {rate:6.1f}/s ETA {eta:4.0f}s rejected {self.rejected}"
        )

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


class Summary:
    """Counts for the summary table, one record at a time (memory flat on huge batches)."""

    _NAMES: Final = {1: "error", 2: "evidence", 3: "authenticity", 4: "collateral", 5: "policy"}

    def __init__(self) -> None:
        self.verified = 0
        self.skipped = 0
        self.accepted = 0
        self.classes: Counter[int] = Counter()
        self.tees: Counter[str] = Counter()
        self.reasons: Counter[Any] = Counter()

    def add(self, record: dict[str, Any]) -> None:
        """Count one record."""
        if "skipped" in record:
            self.skipped += 1
            return
        self.verified += 1
        self.tees[str(record.get("tee"))] += 1
        if record.get("accepted"):
            self.accepted += 1
            return
        self.classes[int(record.get("exit_code", 1))] += 1
        self.reasons[record.get("reason") or record.get("error")] += 1

    def table(self, *, elapsed: float, resumed: int) -> str:
        """Counts per outcome, TEE and reason, for people (stderr)."""
        rows: list[tuple[str, str]] = [
            ("files verified", str(self.verified)),
            ("accepted", str(self.accepted)),
            ("rejected", str(self.verified - self.accepted)),
        ]
        for code in sorted(self.classes):
            name = self._NAMES.get(code, "?")
            rows.append((f"  exit {code} ({name})", str(self.classes[code])))
        rows.append(("skipped (not evidence)", str(self.skipped)))
        if resumed:
            rows.append(("already in output (--resume)", str(resumed)))
        for tee, n in sorted(self.tees.items()):
            rows.append((f"tee {tee}", str(n)))
        for reason, n in self.reasons.most_common(10):
            rows.append((f"reason {reason}", str(n)))
        rate = self.verified / elapsed if elapsed > 0 else 0.0
        rows.append(("time", f"{elapsed:.2f}s ({rate:.1f} files/s)"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def summary_table(records: list[dict[str, Any]], *, elapsed: float, resumed: int) -> str:
    """Counts per outcome, TEE and reason, for people (stderr)."""
    summary = Summary()
    for rec in records:
        summary.add(rec)
    return summary.table(elapsed=elapsed, resumed=resumed)


def _finished(rec: Any) -> bool:
    """A line that records a finished verification (or a skip) of its ``path``.

    Lines for files that could not be read or hit an internal error (``exit_code`` 1, e.g.
    a worker killed by the crash being resumed from) do not count: those files were never
    verified, so ``--resume`` verifies them again. So does any line of the wrong shape.
    """
    if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
        return False
    if "skipped" in rec:
        return isinstance(rec["skipped"], str)
    code = rec.get("exit_code")
    if type(code) is not int or not 0 <= code <= 5 or code == 1:
        return False
    return type(rec.get("accepted")) is bool and (code == 0) == rec["accepted"]


def _done_paths(path: str) -> tuple[set[str], list[dict[str, Any]]]:
    """Paths already verified according to an output file, and the file's records.

    Unparseable lines (e.g. one cut short by a crash) are ignored and unfinished records
    are not "done", so their files are verified again (the new line then wins).
    """
    done: set[str] = set()
    records: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if not isinstance(rec, dict):
                    continue
                records.append(rec)  # every line counts for the exit code ...
                if _finished(rec):
                    done.add(rec["path"])  # ... but only finished ones are skipped
    except FileNotFoundError:
        pass
    return done, records


def _open_output(path: str, resume: bool) -> TextIO:
    if not resume:
        return open(path, "w", encoding="utf-8")
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed by run()
    if fh.tell() > 0:  # make sure a cut-short last line does not swallow the next record
        fh.seek(fh.tell() - 1)
        last = fh.read(1)
        if last != "\n":
            fh.write("\n")
    return fh


def run(args: argparse.Namespace) -> int:
    """Expand inputs, verify in parallel, write JSON lines, print the summary."""
    if not args.paths and not args.manifest:
        raise ConfigurationError(
            "batch: give at least one PATH or --manifest FILE", reason=Reason.INVALID_ARGUMENT
        )
    if args.resume and not args.output:
        raise ConfigurationError("--resume needs --output FILE", reason=Reason.INVALID_ARGUMENT)
    if args.jobs < 0:
        raise ConfigurationError("--jobs: must be >= 0", reason=Reason.INVALID_ARGUMENT)
    if args.scheduler and args.jobs:
        raise ConfigurationError(
            "--jobs and --scheduler: the cluster decides the workers",
            reason=Reason.INVALID_ARGUMENT,
        )
    policy = Policy.from_file(args.policy) if args.policy else None
    trust = _trust(args.trust_root)
    config = BatchConfig.create(collateral=args.collateral, policy=policy, trust=trust, at=args.at)
    listed: list[BatchItem] = []  # manifests first: a bad line stops before anything runs
    for manifest in args.manifest:
        listed += read_manifest(manifest, collateral_from_dir=args.collateral_from_dir)
    try:
        # fail fast on unreadable shared collateral; forked workers inherit what it loaded
        preload(config)
    except CocoverifyError as exc:
        print(f"cocoverify: {exc}", file=sys.stderr)
        return exc.exit_code
    # found files are checked for evidence by the workers, which read them anyway
    entries = expand_inputs(
        args.paths, collateral_from_dir=args.collateral_from_dir, check_content=False
    )
    entries += listed
    codes: dict[str, int] = {}  # path -> exit code of its latest line (--resume)
    resumed = 0
    report = FleetReport() if args.report else None
    if args.resume:
        done, previous = _done_paths(args.output)
        kept = [e for e in entries if e.path not in done]
        resumed = len(entries) - len(kept)
        entries = kept
        codes = {str(r.get("path")): record_exit_code(r) for r in previous if "skipped" not in r}
        if report is not None:  # the report covers the whole batch: the finished lines too
            report.add_all(_latest_finished(previous, done))
    # the page is written to FILE.tmp, renamed at the end: an unwritable place fails before
    # anything runs, and an interrupted run leaves an older report as it was
    page = _open_report(args.report) if report is not None else None
    client = connect(args.scheduler) if args.scheduler else None
    try:
        rc = _run(args, config, entries, codes, resumed, client, report)
        if report is not None and page is not None:
            page.write(render(report))
            page.close()
            os.replace(page.name, args.report)
            page = None
    finally:
        if client is not None:
            client.close()
        if page is not None:
            page.close()
            with contextlib.suppress(OSError):
                os.unlink(page.name)
    return rc


def _open_report(path: str) -> TextIO:
    try:
        return open(path + ".tmp", "w", encoding="utf-8")  # closed by run()
    except OSError as exc:
        raise ConfigurationError(
            f"--report {path}: cannot write ({exc.strerror})", reason=Reason.INVALID_ARGUMENT
        ) from None


def _latest_finished(records: list[dict[str, Any]], done: set[str]) -> list[dict[str, Any]]:
    """The newest finished line per path (the one ``--resume`` keeps)."""
    latest: dict[str, dict[str, Any]] = {}
    for rec in records:
        if _finished(rec) and rec["path"] in done:
            latest[rec["path"]] = rec
    return list(latest.values())


def _run(
    args: argparse.Namespace,
    config: BatchConfig,
    entries: list[BatchItem | Skipped],
    codes: dict[str, int],
    resumed: int,
    client: Any,
    report: FleetReport | None = None,
) -> int:
    out = _open_output(args.output, args.resume) if args.output else sys.stdout
    progress = Progress(len(entries), sys.stderr)
    bar = progress.enabled  # counts only matter for the bar
    summary = Summary()
    start = last_flush = time.monotonic()
    items = [e for e in entries if isinstance(e, BatchItem)]
    executor: Any = client
    if client is None and args.jobs == 1:
        executor = InlineExecutor()
    # records with their JSON lines, built by the workers (batch.record.record_and_line)
    # without a report only SLIM_KEYS of each record are read here (codes, summary, bar)
    results: Iterator[tuple[dict[str, Any], str]] = verify_many_lines(
        items,
        config=config,
        executor=executor,
        max_workers=args.jobs or os.cpu_count(),
        slim=report is None,
    )
    try:
        for entry in entries:
            if isinstance(entry, Skipped):
                rec = entry.record()
                line = record_line(rec)
            else:
                rec, line = next(results)
            if "skipped" not in rec:
                codes[str(rec.get("path"))] = record_exit_code(rec)  # the latest line wins
            if "skipped" not in rec or args.show_skipped:
                out.write(line + "\n")
                now = time.monotonic()
                if now - last_flush >= FLUSH_SECONDS:
                    out.flush()
                    last_flush = now
            summary.add(rec)
            if report is not None:
                report.add(rec)
            if bar:
                progress.update(rec)
    finally:
        out.flush()
        progress.close()
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if out is not sys.stdout:
            out.close()
    if not args.quiet:
        print(summary.table(elapsed=time.monotonic() - start, resumed=resumed), file=sys.stderr)
    # batch_exit_code's rule on codes record_exit_code already gave (0-5 each)
    seen = set(codes.values())
    seen.discard(0)
    return min(seen) if seen else 0
