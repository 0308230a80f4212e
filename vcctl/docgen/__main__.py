"""`python -m vcctl.docgen [--check] [OUTDIR]`: write (or check) completions/ and man/.

OUTDIR defaults to the repository root; with --check nothing is written, and the exit status is
1 when a file is missing, differs, or is no longer generated.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from vcctl.docgen import REGENERATE_COMMAND


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from vcctl.docgen.files import differences, generated_files, write

    parser = argparse.ArgumentParser(
        prog=REGENERATE_COMMAND,
        description="Generate vcctl's completion scripts and man pages from the command tree.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated file is missing or differs",
    )
    parser.add_argument(
        "outdir",
        nargs="?",
        type=Path,
        default=Path(__file__).parent.parent.parent,
        help="where completions/ and man/ go (default: the repository root)",
    )
    args = parser.parse_args(argv)
    files = generated_files()
    if args.check:
        problems = differences(args.outdir, files)
        for problem in problems:
            sys.stderr.write(f"vcctl.docgen: {problem}\n")
        if problems:
            sys.stderr.write(f"vcctl.docgen: run `{REGENERATE_COMMAND}` and commit the result\n")
            return 1
        return 0
    for change in write(args.outdir, files):
        sys.stderr.write(f"vcctl.docgen: {change.split(': ', 1)[1]} updated\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
