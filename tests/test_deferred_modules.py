"""The standard-library modules vcctl's entry point defers to their first use
(vcctl.cli.deferred_modules): the rules for the list, and a stand-in that behaves as the module.

End to end, tests/test_startup.py checks that `rooms get --json` loads none of them; every other
test runs `python -m vcctl`, which defers them, so each use of one is exercised there too.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import threading
import types
from importlib.machinery import PathFinder, SourceFileLoader
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, clean_environment, run_vcctl
from vcctl.cli import deferred_modules
from vcctl.cli.deferred_modules import DEFERRED, defer, is_deferred
from vcctl.emulator.server import Emulator


@pytest.mark.parametrize("name", sorted(DEFERRED))
def test_each_deferred_module_is_plain_source_that_imports_cleanly(name: str) -> None:
    spec = PathFinder.find_spec(name)
    assert spec is not None, name
    assert isinstance(spec.loader, SourceFileLoader), name  # not an extension, not frozen
    assert spec.submodule_search_locations is None, name  # not a package
    needs = DEFERRED[name]
    if needs is not None:
        assert needs in sys.builtin_module_names or PathFinder.find_spec(needs) is not None


def _forget(*names: str) -> None:
    for name in names:
        sys.modules.pop(name, None)


def test_a_stand_in_runs_the_module_on_first_use_and_becomes_it(tmp_path: Path) -> None:
    (tmp_path / "probe_counted.py").write_text(
        "import probe_counter\nprobe_counter.runs += 1\nVALUE = 42\ndef double(x):\n"
        "    return 2 * x\n"
    )
    (tmp_path / "probe_counter.py").write_text("runs = 0\n")
    sys.path.insert(0, str(tmp_path))
    try:
        probe_counter = importlib.import_module("probe_counter")
        defer({"probe_counted": None})
        module = sys.modules["probe_counted"]
        assert is_deferred(module)
        assert module.__name__ == "probe_counted"  # what the import system reads: no run
        assert module.__file__ == str(tmp_path / "probe_counted.py")
        namespace: dict[str, Any] = {}
        exec("import probe_counted", namespace)  # binds the stand-in, runs nothing
        assert namespace["probe_counted"] is module
        assert probe_counter.runs == 0
        exec("from probe_counted import double", namespace)  # a from-import is a use
        assert namespace["double"](4) == 8
        assert probe_counter.runs == 1
        assert not is_deferred(module)
        assert type(module) is types.ModuleType
        assert sys.modules["probe_counted"] is module  # the same object, now the module
        assert module.VALUE == 42
        assert probe_counter.runs == 1  # once
        with pytest.raises(AttributeError):
            _ = module.missing
    finally:
        sys.path.remove(str(tmp_path))
        _forget("probe_counted", "probe_counter")


def test_dir_of_a_stand_in_runs_it(tmp_path: Path) -> None:
    (tmp_path / "probe_listed.py").write_text("LISTED = True\n")
    sys.path.insert(0, str(tmp_path))
    try:
        defer({"probe_listed": None})
        assert "LISTED" in dir(sys.modules["probe_listed"])
    finally:
        sys.path.remove(str(tmp_path))
        _forget("probe_listed")


def test_what_breaks_a_rule_is_imported_as_usual(tmp_path: Path) -> None:
    """An imported module stays, a package, an absent module and one whose extension is missing
    get no stand-in."""
    (tmp_path / "probe_package").mkdir()
    (tmp_path / "probe_package" / "__init__.py").write_text("")
    (tmp_path / "probe_needy.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    try:
        json_module = sys.modules["json"]
        defer(
            {
                "json": None,
                "probe_package": None,
                "probe_absent": None,
                "probe_needy": "_probe_no_such_extension",
            }
        )
        assert sys.modules["json"] is json_module
        assert "probe_package" not in sys.modules
        assert "probe_absent" not in sys.modules
        assert "probe_needy" not in sys.modules
    finally:
        sys.path.remove(str(tmp_path))


def test_a_second_thread_waits_for_the_module_to_be_whole(tmp_path: Path) -> None:
    """Thread A's first use runs the module, which stops half-way; thread B, reading a name
    defined at its end meanwhile, gets it once the module is done (importlib's LazyLoader on
    Python 3.11 gives B an AttributeError)."""
    (tmp_path / "probe_gate.py").write_text(
        "import threading\nstarted = threading.Event()\ngo = threading.Event()\n"
    )
    (tmp_path / "probe_slow.py").write_text(
        textwrap.dedent(
            """\
            import probe_gate
            EARLY = 1
            probe_gate.started.set()
            probe_gate.go.wait(30)
            LATE = 2
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        probe_gate = importlib.import_module("probe_gate")
        defer({"probe_slow": None})
        probe_slow = importlib.import_module("probe_slow")
        assert is_deferred(probe_slow)

        seen: dict[str, object] = {}

        def read(name: str) -> None:
            try:
                seen[name] = getattr(probe_slow, name)
            except AttributeError as exc:
                seen[name] = exc

        first = threading.Thread(target=read, args=("EARLY",))
        first.start()
        assert probe_gate.started.wait(30)
        second = threading.Thread(target=read, args=("LATE",))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waiting for the module, not failed
        probe_gate.go.set()
        first.join(30)
        second.join(30)
        assert seen == {"EARLY": 1, "LATE": 2}
    finally:
        sys.path.remove(str(tmp_path))
        _forget("probe_slow", "probe_gate")


def test_first_uses_of_two_modules_in_two_threads_do_not_wait_for_each_other(
    tmp_path: Path,
) -> None:
    """Thread A's first use of probe_x runs it, and probe_x imports probe_m, which thread B is
    importing; probe_m's code reads probe_y, deferred too. One lock for every first use would
    make B wait for A while A waits for B's import: both would hang."""
    (tmp_path / "probe_gate2.py").write_text(
        "import threading\nm_started = threading.Event()\nx_started = threading.Event()\n"
        "go_m = threading.Event()\n"
    )
    (tmp_path / "probe_m.py").write_text(
        "import probe_gate2\nimport probe_y\nprobe_gate2.m_started.set()\n"
        "probe_gate2.go_m.wait(30)\nY = probe_y.VALUE\n"
    )
    (tmp_path / "probe_x.py").write_text(
        "import probe_gate2\nprobe_gate2.x_started.set()\nimport probe_m\nX = probe_m.Y\n"
    )
    (tmp_path / "probe_y.py").write_text("VALUE = 3\n")
    sys.path.insert(0, str(tmp_path))
    try:
        gate = importlib.import_module("probe_gate2")
        defer({"probe_x": None, "probe_y": None})
        probe_x = importlib.import_module("probe_x")
        seen: dict[str, object] = {}
        importer = threading.Thread(
            target=lambda: seen.update(m=importlib.import_module("probe_m").Y), daemon=True
        )
        importer.start()
        assert gate.m_started.wait(30)
        user = threading.Thread(target=lambda: seen.update(x=probe_x.X), daemon=True)
        user.start()
        assert gate.x_started.wait(30)
        gate.go_m.set()
        importer.join(10)
        user.join(10)
        assert not importer.is_alive(), "the first uses deadlocked"
        assert not user.is_alive(), "the first uses deadlocked"
        assert seen == {"m": 3, "x": 3}
    finally:
        sys.path.remove(str(tmp_path))
        _forget("probe_x", "probe_y", "probe_m", "probe_gate2")


def test_a_deferred_module_is_loaded_where_a_command_uses_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    """`-o csv` writes through csv, deferred at start-up."""
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    room = run_vcctl(["rooms", "create", "--name", "Deferred", "-q"], env)
    assert room.code == 0, room
    result = run_vcctl(["rooms", "get", room.stdout.strip(), "-o", "csv"], env)
    assert result.code == 0, result
    assert result.stderr == ""
    header, row = result.stdout.splitlines()
    assert header.startswith("id,name,")
    assert row.startswith(f"{room.stdout.strip()},Deferred,")


def test_the_entry_point_defers_before_the_cli_is_imported(tmp_path: Path) -> None:
    probe = (
        "import sys\nimport vcctl.__main__\nfrom vcctl.cli.deferred_modules import is_deferred\n"
        "print(is_deferred(sys.modules['subprocess']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout == "True\n"
    assert deferred_modules.DEFERRED["subprocess"] is None
