"""The README and docs/: the front page stays short, links land, and the commands they show still parse.

Links and anchors follow GitHub's rules: a heading's anchor is its text in lower case, punctuation other
than `-` and `_` dropped, spaces turned into `-`, and `-1`, `-2`, ... added to repeats.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`]+`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
MODULE = re.compile(r"-m\s+((?:train|bench)\.\w+)")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose(text: str) -> str:
    """The text without fenced code blocks (whose `#` lines are comments, not headings)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps only its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path: Path) -> list[str]:
    return LINK.findall(INLINE_CODE.sub("", prose(path.read_text(encoding="utf-8"))))


def code_of(path: Path) -> str:
    """Every piece of code in a page: fenced blocks, indented blocks and inline spans."""
    text = path.read_text(encoding="utf-8")
    fenced = [m.group(0) for m in FENCE.finditer(text)]
    rest = prose(text)
    indented = [line for line in rest.splitlines() if line.startswith("    ")]
    return "\n".join(fenced + indented + INLINE_CODE.findall(rest))


def test_readme_is_one_short_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move the depth to docs/"
    assert lines[2:6] == [
        "```bash",
        "make run    # sets up .venv, installs pinned requirements, serves the app on http://localhost:8501",
        "make test   # sets up the same way, then runs ruff and every test (unit, AppTest, real browser)",
        "```",
    ], "the two commands stay at the top of the README"


def test_every_docs_page_has_contents_linking_its_sections():
    assert DOCS, "docs/ holds the depth the README links to"
    for page in DOCS:
        text = prose(page.read_text(encoding="utf-8"))
        sections = [slug(h) for level, h in HEADING.findall(text) if level == "##"]
        before_first_section = text.split("\n## ", 1)[0]
        missing = [s for s in sections if f"(#{s})" not in before_first_section]
        assert text.startswith("# "), f"{rel(page)} starts with its title"
        assert not missing, f"{rel(page)}: its contents list does not link {missing}"


def test_every_docs_page_is_linked_from_the_readme():
    targets = {(README.parent / t.split("#")[0]).resolve() for t in links(README)}
    assert not [rel(p) for p in DOCS if p.resolve() not in targets]


def test_relative_links_and_anchors_resolve():
    broken = []
    for page in PAGES:
        for target in links(page):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not checked here
                continue
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                broken.append(f"{rel(page)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{rel(page)}: {target} (no heading #{anchor} in {rel(dest)})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def shown_modules() -> list[str]:
    return sorted({m for page in PAGES for m in MODULE.findall(code_of(page))})


def test_the_shown_modules_are_found():
    modules = shown_modules()
    assert {"train.dcgan", "train.detector", "bench.run_all"} <= set(modules), modules


def test_every_shown_command_line_parses():
    """`python -m MODULE --help` exits 0 for every train/bench module the README and docs show."""

    def help_of(module: str) -> tuple[str, int, str]:
        done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True,
                              text=True, timeout=240)
        return module, done.returncode, done.stderr[-600:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(help_of, shown_modules()))
    failed = [f"{m}: exit {rc}\n{err}" for m, rc, err in results if rc != 0]
    assert not failed, "these modules do not parse --help:\n" + "\n".join(failed)
