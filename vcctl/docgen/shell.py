"""What the three completion renderers share: templates, quoting, and the tree's value sources.

The scripts follow one design: walk the words before the cursor through the tree (skipping
options and their values, descending into subcommands, counting arguments), then offer what fits
at the cursor: a value for the option just typed, option names after `-`, subcommands in a group,
or the values of the next argument. Each script is a template file in templates/ (package data);
a line `# @NAME@` in it is replaced by generated lines, and `@NAME@` inside a line by a word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.resources import files

from vcctl import __version__
from vcctl.docgen import REGENERATE_COMMAND
from vcctl.docgen.tree import CommandSpec, OptionSpec, Tree, ValueSpec, paragraphs

SAFE_WORD = re.compile(r"^[A-Za-z0-9_.:/@%+,=#-]+$")
# A whole line `# @NAME@` (any indentation), or `@NAME@` within a line.
MARKER = re.compile(r"^[ \t]*# @([A-Z_]+)@$|@([A-Z_]+)@", re.M)

# A [profiles.NAME] header of config.toml: NAME bare, "quoted" or 'quoted'. POSIX ERE.
PROFILE_HEADER_ERE = (
    r"^[[:space:]]*\[[[:space:]]*profiles[[:space:]]*\.[[:space:]]*"
    r"(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)[[:space:]]*\]"
)


def template(name: str) -> str:
    """A file of templates/, as shipped with the package."""
    return files("vcctl.docgen").joinpath("templates", name).read_text(encoding="utf-8")


def fill(name: str, shell: str, **parts: str) -> str:
    """The template `name` with its header and every marker filled; ValueError if one is left."""
    header = (
        template("header.txt")
        .replace("@SHELL@", shell)
        .replace("@VERSION@", __version__)
        .replace("@REGENERATE@", REGENERATE_COMMAND)
    )
    values = {"HEADER": header.rstrip("\n"), **{key.upper(): value for key, value in parts.items()}}

    def replace(match: re.Match[str]) -> str:
        marker = match.group(1) or match.group(2)
        if marker not in values:
            raise ValueError(f"unfilled marker @{marker}@ in the {shell} template")
        return values[marker]

    return MARKER.sub(replace, template(name))


def config_dir_lines() -> str:
    """bash and zsh: set `dir` to vcctl's config folder, as vcctl.config.profiles finds it."""
    return template("config_dir.sh").rstrip("\n")


def data_dir_lines() -> str:
    """bash and zsh: set `dir` to vcctl's data folder (the inventory's, and its key index's),
    as vcctl.inventory.records finds it."""
    return template("data_dir.sh").rstrip("\n")


def checked_words(words: Sequence[str]) -> str:
    for word in words:
        if not SAFE_WORD.match(word):
            raise ValueError(f"{word!r} cannot appear unquoted in a completion script")
    return " ".join(words)


def single_quoted(text: str) -> str:
    """bash and zsh single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def value_options(tree: Tree, command: CommandSpec) -> list[str]:
    options = tree.options_at(command)
    return [name for option in options if option.takes_value for name in option.all_names]


def offered_options(tree: Tree, command: CommandSpec) -> list[OptionSpec]:
    return [option for option in tree.options_at(command) if not option.hidden]


def option_description(option: OptionSpec) -> str:
    return paragraphs(option.help)[0].rstrip(".") if option.help else ""


def arguments_line(command: CommandSpec) -> str:
    return (
        f"__vcctl_arguments={len(command.arguments)}"
        f" __vcctl_variadic={int(command.arguments[-1].variadic)}"
        f" __vcctl_passthrough={int(command.passes_command)}"
    )


def value_sources(tree: Tree) -> list[tuple[list[str], ValueSpec]]:
    """(case patterns, values) for every value the scripts can complete, specific ones first.

    A pattern is "PATH OPTION" or "PATH #N" (the Nth argument), as the scripts build it; the
    global options match at any path. Neighbours with the same values share one case.
    """
    specific: list[tuple[str, ValueSpec]] = []
    for command in tree.root.walk():
        for option in command.options:
            is_global = not command.path and option in tree.global_options
            if option.takes_value and option.values.kind != "none" and not is_global:
                specific += [(f"{command.key} {name}", option.values) for name in option.all_names]
        for index, argument in enumerate(command.arguments, start=1):
            if argument.values.kind not in ("none", "command"):
                specific.append((f"{command.key} #{index}", argument.values))
    merged: list[tuple[list[str], ValueSpec]] = []
    for pattern, values in specific:
        if merged and merged[-1][1] == values:
            merged[-1][0].append(single_quoted(pattern))
        else:
            merged.append(([single_quoted(pattern)], values))
    for option in tree.global_options:
        if option.takes_value and option.values.kind != "none":
            merged += [
                ([f"*{single_quoted(' ' + name)}"], option.values) for name in option.all_names
            ]
    return merged
