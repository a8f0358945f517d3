"""Accessibility check for browser tests: axe-core run inside the page."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
BLOCKING = {"serious", "critical"}


def assert_accessible(page) -> None:
    """Fail with a readable list when axe finds any serious or critical violation."""
    results = _axe.run(page)
    problems = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    if problems:
        lines = [
            f"{v['impact']}: {v['id']} ({v['help']}) at "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in problems
        ]
        raise AssertionError(f"axe found problems on {page.url}:\n" + "\n".join(lines))
