"""The layers of docs/design.md, enforced: a module imports only from its own layer and those
listed below it. Every import counts, at the top, inside a function or under TYPE_CHECKING."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "vcctl"
BASE = {
    "vcctl.text",
    "vcctl.errors",
    "vcctl.resources",
    "vcctl.validate",
    "vcctl.halt",
    "vcctl.workers",
    "vcctl",
}
DOMAIN = {"vcctl.inventory", "vcctl.apply", "vcctl.batch", "vcctl.watch"}
# layer -> the layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "vcctl.text": set(),
    "vcctl.errors": {"vcctl.text"},
    "vcctl.resources": {"vcctl.text", "vcctl.errors"},
    "vcctl.validate": {"vcctl.text", "vcctl.errors", "vcctl.resources"},
    # The stop token and the worker engine: every layer above waits and works through them.
    "vcctl.halt": {"vcctl.text", "vcctl.errors", "vcctl"},
    "vcctl.workers": {"vcctl.text", "vcctl.errors", "vcctl.halt", "vcctl"},
    "vcctl.http": BASE,
    "vcctl.config": BASE | {"vcctl.http"},
    "vcctl.output": BASE,
    # The emulator is a product of its own: none of the CLI, the client or vcctl's validation (a
    # mistake there must not hide behind the same mistake in the fake server).
    "vcctl.emulator": {"vcctl.text", "vcctl.errors", "vcctl.config", "vcctl"},
    **{name: BASE | {"vcctl.http", "vcctl.config", "vcctl.output"} | DOMAIN for name in DOMAIN},
    "vcctl.cli": BASE
    | {"vcctl.http", "vcctl.config", "vcctl.output", "vcctl.emulator"}
    | DOMAIN
    # `vcctl completion` renders the completion script from the command tree at run time.
    | {"vcctl.docgen"},
    # The generators read the command tree (the whole CLI) and the environment's description.
    "vcctl.docgen": BASE | {"vcctl.cli", "vcctl.config", "vcctl.output", "vcctl.http"} | DOMAIN,
    "vcctl.__main__": {"vcctl.cli"},
    "vcctl": set(),  # __init__: the version only
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "vcctl":  # `from vcctl import errors`, not `__version__`
                found.update(
                    f"vcctl.{alias.name}"
                    for alias in node.names
                    if (PACKAGE / alias.name).is_dir() or (PACKAGE / f"{alias.name}.py").exists()
                )
    return {name for name in found if name == "vcctl" or name.startswith("vcctl.")}


def test_every_import_goes_down_the_layers() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        own = layer_of(module)
        assert own in ALLOWED, f"{module}: layer {own} is not in the table"
        for imported in imports_of(path):
            theirs = layer_of(imported)
            if theirs != own and theirs not in ALLOWED[own]:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_the_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from vcctl.cli.context import context_of\n")
    assert imports_of(sample) == {"vcctl.cli.context"}
    assert layer_of("vcctl.cli.context") not in ALLOWED["vcctl.http"]
