"""The completion scripts, loaded in real bash (with bash-completion), zsh and fish.

bash and zsh run interactively on a pseudo-terminal: the test types a command line and presses
TAB, and the shell's own line editor splits the words and calls the completion function, as for
a person. A thin hook prints what the function offered (bash: COMPREPLY after _vcctl; zsh: the
matches given to compadd). fish computes the same list with `complete -C`, the engine TAB uses.

Every shell runs with a PATH whose `vcctl` and `python*` are stubs that leave a marker file:
each completion asserts that none was started. test_bash_rooms_tab_starts_no_process also traces
the shell with strace.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from tests.helpers import API_KEY, API_TOKEN, clean_environment, run_vcctl
from vcctl import docgen
from vcctl.docgen import files
from vcctl.docgen import tree as model
from vcctl.emulator.server import Emulator, EmulatorConfig

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
PROFILES = ("default", "staging", "prod-eu", "quoted.one")
ROOM_COMMANDS = {"create", "get", "update", "delete", "watch"}
GROUPS = {"rooms", "participants", "events", "auth", "api", "emulator", "completion"}
EVENTS = {"activate-video-and-audio", "deactivate-video-and-audio", "mute-all"}
STUBBED_PROGRAMS = ("vcctl", "python", "python3", "python3.11", "python3.12")
DEADLINE_SECONDS = 10.0


def require(tool: str | Path) -> str:
    """The tool's path; skip without it, except in CI (CI=true), which must have it."""
    found = shutil.which(tool) if isinstance(tool, str) else (str(tool) if tool.exists() else None)
    if found is None:
        message = f"{tool} is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run this test (install it in .ci/run)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def shell_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shell-home")


@pytest.fixture(scope="module")
def shell_env(shell_home: Path) -> dict[str, str]:
    """No real config, a config file with known profiles, and stubs for vcctl and Python."""
    env = clean_environment(shell_home)
    for folder in ("home", "xdg"):
        (shell_home / folder).mkdir(exist_ok=True)
    config_dir = Path(env["VCCTL_CONFIG_DIR"])
    config_dir.mkdir(exist_ok=True)
    (config_dir / "config.toml").write_text(
        'active_profile = "default"\n\n'
        '[profiles.default]\napi_key = "k"\n\n'
        '[ profiles . staging ]\nlocale = "en"\n\n'
        "[profiles.prod-eu]\n\n"
        '[profiles."quoted.one"]\n\n'
        "[settings]\n"
        "# [profiles.commented] is not a profile: it does not start the line\n",
        encoding="utf-8",
    )
    stubs = shell_home / "stubs"
    stubs.mkdir(exist_ok=True)
    marker = shell_home / "started-programs"
    for name in STUBBED_PROGRAMS:
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\nexit 1\n', encoding="utf-8")
        stub.chmod(0o755)
    env["PATH"] = f"{stubs}{os.pathsep}{env.get('PATH', os.defpath)}"
    env["TERM"] = "dumb"
    env.pop("HISTFILE", None)
    return env


def assert_no_program_started(shell_home: Path) -> None:
    marker = shell_home / "started-programs"
    started = marker.read_text(encoding="utf-8") if marker.exists() else ""
    assert started == "", f"completion started a program it must not: {started}"


class TerminalShell:
    """An interactive shell on a pseudo-terminal, driven by keystrokes."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path, setup: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.chdir(cwd)
            os.execvpe(argv[0], list(argv), env)
        self.output = b""
        # The quotes keep the echo of the typed command from matching the marker.
        self.type(setup + "\necho READY''-MARK\n")
        self.read_until(b"READY-MARK")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def read_until(self, marker: bytes, start: int = 0) -> bytes:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while marker not in self.output[start:]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {marker!r} from the shell; it printed {self.output!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError as exc:  # EIO: the shell exited
                    raise AssertionError(f"the shell exited: {self.output!r}") from exc
        return self.output[start : self.output.index(marker, start)]

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


class CompletingShell:
    """Types a command line, presses TAB, and reads back what the completion offered.

    The shell's hook prints each candidate as <<candidate>>, then <<END>> (`after_tab` holds the
    keys that make it print the end marker, if TAB itself does not).
    """

    def __init__(self, terminal: TerminalShell, shell_home: Path, after_tab: str = "") -> None:
        self.terminal = terminal
        self.shell_home = shell_home
        self.after_tab = after_tab

    def complete(self, line: str) -> list[str]:
        start = len(self.terminal.output)
        self.terminal.type(line + "\t" + self.after_tab)
        printed = self.terminal.read_until(b"<<END>>", start).decode("utf-8", "replace")
        self.terminal.type("\x15")  # Ctrl-U: clear the line for the next one
        assert_no_program_started(self.shell_home)
        return re.findall(r"<<(.*?)>>", printed)


BASH_SETUP = f"""
PS1='' PS2='' PROMPT_COMMAND=''
bind 'set enable-bracketed-paste off'
bind 'set bell-style none'
source {BASH_COMPLETION}
source {COMPLETIONS / "vcctl.bash"}
__vcctl_under_test() {{
    if [[ -n ${{__vcctl_nested-}} ]]; then  # `emulator exec -- vcctl ...` completes vcctl again
        _vcctl "$@"
        return
    fi
    local __vcctl_nested=1
    _vcctl "$@"
    ((${{#COMPREPLY[@]}})) && printf '<<%s>>' "${{COMPREPLY[@]}}"
    printf '<<END>>'
}}
complete -F __vcctl_under_test vcctl
"""

ZSH_SETUP = f"""
setopt interactive_comments
PS1='' RPS1='' PROMPT_EOL_MARK=''
unset zle_bracketed_paste
unsetopt auto_list auto_menu
setopt no_beep
fpath=({COMPLETIONS} $fpath)
autoload -Uz compinit && compinit -u -D
compadd() {{
    # With -O, -A or -D compadd returns matches to its caller instead of offering them.
    if [[ ${{@[1,(i)(-|--)]}} == *-(O|A|D)\\ * ]]; then
        builtin compadd "$@"
        return
    fi
    local -a __hits
    builtin compadd -A __hits "$@"
    printf '<<%s>>' $__hits >/dev/tty
    builtin compadd "$@"
}}
__print_end() {{ printf '<<END>>' >/dev/tty }}
zle -N __print_end
bindkey '^X^E' __print_end
"""


@pytest.fixture(scope="module")
def bash(shell_env: dict[str, str], shell_home: Path) -> Iterator[CompletingShell]:
    executable = require("bash")
    require(BASH_COMPLETION)
    terminal = TerminalShell(
        [executable, "--norc", "--noprofile", "-i"], shell_env, shell_home, BASH_SETUP
    )
    try:
        yield CompletingShell(terminal, shell_home)
    finally:
        terminal.close()


@pytest.fixture(scope="module")
def zsh(shell_env: dict[str, str], shell_home: Path) -> Iterator[CompletingShell]:
    executable = require("zsh")
    terminal = TerminalShell([executable, "-f", "-i"], shell_env, shell_home, ZSH_SETUP)
    try:
        yield CompletingShell(terminal, shell_home, after_tab="\x18\x05")  # Ctrl-X Ctrl-E
    finally:
        terminal.close()


class FishShell:
    """fish's own completion engine: `complete -C LINE` lists what TAB offers after LINE."""

    def __init__(self, executable: str, env: dict[str, str], shell_home: Path) -> None:
        self.executable = executable
        self.env = env
        self.shell_home = shell_home

    def complete(self, line: str) -> list[str]:
        script = 'source $argv[1]; complete -C"$argv[2]"'
        completed = subprocess.run(
            [self.executable, "--no-config", "-c", script, str(COMPLETIONS / "vcctl.fish"), line],
            env=self.env,
            cwd=self.shell_home,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
            check=False,
        )
        assert (completed.returncode, completed.stderr) == (0, ""), completed
        assert_no_program_started(self.shell_home)
        return [entry.split("\t", 1)[0] for entry in completed.stdout.splitlines()]


@pytest.fixture(scope="module")
def fish(shell_env: dict[str, str], shell_home: Path) -> FishShell:
    return FishShell(require("fish"), shell_env, shell_home)


class Completer(Protocol):
    def complete(self, line: str) -> list[str]: ...


@pytest.fixture(params=["bash", "zsh", "fish"])
def shell(request: pytest.FixtureRequest) -> Completer:
    completer: Completer = request.getfixturevalue(request.param)
    return completer


def offered(shell: Completer, line: str) -> list[str]:
    """What TAB offers after `line`, duplicates and empty entries dropped, in order."""
    return list(dict.fromkeys(word for word in shell.complete(line) if word))


def test_top_level_offers_every_group_and_command(shell: Completer) -> None:
    words = offered(shell, "vcctl ")
    assert set(words) >= GROUPS
    assert not [word for word in words if word.startswith("-")]


def test_a_prefix_narrows_the_top_level(shell: Completer) -> None:
    assert offered(shell, "vcctl ro") == ["rooms"]


def test_after_a_group_offers_its_commands(shell: Completer) -> None:
    tree = model.load_tree()
    rooms = tree.find(("rooms",))
    assert rooms is not None
    words = set(offered(shell, "vcctl rooms "))
    assert words >= ROOM_COMMANDS
    assert words == {command.path[-1] for command in rooms.visible_subcommands}


def test_events_offers_the_event_names_but_not_the_hidden_alias(shell: Completer) -> None:
    words = set(offered(shell, "vcctl events "))
    assert words >= EVENTS
    assert words >= {"on", "off", "mute", "unmute"}  # the short names
    assert "desactivate-video-and-audio" not in words


def test_the_hidden_alias_is_still_understood(shell: Completer) -> None:
    assert offered(shell, "vcctl events desactivate-video-and-audio --ro") == ["--room"]


def test_option_names_of_a_leaf_command(shell: Completer) -> None:
    words = offered(shell, "vcctl rooms get --")
    assert {"--json", "--help", "--profile", "--debug"} <= set(words)
    assert "--name" not in words  # an option of rooms create, not of rooms get
    assert all(word.startswith("--") for word in words)


def test_a_command_without_arguments_offers_its_options_at_once(bash: Completer) -> None:
    # bash only: zsh and fish show options once a dash is typed, as users of those expect.
    assert {"--name", "--from-file", "--json"} <= set(offered(bash, "vcctl rooms create "))


def test_profile_option_offers_the_profiles_of_the_config_file(shell: Completer) -> None:
    assert sorted(offered(shell, "vcctl --profile ")) == sorted(PROFILES)


def test_global_option_after_a_subcommand_with_equals(shell: Completer) -> None:
    words = [
        word.removeprefix("--profile=") for word in offered(shell, "vcctl rooms get --profile=")
    ]
    assert sorted(words) == sorted(PROFILES)


def test_auth_switch_offers_the_profiles(shell: Completer) -> None:
    assert sorted(offered(shell, "vcctl auth switch ")) == sorted(PROFILES)
    assert offered(shell, "vcctl auth switch prod") == ["prod-eu"]


def test_completion_offers_the_shells(shell: Completer) -> None:
    assert sorted(offered(shell, "vcctl completion ")) == ["bash", "fish", "zsh"]
    assert offered(shell, "vcctl completion bash ") == []  # it takes one shell


def test_api_offers_the_http_methods(shell: Completer) -> None:
    assert {"GET", "POST", "DELETE"} <= set(offered(shell, "vcctl api "))
    assert offered(shell, "vcctl api DEL") == ["DELETE"]


def test_a_value_with_no_known_values_offers_nothing(shell: Completer) -> None:
    # Not file names: a room name is free text.
    assert offered(shell, "vcctl rooms create --name ") == []


def test_the_value_of_an_option_is_skipped_when_walking(shell: Completer) -> None:
    assert offered(shell, "vcctl --profile staging rooms cr") == ["create"]
    assert offered(shell, "vcctl rooms --profile staging cr") == ["create"]


def test_a_file_option_offers_files(shell: Completer, shell_home: Path) -> None:
    (shell_home / "attendees.csv").write_text("username\n", encoding="utf-8")
    assert offered(shell, "vcctl participants create --from-file att") == ["attendees.csv"]


def test_emulator_exec_completes_the_command_to_run(shell: Completer) -> None:
    assert "echo" in offered(shell, "vcctl emulator exec -- ech")
    assert "--host" in offered(shell, "vcctl emulator exec --ho")


def test_the_command_after_emulator_exec_gets_its_own_completion(shell: Completer) -> None:
    assert set(offered(shell, "vcctl emulator exec -- vcctl rooms ")) >= ROOM_COMMANDS
    assert offered(shell, "vcctl emulator exec --seed 1 vcctl ro") == ["rooms"]


def test_scripts_are_valid_shell() -> None:
    checks = [
        ("bash", ["-n", str(COMPLETIONS / "vcctl.bash")]),
        ("zsh", ["-n", str(COMPLETIONS / "_vcctl")]),
        ("fish", ["--no-execute", str(COMPLETIONS / "vcctl.fish")]),
    ]
    for tool, args in checks:
        completed = subprocess.run(
            [require(tool), *args], capture_output=True, text=True, check=False
        )
        assert (completed.returncode, completed.stderr) == (0, ""), tool


def _trace_bash_completion(tmp_path: Path, words: Sequence[str]) -> tuple[list[str], str]:
    """Run _vcctl for `words` (the last one being completed) under strace; (trace, COMPREPLY)."""
    require(BASH_COMPLETION)
    trace = tmp_path / "trace"
    comp_words = " ".join(f"'{word}'" for word in words)
    script = (
        f"source {BASH_COMPLETION}; source {COMPLETIONS / 'vcctl.bash'}; "
        f"COMP_WORDS=({comp_words}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE='{' '.join(words)}'; COMP_POINT=${{#COMP_LINE}}; "
        f"_vcctl vcctl '{words[-1]}' '{words[-2]}'; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    completed = subprocess.run(
        [
            require("strace"),
            "-f",
            "-e",
            "trace=execve,fork,vfork,clone,clone3",
            "-o",
            str(trace),
            require("bash"),
            "--norc",
            "--noprofile",
            "-c",
            script,
        ],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return trace.read_text(encoding="utf-8").splitlines(), completed.stdout


def test_bash_rooms_tab_starts_no_process(tmp_path: Path) -> None:
    """strace sees every program started: only the bash running the test, nothing else."""
    trace, completions = _trace_bash_completion(tmp_path, ["vcctl", "rooms", ""])
    assert set(completions.split()) >= ROOM_COMMANDS
    started = [line for line in trace if "execve(" in line]
    assert len(started) == 1, started
    assert "/bash" in started[0], started
    forks = [line for line in trace if re.search(r"\b(fork|vfork|clone|clone3)\(", line)]
    assert forks == [], "completing `vcctl rooms` forked a process"
    assert not [line for line in trace if re.search(r"python|vcctl\"", line)]


def test_profiles_without_a_config_file_offer_nothing(tmp_path: Path) -> None:
    _, completions = _trace_bash_completion(tmp_path, ["vcctl", "--profile", ""])
    assert completions.strip() == ""


def test_completion_command_needs_no_config_and_prints_the_committed_script(
    tmp_path: Path,
) -> None:
    env = clean_environment(tmp_path)
    config_dir = Path(env["VCCTL_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text("this is [not TOML\n", encoding="utf-8")
    env["VCCTL_BASE_URL"] = "not a url"  # neither credentials nor settings are needed
    result = run_vcctl(["completion", "bash"], env)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.encode("utf-8") == (COMPLETIONS / "vcctl.bash").read_bytes()


@pytest.mark.parametrize("shell_name", docgen.SHELLS)
def test_completion_command_prints_the_script_byte_for_byte(
    shell_name: str, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    # In-process (the subprocess test above covers a real run): the same main() as `vcctl`.
    from vcctl.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["completion", shell_name])
    captured = capfdbinary.readouterr()
    assert (exited.value.code, captured.err) == (0, b"")
    assert captured.out == (COMPLETIONS / docgen.COMPLETION_FILES[shell_name]).read_bytes()


def test_committed_completions_are_current(tmp_path: Path) -> None:
    files.write(tmp_path, files.generated_files())
    stale = [
        name
        for name in docgen.COMPLETION_FILES.values()
        if (tmp_path / "completions" / name).read_bytes() != (COMPLETIONS / name).read_bytes()
    ]
    assert not stale, (
        f"out of date with the command tree: completions/{', completions/'.join(stale)}; "
        f"run `{docgen.REGENERATE_COMMAND}` and commit the result"
    )


def test_a_value_hint_that_matches_no_parameter_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hints = dict(model.VALUE_HINTS)
    hints[(("rooms", "create"), "no_such_parameter")] = lambda: model.FILE_VALUES
    monkeypatch.setattr(model, "VALUE_HINTS", hints)
    with pytest.raises(ValueError, match="no_such_parameter"):
        files.generated_files()
    # `vcctl completion` still works: a stale hint must not break users' shells.
    assert "complete -F _vcctl vcctl" in docgen.completion_script("bash")


KEYS_STACK = """\
stack = "weekly"

[rooms.board]
name = "Weekly board"

[rooms.board.participants.ada]
username = "Ada"
"""


@pytest.fixture(scope="module")
def known_keys(shell_env: dict[str, str], shell_home: Path) -> Path:
    """Keys made by real vcctl runs against an emulator, in the shells' data folder: the
    inventory writes the key index the completion reads. Returns the index's path."""
    with Emulator(EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN)) as server:
        env = {
            **shell_env,
            "PATH": os.environ.get("PATH", os.defpath),  # the real vcctl, not the stubs
            "VCCTL_BASE_URL": server.base_url,
            "VCCTL_API_KEY": API_KEY,
            "VCCTL_API_TOKEN": API_TOKEN,
        }
        stack = shell_home / "weekly.toml"
        stack.write_text(KEYS_STACK, encoding="utf-8")
        for args in (
            ["rooms", "create", "--name", "Board", "--key", "board", "-q"],
            ["rooms", "create", "--name", "Sales", "--key", "sales", "-q"],
            ["participants", "create", "--room", "@board", "--username", "Bo", "--key", "bo"],
            ["apply", "-f", str(stack)],
            ["rooms", "delete", "@sales", "--yes"],  # gone: no longer offered
        ):
            result = run_vcctl(args, env)
            assert result.code == 0, (args, result)
    index = Path(shell_env["VCCTL_DATA_DIR"]) / "key-index.txt"
    assert index.stat().st_mode & 0o777 == 0o600
    return index


def test_at_offers_the_keys_of_the_inventory(shell: Completer, known_keys: Path) -> None:
    assert sorted(offered(shell, "vcctl rooms get @")) == ["@board", "@weekly/board"]
    assert offered(shell, "vcctl rooms get @we") == ["@weekly/board"]
    assert offered(shell, "vcctl participants create --room @b") == ["@board"]
    people = offered(shell, "vcctl events mute --room @board --participant @")
    assert sorted(people) == ["@ada", "@bo", "@weekly/board/ada"]
    assert offered(shell, "vcctl participants get @weekly/") == ["@weekly/board/ada"]
    assert offered(shell, "vcctl rooms get ") == []  # ids are not offered: only after @


def test_bash_at_reads_the_index_and_starts_no_process(tmp_path: Path, known_keys: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "key-index.txt").write_bytes(known_keys.read_bytes())
    trace, completions = _trace_bash_completion(tmp_path, ["vcctl", "rooms", "get", "@"])
    assert sorted(completions.split()) == ["@board", "@weekly/board"]
    started = [line for line in trace if "execve(" in line]
    assert len(started) == 1, started
    forks = [line for line in trace if re.search(r"\b(fork|vfork|clone|clone3)\(", line)]
    assert forks == [], "completing after @ forked a process"


def completed_line(shell: CompletingShell, line: str) -> str:
    """The command line as TAB leaves it (the shell's own editor inserts the completion)."""
    terminal = shell.terminal
    start = len(terminal.output)
    terminal.type(line + "\t" + shell.after_tab)
    terminal.read_until(b"<<END>>", start)
    mark = len(terminal.output)
    terminal.type("\x01echo LINE''=\x05\n")  # Ctrl-A, a prefix, Ctrl-E, Enter: print the line
    terminal.read_until(b"LINE=", mark)
    begin = terminal.output.index(b"LINE=", mark) + len(b"LINE=")
    return terminal.read_until(b"\r\n", begin).decode("utf-8", "replace").rstrip()


@pytest.mark.parametrize("name", ["bash", "zsh"])
def test_tab_after_at_completes_the_reference_on_the_line(
    name: str, request: pytest.FixtureRequest, known_keys: Path
) -> None:
    shell: CompletingShell = request.getfixturevalue(name)
    assert completed_line(shell, "vcctl rooms get @we") == "vcctl rooms get @weekly/board"
    assert completed_line(shell, "vcctl participants list --room @boa") == (
        "vcctl participants list --room @board"
    )
