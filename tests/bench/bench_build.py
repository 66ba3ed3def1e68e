"""How long ``dockdojo build`` takes on the two builder corpora, beside the command's
start-up alone, in one run.

Each round runs ``dockdojo build --help`` (start-up: the command parsed, nothing built),
then builds the corpus (``tests/unit/builder_cases/corpus``, one call with every page)
and the site corpus (``tests/unit/builder_cases/site``, the site's root) into a scratch
folder with ``--docs-base``, one after another, so all three see the same machine load.
Medians are printed, with each build's time beyond start-up, per page, and its ratio to
start-up. Needs no engine. Run by ``make bench``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 9
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CASES = ROOT / "tests" / "unit" / "builder_cases"
BASE = "https://docs.docker.com"


def corpus_pages() -> list[str]:
    content = CASES / "corpus" / "content"
    return sorted(str(p) for p in content.rglob("*.md") if "_includes" not in p.parts)


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr[-400:]}")
    return took


def main() -> int:
    dockdojo = str(BIN / "dockdojo")
    pages = corpus_pages()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        commands = {
            "build --help (start-up)": [dockdojo, "build", "--help"],
            "build corpus": [
                dockdojo,
                "build",
                *pages,
                "--out",
                f"{scratch}/corpus",
                "--docs-base",
                BASE,
            ],
            "build site": [
                dockdojo,
                "build",
                str(CASES / "site"),
                "--out",
                f"{scratch}/site",
                "--docs-base",
                BASE,
            ],
        }
        for argv in commands.values():  # warm the file cache
            timed(argv)
        counts = {
            "build corpus": len(pages),
            "build site": len(list((Path(scratch) / "site").glob("*.ipynb"))),
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(ROUNDS):
            for label, argv in commands.items():
                times[label].append(timed(argv))
    medians = {label: statistics.median(values) for label, values in times.items()}
    base = medians["build --help (start-up)"]
    print(f"dockdojo build beside its start-up, median of {ROUNDS} interleaved rounds")
    print(
        f"{'command':<24} {'pages':>6} {'ms':>8} {'beyond start-up ms':>19} "
        f"{'ms/page':>8} {'ratio':>6}"
    )
    for label, median in medians.items():
        pages_built = counts.get(label, 0)
        beyond = (median - base) * 1000
        per_page = f"{beyond / pages_built:.1f}" if pages_built else "-"
        print(
            f"{label:<24} {pages_built or '-':>6} {median * 1000:>8.0f} {beyond:>19.0f} "
            f"{per_page:>8} {median / base:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
