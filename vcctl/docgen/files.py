"""Every generated file (completions/, man/): made from the tree, written, or checked."""

from __future__ import annotations

import importlib
from pathlib import Path

from vcctl.docgen import COMPLETION_FILES, SHELLS
from vcctl.docgen.tree import PROG, Tree, example_commands, load_tree


def generated_files(tree: Tree | None = None) -> dict[str, str]:
    """Relative path -> content of every generated file."""
    from vcctl.docgen.man import man_pages

    tree = tree or load_tree()
    # Checked here, where the files are made, so that `vcctl completion` itself never fails.
    if tree.unused_hints:
        raise ValueError(f"VALUE_HINTS name parameters the command tree lacks: {tree.unused_hints}")
    check_examples(tree)
    files = {
        f"completions/{COMPLETION_FILES[shell]}": importlib.import_module(
            f"vcctl.docgen.{shell}"
        ).render(tree)
        for shell in SHELLS
    }
    files.update({f"man/{name}": text for name, text in man_pages(tree).items()})
    return files


def check_examples(tree: Tree) -> None:
    """ValueError unless every example runs commands and options that exist, and a command's
    examples run that command."""
    for command in tree.root.walk():
        for example in command.examples:
            ran = {found.path for found in example_commands(tree, example)}
            if command.path and command.path not in ran and not command.hidden:
                raise ValueError(f"an example of {command.full_name} does not run it: {example}")


def _stale_generated(outdir: Path, files: dict[str, str]) -> list[str]:
    """Generated-looking files under OUTDIR that the tree no longer produces."""
    existing = {str(path.relative_to(outdir)) for path in (outdir / "man").glob(f"{PROG}*.1")}
    return sorted(existing - set(files))


def differences(outdir: Path, files: dict[str, str]) -> list[str]:
    problems = []
    for relative, text in files.items():
        path = outdir / relative
        if not path.exists():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {relative}")
    problems += [f"no longer generated: {relative}" for relative in _stale_generated(outdir, files)]
    return problems


def write(outdir: Path, files: dict[str, str]) -> list[str]:
    """Write what changed and remove pages of commands that are gone; returns what changed."""
    changed = differences(outdir, files)
    for relative, text in files.items():
        path = outdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
    for relative in _stale_generated(outdir, files):
        (outdir / relative).unlink()
    return changed
