"""The fleet report as one self-contained HTML page (docs/batch.md "Fleet report").

No network and no external assets: inline CSS, inline SVG charts, no script at all, and a
Content-Security-Policy that forbids loading anything (so even a string that escaped
escaping could run nothing). Every string that comes from a record (paths, claims,
reasons, messages, advisory IDs) is attacker-controlled and goes through :func:`_e`.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.metadata
from typing import Final

from cocoverify.batch.report import (
    EXAMPLES,
    NO_STATUS,
    NOT_SUPPORTED,
    FleetReport,
    PlatformRow,
    class_name,
)
from cocoverify.result import format_time

__all__ = ["render", "write_report"]

#: Fill colour per TCB status (worst: darkest red; no status: grey).
STATUS_COLOURS: Final = {
    "Revoked": "#4a0d0d",
    NOT_SUPPORTED: "#880e4f",
    "OutOfDateConfigurationNeeded": "#b71c1c",
    "OutOfDate": "#e53935",
    "TDRelaunchAdvisedConfigurationNeeded": "#6a1b9a",
    "TDRelaunchAdvised": "#8e24aa",
    "ConfigurationAndSWHardeningNeeded": "#ef6c00",
    "ConfigurationNeeded": "#fb8c00",
    "SWHardeningNeeded": "#fbc02d",
    "UpToDate": "#2e7d32",
}
_OTHER_STATUS: Final = "#5c6bc0"
_NO_STATUS: Final = "#90a4ae"
#: Fill colour per exit class (verdict chart).
CLASS_COLOURS: Final = {
    0: "#2e7d32",
    5: "#f9a825",
    4: "#7e57c2",
    3: "#c62828",
    2: "#8d6e63",
    1: "#546e7a",
}
_PLATFORM_HEAD: Final = [
    "Platform",
    "TEE",
    "Files",
    "TCB status",
    "TCB date",
    "Collateral next update",
    "What to update",
]
_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS: Final = """
:root{--fg:#1d2430;--muted:#5b6472;--line:#dde2ea;--bg:#f6f8fb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--fg);background:var(--bg)}
header{background:#14213d;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d3e6}
main{padding:18px 28px 40px;max-width:1280px}
h2{font-size:17px;margin:26px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;
min-width:130px}
.card .num{display:block;font-size:26px;font-weight:700}
.card .lbl{color:var(--muted)}
.card.bad .num{color:#c62828}.card.good .num{color:#2e7d32}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin-top:16px;align-items:flex-start}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef2f7;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;width:7%}
details.mono{display:inline-block;vertical-align:top}
summary{cursor:pointer}
#advisory-table td:first-child{width:16%}
#platform-table td:first-child{min-width:190px}
.day{white-space:nowrap}
code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;
white-space:nowrap}
.muted{color:var(--muted)}
ul.hints{margin:0;padding-left:18px}
.empty{color:var(--muted);font-style:italic}
footer{color:var(--muted);margin-top:30px;font-size:12px}
"""


def _e(value: object) -> str:
    """Escape for HTML text and double-quoted attributes."""
    return html.escape(str(value), quote=True)


def status_colour(status: str) -> str:
    """The chart and pill colour of a TCB status."""
    if status == NO_STATUS:
        return _NO_STATUS
    return STATUS_COLOURS.get(status, _OTHER_STATUS)


def _date(value: str | None) -> str:
    """An ISO 8601 time as its date, the full text in a tooltip; '-' for None."""
    if value is None:
        return "-"
    return f'<span class="day" title="{_e(value)}">{_e(value[:10])}</span>'


def _long(value: str, keep: int = 16) -> str:
    """A long identifier (an SNP chip ID is 128 hex digits) cut to ``keep`` characters,
    the whole of it one click away (no script: a details element)."""
    if len(value) <= keep + 8:
        return f'<span class="mono">{_e(value)}</span>'
    return f'<details class="mono"><summary>{_e(value[:keep])}…</summary>{_e(value)}</details>'


def _pill(status: str) -> str:
    return (
        f'<span class="pill" data-status="{_e(status)}" '
        f'style="background:{status_colour(status)}">{_e(status)}</span>'
    )


def _card(key: str, num: int, label: str, tone: str = "") -> str:
    return (
        f'<div class="card {tone}" data-key="{key}"><span class="num">{num}</span>'
        f'<span class="lbl">{label}</span></div>'
    )


def _verdict_chart(rep: FleetReport) -> str:
    """One stacked bar: accepted, then each rejection class; a legend below it."""
    width, x = 560.0, 0.0
    total = max(rep.verified, 1)
    segs, legend = [], []
    for i, code in enumerate(sorted(rep.classes, key=lambda c: (c != 0, -c))):
        n = rep.classes[code]
        w = width * n / total
        name = class_name(code)
        label = f"{name} ({n})" if code == 0 else f"{name}, exit {code} ({n})"
        segs.append(
            f'<rect class="bar" data-class="{code}" data-count="{n}" x="{x:.1f}" y="0" '
            f'width="{w:.1f}" height="28" fill="{CLASS_COLOURS.get(code, "#546e7a")}">'
            f"<title>{_e(label)}</title></rect>"
        )
        x += w
        ly = 44 + 20 * i
        legend.append(
            f'<rect x="0" y="{ly - 11}" width="12" height="12" '
            f'fill="{CLASS_COLOURS.get(code, "#546e7a")}"/>'
            f'<text x="18" y="{ly}" font-size="13">{_e(label)}</text>'
        )
    height = 44 + 20 * len(rep.classes)
    return (
        f'<svg id="verdict-svg" width="{width:.0f}" '
        f'height="{height}" viewBox="0 0 {width:.0f} {height}" role="img" '
        f'aria-label="verdicts">{"".join(segs)}{"".join(legend)}</svg>'
    )


def _status_chart(rep: FleetReport) -> str:
    """One horizontal bar per TCB status, worst first, length by files."""
    counts = rep.status_counts()
    top = max((n for _, n in counts), default=1)
    label_w, bar_w, row = 300, 240, 26
    rows = []
    for i, (status, n) in enumerate(counts):
        y = 6 + i * row
        w = max(2.0, bar_w * n / top)
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 15}" font-size="13" text-anchor="end">'
            f"{_e(status)}</text>"
            f'<rect class="bar" data-status="{_e(status)}" data-count="{n}" x="{label_w}" '
            f'y="{y}" width="{w:.1f}" height="20" fill="{status_colour(status)}">'
            f"<title>{_e(status)}: {n}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="13">{n}</text>'
        )
    width, height = label_w + bar_w + 50, 12 + row * max(len(counts), 1)
    return (
        f'<svg id="status-svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="TCB status">{"".join(rows)}</svg>'
    )


def _table(table_id: str, head: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{empty}</p>'
    ths = "".join(f"<th>{h}</th>" for h in head)
    return (
        f'<table id="{table_id}"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _advisories(rep: FleetReport) -> str:
    rows = []
    for adv, platforms, files, examples in rep.advisories():
        more = f' <span class="muted">and {platforms - len(examples)} more</span>'
        rows.append(
            f'<tr data-advisory="{_e(adv)}"><td class="mono">{_e(adv)}</td>'
            f'<td class="n">{platforms}</td><td class="n">{files}</td><td class="mono">'
            f"{'<br>'.join(_e(x) for x in examples)}{more if platforms > len(examples) else ''}"
            "</td></tr>"
        )
    return _table(
        "advisory-table",
        ["Advisory", "Platforms", "Files", "Platforms affected"],
        rows,
        "No advisory applies to any verified platform.",
    )


def _platform_name(row: PlatformRow) -> str:
    if row.ident is None:
        return '<span class="muted">no platform identifier</span>'
    label = f'<br><span class="muted">{_e(row.label)}</span>' if row.label else ""
    kind = f'<span class="muted">{_e(row.kind)}</span>'
    return f"{kind} {_long(row.ident)}{label}"


def _platforms(rep: FleetReport) -> str:
    rows = []
    for row in rep.platform_rows():
        hints = row.what_to_update()
        if row.worst == "UpToDate" and not hints:
            todo = '<span class="muted">nothing</span>'
        elif hints:
            todo = '<ul class="hints">' + "".join(f"<li>{_e(h)}</li>" for h in hints) + "</ul>"
        else:
            todo = '<span class="muted">no TCB status to compare</span>'
        if row.reasons:
            why = ", ".join(f"{_e(r)} ({n})" for r, n in row.reasons.most_common(3))
            todo += f'<div class="muted">rejected: {why}</div>'
        rows.append(
            f'<tr class="platform" data-status="{_e(row.worst)}">'
            f"<td>{_platform_name(row)}</td><td>{_e(row.tee)}</td>"
            f'<td class="n">{row.files}<br><span class="muted">{row.accepted} accepted</span></td>'
            f"<td>{_pill(row.worst)}</td><td>{_date(row.tcb_date)}</td>"
            f"<td>{_date(row.next_update)}</td><td>{todo}</td></tr>"
        )
    return _table(
        "platform-table",
        _PLATFORM_HEAD,
        rows,
        "No platform was identified (no evidence got as far as its claims).",
    )


def _rejections(rep: FleetReport) -> str:
    rows = []
    for g in rep.rejection_groups():
        examples = "".join(
            f'<li><span class="mono">{_e(path)}</span>'
            + (f' <span class="muted">{_e(msg)}</span>' if msg else "")
            + "</li>"
            for path, msg in g.examples
        )
        more = g.count - len(g.examples)
        tail = f'<li class="muted">and {more} more</li>' if more > 0 else ""
        rows.append(
            f'<tr class="rejection" data-reason="{_e(g.reason)}" data-count="{g.count}">'
            f'<td class="mono">{_e(g.reason)}</td>'
            f"<td>{_e(class_name(g.exit_class))} (exit {g.exit_class})</td>"
            f'<td class="n">{g.count}</td><td><ul class="hints">{examples}{tail}</ul></td></tr>'
        )
    return _table(
        "rejection-table",
        ["Reason", "Class", "Files", f"Examples (up to {EXAMPLES})"],
        rows,
        "Nothing was rejected.",
    )


def _version() -> str:
    try:
        return importlib.metadata.version("cocoverify")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def render(
    rep: FleetReport, *, title: str = "Fleet posture", generated: _dt.datetime | None = None
) -> str:
    """The whole page as text."""
    when = format_time(generated or _dt.datetime.now(_dt.UTC))
    span = ""
    if rep.first is not None:
        span = f" · verification time {_e(rep.first)}"
        if rep.last != rep.first:
            span += f" to {_e(rep.last)}"
    rejected = rep.verified - rep.accepted
    cards = "".join(
        [
            _card("verified", rep.verified, "files verified"),
            _card("accepted", rep.accepted, "accepted", "good"),
            _card("rejected", rejected, "rejected", "bad" if rejected else ""),
            _card("skipped", rep.skipped, "skipped (not evidence)"),
            _card("platforms", len(rep.platforms), "platforms"),
            _card("advisories", len(rep.advisory_platforms), "advisories"),
        ]
    )
    tees = ", ".join(f"{_e(t)} {n}" for t, n in sorted(rep.tees.items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cocoverify {_e(_version())}">
<title>{_e(title)}</title><style>{_CSS}</style></head>
<body><header><h1>{_e(title)}</h1>
<p>Generated {_e(when)} by cocoverify {_e(_version())}{span}</p></header>
<main>
<section class="cards" id="summary">{cards}</section>
<p class="muted" id="tees">By TEE: {tees or "none"}</p>
<div class="charts">
<figure id="verdict-chart"><figcaption>Verdicts (files)</figcaption>{_verdict_chart(rep)}</figure>
<figure id="status-chart"><figcaption>TCB status (files)</figcaption>{_status_chart(rep)}</figure>
</div>
<h2>Advisories by platforms affected</h2>{_advisories(rep)}
<h2>Platforms</h2>{_platforms(rep)}
<h2>Rejections by reason</h2>{_rejections(rep)}
<footer>One self-contained page: no script, nothing loaded from the network. Platforms are
keyed by FMSPC (Intel), chip ID (AMD SEV-SNP) or the evidence's own platform identifier;
"TCB date" is the oldest TCB level date among a platform's files and "Collateral next
update" the earliest nextUpdate of the collateral used.</footer>
</main></body></html>
"""


def write_report(
    rep: FleetReport,
    path: str,
    *,
    title: str = "Fleet posture",
    generated: _dt.datetime | None = None,
) -> None:
    """Write :func:`render`'s page to ``path`` (UTF-8)."""
    page = render(rep, title=title, generated=generated)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
