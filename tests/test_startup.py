"""Start-up cost is paid on every TAB and every loop iteration: a run loads what it uses.

The command tree is read from vcctl.cli.registry; a run imports the module of the command it
runs and no other command module, and a listing (`--help`, "did you mean") imports none.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.core import TyperGroup

from tests.helpers import API_KEY, API_TOKEN, clean_environment, run_vcctl
from vcctl.cli.app import build_tree, root
from vcctl.cli.deferred_modules import DEFERRED
from vcctl.cli.lazy import LazyGroup, Placeholder
from vcctl.cli.registry import TREE, Command, Group
from vcctl.emulator.server import Emulator

# Through the process's entry point, as `vcctl` runs; a deferred module's stand-in that was never
# used is not counted as loaded (vcctl.cli.deferred_modules).
PROBE = """
import contextlib, io, json, sys
sys.argv = ["vcctl", *json.loads(sys.argv[1])]
out = sys.stdout
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        import vcctl.__main__ as entry
        entry.main()
    except SystemExit:
        pass
from vcctl.cli.deferred_modules import is_deferred
out.write(json.dumps(sorted(name for name, module in sys.modules.items()
                            if not is_deferred(module))))
"""
COMMANDS = "vcctl.cli.commands"
ROOT = Path(__file__).resolve().parent.parent
# The process's entry point (vcctl/__main__.py), with the collector's state noted as it starts,
# when the command writes its output, and once the entry point is done.
COLLECTOR_PROBE = """
import gc, json, sys
states = {}
import vcctl.__main__ as entry
states["imported"] = gc.isenabled()

class Out:
    def write(self, text):
        states.setdefault("command", gc.isenabled())
        return len(text)
    def flush(self):
        pass

sys.argv, real, sys.stdout = ["vcctl", "version"], sys.stdout, Out()
try:
    entry.main()
except SystemExit:
    pass
states["exit"] = gc.isenabled()
states["frozen"] = gc.get_freeze_count() > 0
sys.stdout = real
print(json.dumps(states))
"""


def loaded_modules(args: list[str], env: dict[str, str]) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(completed.stdout))


def command_modules(modules: set[str]) -> set[str]:
    """The command modules loaded, without the packages and the shared modules."""
    shared = {
        "common",
        "from_file",
        "get_ids",
        "key_options",
        "options",
        "profiles",
        "report",
        "send",
    }
    return {
        name
        for name in modules
        if name.startswith(f"{COMMANDS}.")
        and name.rsplit(".", 1)[1] not in shared
        and not (name.count(".") == 3 and isinstance(TREE.get(name.rsplit(".", 1)[1]), Group))
    }


def test_rooms_get_json_loads_only_its_command_and_no_rendering(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    room = run_vcctl(["rooms", "create", "--name", "Probe", "-q"], env)
    assert room.code == 0, room

    modules = loaded_modules(["rooms", "get", room.stdout.strip(), "--json"], env)

    assert command_modules(modules) == {f"{COMMANDS}.rooms.get"}
    assert "requests" in modules  # it did send the GET
    # Nothing for drawing (--json prints the answer), for other commands, for other workers.
    unused = {"rich", "typer.rich_utils", "vcctl.batch", "vcctl.watch", "vcctl.apply"}
    assert not unused & modules
    # Nor what start-up can do without: no dataclass is created (each costs half a millisecond),
    # one id starts no worker pool, and there is no config file to parse.
    assert not {"dataclasses", "concurrent.futures", "tomllib"} & modules
    # Nor what typer, requests and vcctl import for other uses (deferred to their first use).
    assert not set(DEFERRED) & modules
    assert not {name for name in modules if name.startswith("vcctl.emulator")}


def test_a_command_help_builds_only_that_command(tmp_path: Path) -> None:
    modules = loaded_modules(["rooms", "update", "--help"], clean_environment(tmp_path))
    assert command_modules(modules) == {f"{COMMANDS}.rooms.update"}
    assert "requests" not in modules


def test_the_root_help_lists_every_group_from_the_registry(tmp_path: Path) -> None:
    modules = loaded_modules(["--help"], clean_environment(tmp_path))
    assert "vcctl.cli.registry" in modules
    assert command_modules(modules) == set()
    assert "requests" not in modules


def test_a_group_help_and_a_suggestion_load_no_command(tmp_path: Path) -> None:
    env = clean_environment(tmp_path)
    assert command_modules(loaded_modules(["rooms", "--help"], env)) == set()
    assert command_modules(loaded_modules(["rooms", "gte", "x"], env)) == set()
    mistyped = run_vcctl(["rooms", "gte", "x"], env)
    assert mistyped.code == 2
    assert "Did you mean 'get'?" in mistyped.stderr


def _help(command: TyperGroup, ctx: Any) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # typer's rich help prints rather than returns it
        text = command.get_help(ctx)
    return text + out.getvalue()


def _listings(tree: LazyGroup) -> dict[str, str]:
    """The --help text of the root and of every group."""
    root_ctx = tree.make_context("vcctl", ["--help"], resilient_parsing=True)
    texts = {"": _help(tree, root_ctx)}
    for name, entry in TREE.items():
        if isinstance(entry, Group):
            group = tree.get_command(root_ctx, name)
            ctx = group.make_context(name, [], parent=root_ctx, resilient_parsing=True)
            texts[name] = _help(group, ctx)
    assert all("Commands" in text for text in texts.values())
    return texts


def test_the_registry_says_what_the_commands_say() -> None:
    """A listing drawn from the registry's placeholders is the listing of the real commands:
    same names, order, summaries and hidden commands."""
    tree = build_tree()
    from_registry = _listings(tree)
    rooms = tree.commands["rooms"]
    assert isinstance(rooms, LazyGroup)
    assert isinstance(tree.commands["api"], Placeholder)
    assert isinstance(rooms.commands["get"], Placeholder)
    tree.load_all()
    assert not any(isinstance(command, Placeholder) for command in tree.walk())
    assert _listings(tree) == from_registry
    for name, entry in TREE.items():
        commands = entry.commands if isinstance(entry, Group) else {name: entry}
        loaded: Any = tree.commands[name]
        for verb, declared in commands.items():
            assert isinstance(declared, Command)
            real = loaded.commands[verb] if isinstance(entry, Group) else loaded
            assert bool(real.hidden) == declared.hidden, verb
            assert (real.help or "").split("\n\n")[0] == declared.summary, verb


def test_the_collector_is_paused_while_vcctl_starts_and_frozen_at_exit(tmp_path: Path) -> None:
    """Start-up objects live until exit: collecting them costs time and frees nothing. A command
    that runs long (a batch, a watch, the emulator) collects as usual."""
    completed = subprocess.run(
        [sys.executable, "-c", COLLECTOR_PROBE],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    states = json.loads(completed.stdout)
    assert states == {"imported": False, "command": True, "exit": False, "frozen": True}


def test_a_run_leaves_no_sqlite_journal_behind(tmp_path: Path, emulator: Emulator) -> None:
    """The collector is frozen at exit, so nothing is closed by a last collection: each command
    closes the inventory itself, and SQLite removes its -wal and -shm files then."""
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    data = tmp_path / "data"
    # Beside the inventory: the shell completion's key index (vcctl.inventory.key_index).
    expected = ["inventory.sqlite3", "key-index.txt"]
    created = run_vcctl(["rooms", "create", "--name", "Journal", "--key", "journal", "-q"], env)
    assert created.code == 0, created
    assert sorted(path.name for path in data.iterdir()) == expected
    runs = [
        ["rooms", "get", created.stdout.strip(), "--json"],
        ["rooms", "list"],
        ["inventory", "keys"],
        ["rooms", "delete", created.stdout.strip(), "--yes"],
    ]
    for args in runs:
        result = run_vcctl(args, env)
        assert result.code == 0, (args, result)
        assert sorted(path.name for path in data.iterdir()) == expected, args


def test_the_development_setup_runs_vcctl_from_bytecode(tmp_path: Path) -> None:
    """README's Development section: where PYTHONDONTWRITEBYTECODE=1 is set, the editable install
    would compile every vcctl module on every run; its compileall line writes the bytecode."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    development = readme[readme.index("## Development") :]
    [line] = [line for line in development.splitlines() if "compileall" in line][:1]
    words = shlex.split(line.split("#", 1)[0])
    assert words[:3] == [".venv/bin/python", "-m", "compileall"], line
    subprocess.run([sys.executable, *words[1:]], cwd=ROOT, check=True, capture_output=True)

    env = {**clean_environment(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    verbose = subprocess.run(
        [sys.executable, "-v", "-m", "vcctl", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # `python -v` names where each module's code came from: a .pyc, or a .py compiled now.
    code_from = re.findall(r"^# code object from '?(.+?)'?$", verbose.stderr, re.M)
    ours = [path for path in code_from if Path(path).is_relative_to(ROOT / "vcctl")]
    assert len(ours) > 20, ours
    assert all(path.endswith(".pyc") for path in ours), ours


def test_typer_reads_no_annotation_as_a_string() -> None:
    """typer reads a command's signature twice per run, compiling and evaluating each annotation
    written as a string (a module with `from __future__ import annotations`): ~1.5 ms for the
    root's options. The root and every command module keep their annotations as objects."""
    callbacks: list[Any] = [root]
    for entry in TREE.values():
        for declared in entry.commands.values() if isinstance(entry, Group) else [entry]:
            module = importlib.import_module(declared.module)
            callbacks += [info.callback for info in module.app.registered_commands]
    assert len(callbacks) > 40
    written_as_text = [
        f"{callback.__module__}.{callback.__name__}"
        for callback in callbacks
        if any(isinstance(value, str) for value in callback.__annotations__.values())
    ]
    assert written_as_text == []
