"""The fish completion script: templates/vcctl.fish filled from the command tree."""

from __future__ import annotations

from vcctl.docgen.shell import (
    PROFILE_HEADER_ERE,
    checked_words,
    fill,
    option_description,
    value_options,
)
from vcctl.docgen.tree import CommandSpec, OptionSpec, Tree, ValueSpec


def render(tree: Tree) -> str:
    nodes: list[str] = []
    completes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"        case {_quoted(command.key)}")
        body = []
        if command.subcommands:
            words = checked_words([sub.path[-1] for sub in command.subcommands])
            body.append(f"set -g __vcctl_all_commands {words}")
        if value_options(tree, command):
            words = checked_words(value_options(tree, command))
            body.append(f"set -g __vcctl_value_options {words}")
        if command.arguments:
            body.append(f"set -g __vcctl_arguments {len(command.arguments)}")
        if command.passes_command:
            body.append("set -g __vcctl_passthrough 1")
        nodes += [f"            {line}" for line in body or ["return 0"]]
        completes += _completes(tree, command)
    for option in tree.global_options:
        if not option.hidden:
            completes.append(f"complete -c vcctl -n __vcctl_at_any {_option(option)}")
    completes.append("complete -c vcctl -n __vcctl_in_command -xa '(__vcctl_complete_command)'")
    pcre = PROFILE_HEADER_ERE.replace("[[:space:]]", "\\s").replace('\\"', '"') + ".*$"
    return fill(
        "vcctl.fish",
        "fish",
        nodes="\n".join(nodes),
        completes="\n".join(completes),
        profile_header=_quoted(pcre),
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _completes(tree: Tree, command: CommandSpec) -> list[str]:
    """`complete` lines for what `command` itself offers (the globals come once, at the end)."""
    at = f"__vcctl_at '{checked_words(command.path)}'"
    lines = [
        f'complete -c vcctl -n "{at}" -a {sub.path[-1]} -d {_quoted(sub.summary)}'
        for sub in command.visible_subcommands
    ]
    for option in command.options:
        if not option.hidden and option not in tree.global_options:
            lines.append(f'complete -c vcctl -n "{at}" {_option(option)}')
    for index, argument in enumerate(command.arguments, start=1):
        condition = f"{at} {index}" + (" +" if argument.variadic else "")
        action = _values(argument.values)
        if action:
            lines.append(f'complete -c vcctl -n "{condition}" {action}')
    return lines


def _option(option: OptionSpec) -> str:
    parts: list[str] = []
    for name in option.all_names:
        if name.startswith("--"):
            parts += ["-l", name[2:]]
        elif len(name) == 2:
            parts += ["-s", name[1:]]
        else:
            parts += ["-o", name[1:]]
    if option.takes_value:
        parts.append(_values(option.values) or "-x")
    description = option_description(option)
    if description:
        parts += ["-d", _quoted(description)]
    return " ".join(parts)


def _values(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f"-xa {_quoted(checked_words(values.choices))}"
    if values.kind == "file":
        return "-rF"
    if values.kind == "profile":
        return "-xa '(__vcctl_profiles)'"
    if values.kind in ("room", "participant"):
        return f"-xa '(__vcctl_keys {values.kind})'"
    return ""
