"""The zsh completion script: templates/_vcctl.zsh filled from the command tree."""

from __future__ import annotations

from vcctl.docgen.shell import (
    PROFILE_HEADER_ERE,
    arguments_line,
    checked_words,
    config_dir_lines,
    data_dir_lines,
    fill,
    offered_options,
    option_description,
    single_quoted,
    value_options,
    value_sources,
)
from vcctl.docgen.tree import Tree, ValueSpec


def render(tree: Tree) -> str:
    nodes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"    ({single_quoted(command.key)})")
        arrays = {
            "commands": [
                _described(sub.path[-1], sub.summary) for sub in command.visible_subcommands
            ],
            "hidden_commands": [
                single_quoted(sub.path[-1]) for sub in command.subcommands if sub.hidden
            ],
            "options": [
                _described(name, option_description(option))
                for option in offered_options(tree, command)
                for name in option.all_names
            ],
            "value_options": [single_quoted(name) for name in value_options(tree, command)],
        }
        for name, items in arrays.items():
            if items:
                nodes += [
                    f"        __vcctl_{name}=(",
                    *(f"            {item}" for item in items),
                    "        )",
                ]
        if command.arguments:
            nodes.append(f"        {arguments_line(command)}")
        nodes.append("        ;;")
    values = [
        f"    ({'|'.join(patterns)}) {_value_action(spec)} ;;"
        for patterns, spec in value_sources(tree)
    ]
    return fill(
        "_vcctl.zsh",
        "zsh",
        nodes="\n".join(nodes),
        values="\n".join(values),
        config_dir=config_dir_lines(),
        data_dir=data_dir_lines(),
        profile_header=single_quoted(PROFILE_HEADER_ERE),
    )


def _described(name: str, description: str) -> str:
    return single_quoted(name.replace(":", "\\:") + ":" + description)


def _value_action(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f"compadd -- {checked_words(values.choices)}"
    if values.kind == "file":
        return "_files"
    if values.kind == "profile":
        return "__vcctl_profiles"
    if values.kind in ("room", "participant"):
        return f"__vcctl_keys {values.kind}"
    raise ValueError(f"no completion action for {values}")
