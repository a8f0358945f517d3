"""The benchmark's results and how they are shown: the table printed as the pages are
measured, and the Markdown report (docs/benchmarks.md)."""

from __future__ import annotations

import datetime
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.bench import pages as registry

if TYPE_CHECKING:
    from tests.bench.runner import Options

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PageResult:
    page: registry.Page
    url: dict = field(default_factory=dict)  # slug -> path
    times: dict = field(default_factory=dict)  # slug -> [seconds]
    queries: dict = field(default_factory=dict)  # slug -> statements of the last request
    size: dict = field(default_factory=dict)  # slug -> bytes of the last response

    def median(self, slug) -> float:
        return statistics.median(self.times[slug]) * 1000

    def p95(self, slug) -> float:
        ordered = sorted(self.times[slug])
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000

    def ratio(self, large, small) -> float:
        return self.median(large) / self.median(small)


@dataclass
class JobResult:
    name: str
    times: list[float]
    queries: int

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def overhead(with_rls: float, without: float) -> str:
    """What the policies add, as a percentage of the time without them."""
    return f"{(with_rls / without - 1) * 100:+.0f}%" if without else "n/a"


@dataclass
class RlsResult:
    """One page in one district from the servers with and without row-level security:
    medians (with, without) of the whole request and of its time in SQL, in ms."""

    page_ms: tuple[float, float]
    sql_ms: tuple[float, float]

    def line(self) -> str:
        (page_on, page_off), (sql_on, sql_off) = self.page_ms, self.sql_ms
        return (
            f"page {page_on:6.1f} / {page_off:6.1f} ms ({overhead(page_on, page_off):>5}), "
            f"SQL {sql_on:5.1f} / {sql_off:5.1f} ms ({overhead(sql_on, sql_off):>5})"
        )

    def cells(self) -> str:
        (page_on, page_off), (sql_on, sql_off) = self.page_ms, self.sql_ms
        return (
            f"{page_on:.1f} / {page_off:.1f} | {overhead(page_on, page_off)} "
            f"| {sql_on:.1f} / {sql_off:.1f} | {overhead(sql_on, sql_off)}"
        )


@dataclass
class Statement:
    sql: str
    params: object
    median_ms: float
    max_ms: float
    count: int
    page: str
    district: str
    plan: str = ""


@dataclass
class Report:
    options: Options
    started: datetime.datetime
    machine: dict
    data: dict
    load_before: tuple
    load_after: tuple = ()
    pages: list[PageResult] = field(default_factory=list)
    jobs: list[JobResult] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    rls_overhead: dict = field(default_factory=dict)  # (page name, slug) -> RlsResult


# --- Showing them --------------------------------------------------------------------------------


def page_header(options: Options) -> str:
    large, small = options.districts
    return (
        f"{'page':<36} {'role':<11} "
        f"{'median':>8} {'p95':>8} {'SQL':>4}   {'median':>8} {'p95':>8} {'SQL':>4} {'ratio':>7}\n"
        f"{'':<36} {'':<11} {large:>22}   {small:>22}"
    )


def page_line(result: PageResult, options: Options) -> str:
    large, small = options.districts
    return (
        f"{result.page.name[:36]:<36} {result.page.role:<11} "
        f"{result.median(large):8.1f} {result.p95(large):8.1f} {result.queries[large]:>4}   "
        f"{result.median(small):8.1f} {result.p95(small):8.1f} {result.queries[small]:>4} "
        f"{result.ratio(large, small):6.1f}x"
    )


def markdown(report: Report) -> str:
    options = report.options
    large, small = options.districts
    commit = git_commit()
    lines = [
        "# Benchmarks",
        "",
        "Written by `manage.py bench` (`./trellis bench`); the figures below are the baseline",
        "that later changes are compared with. Run it again on the same machine to compare.",
        "",
        f"- Date: {report.started:%Y-%m-%d %H:%M} UTC" + (f", commit `{commit}`" if commit else ""),
        f"- Database: `{options.database}`, served by gunicorn ({options.workers} sync workers,"
        " DEBUG off, the runtime role under row-level security, static files from STATIC_ROOT"
        " through WhiteNoise)",
        f"- Requests: {options.warmup} warm-up then {options.requests} timed, sequential, per"
        " page and district",
        f"- Load average (1, 5, 15 min): before {_fmt_load(report.load_before)}, after "
        f"{_fmt_load(report.load_after)}",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in report.machine.items()),
        "",
        "## Data",
        "",
        "| rows | " + " | ".join(f"`{slug}`" for slug in report.data) + " |",
        "|---|" + "---:|" * len(report.data),
    ]
    labels = next(iter(report.data.values()), {}).keys()
    for label in labels:
        lines.append(
            f"| {label} | "
            + " | ".join(f"{counts[label]:,}" for counts in report.data.values())
            + " |"
        )
    lines += [
        "",
        "## Pages",
        "",
        f"Milliseconds from request to the last byte, median and 95th percentile; SQL: statements"
        f" of one request (savepoints included); ratio: median in `{large}` / median in"
        f" `{small}`.",
        "",
        f"| page | role | {large} median | p95 | SQL | {small} median | p95 | SQL | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in report.pages:
        lines.append(
            f"| {result.page.name} | {result.page.role} "
            f"| {result.median(large):.1f} | {result.p95(large):.1f} | {result.queries[large]} "
            f"| {result.median(small):.1f} | {result.p95(small):.1f} | {result.queries[small]} "
            f"| {result.ratio(large, small):.1f}x |"
        )
    lines += ["", "Requested as:", ""]
    lines += [
        f"- {result.page.name}: `{result.url[large]}`" + (" (htmx)" if result.page.htmx else "")
        for result in report.pages
    ]
    if report.rls_overhead:
        lines += [
            "",
            "## Row-level security",
            "",
            "Each page from two servers side by side, a request to each in turn: one connected"
            " as the runtime role (under the policies), one as the maintenance role (BYPASSRLS)."
            " Medians, with / without, of the whole request and of its time in SQL (where the"
            " policies act); the last row adds up every page's medians.",
            "",
            f"| page | {large} page ms | overhead | SQL ms | overhead "
            f"| {small} page ms | overhead | SQL ms | overhead |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in report.pages:
            cells = [report.rls_overhead[result.page.name, s].cells() for s in options.districts]
            lines.append(f"| {result.page.name} | " + " | ".join(cells) + " |")
        totals = []
        for slug in options.districts:
            rows = [report.rls_overhead[result.page.name, slug] for result in report.pages]
            totals.append(
                RlsResult(
                    page_ms=tuple(sum(row.page_ms[i] for row in rows) for i in (0, 1)),
                    sql_ms=tuple(sum(row.sql_ms[i] for row in rows) for i in (0, 1)),
                ).cells()
            )
        lines.append("| **every page** | " + " | ".join(totals) + " |")
    lines += [
        "",
        "## Jobs",
        "",
        f"Timed in the benchmark's process (not the worker), in `{large}`, each in a transaction"
        " rolled back at the end; repeated up to 3 times while short.",
        "",
        "| job | median s | runs | SQL |",
        "|---|---:|---:|---:|",
        *(
            f"| {job.name} | {job.median:.2f} | {len(job.times)} | {job.queries} |"
            for job in report.jobs
        ),
        "",
        f"## The {len(report.statements)} slowest SQL statements",
        "",
        "Ranked by their median time over every request above; EXPLAIN (ANALYZE, BUFFERS) run"
        " afterwards as the runtime role in the same district's row-level-security context,"
        " with the parameters of the slowest run.",
    ]
    for number, statement in enumerate(report.statements, 1):
        lines += [
            "",
            f"### {number}. {statement.page} in `{statement.district}`: median "
            f"{statement.median_ms:.1f} ms, slowest {statement.max_ms:.1f} ms "
            f"({statement.count} runs)",
            "",
            "```sql",
            statement.sql,
            "```",
            "",
            f"Parameters: `{json.dumps(statement.params, ensure_ascii=False)}`",
            "",
            "```",
            statement.plan,
            "```",
        ]
    lines += [
        "",
        "## How to run",
        "",
        "```sh",
        "./trellis manage seed_bench --scale 1   # once: the benchmark database, trellis_bench",
        "./trellis bench                         # this report, written to docs/benchmarks.md",
        "```",
        "",
        "Options: `--requests N` (timed requests per page, 30), `--warmup N` (5), `--workers N`"
        " (gunicorn, 3), `--database NAME`, `--output PATH`, `--compare-rls` (the pages once"
        " more, from a server under row-level security and one as the maintenance role in turn,"
        " for what the policies cost). Pages and jobs are"
        " listed in `tests/bench/pages.py`; each capability adds its own there.",
        "",
    ]
    return "\n".join(lines)


# What people wrote below this line in the report (the reading of a baseline, a comparison)
# is kept when the benchmark writes the report again.
NOTES_MARKER = "<!-- notes: kept when the report is written again -->"


def kept_notes(path: Path) -> str:
    """The hand-written notes of the report at `path`, from NOTES_MARKER on ("" if none)."""
    existing = read_or_empty(path)
    at = existing.find(NOTES_MARKER)
    return "\n" + existing[at:] if at >= 0 else ""


def _fmt_load(load: tuple) -> str:
    return ", ".join(f"{x:.2f}" for x in load) if load else "?"


def read_or_empty(path) -> str:
    """The text of the file at `path`, or "" when it cannot be read."""
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def git_commit(root: Path = ROOT) -> str:
    """The checked-out commit, read from .git (no git process); "" when there is none."""
    git = root / ".git"
    if git.is_file():  # a worktree: "gitdir: <path>"
        git = Path(git.read_text().split(":", 1)[1].strip())
    head = read_or_empty(git / "HEAD").strip()
    if not head.startswith("ref: "):
        return head[:12]
    ref = head[5:]
    common = git
    if (git / "commondir").is_file():
        common = (git / read_or_empty(git / "commondir").strip()).resolve()
    for base in (git, common):
        value = read_or_empty(base / ref).strip()
        if value:
            return value[:12]
        for line in read_or_empty(base / "packed-refs").splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    return ""
