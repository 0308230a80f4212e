"""The bash completion script: templates/vcctl.bash filled from the command tree."""

from __future__ import annotations

from vcctl.docgen.shell import (
    PROFILE_HEADER_ERE,
    arguments_line,
    checked_words,
    config_dir_lines,
    data_dir_lines,
    fill,
    offered_options,
    single_quoted,
    value_options,
    value_sources,
)
from vcctl.docgen.tree import Tree, ValueSpec


def render(tree: Tree) -> str:
    nodes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"    {single_quoted(command.key)})")
        settings = {
            "commands": [sub.path[-1] for sub in command.visible_subcommands],
            "hidden_commands": [sub.path[-1] for sub in command.subcommands if sub.hidden],
            "options": [
                name for option in offered_options(tree, command) for name in option.all_names
            ],
            "value_options": value_options(tree, command),
        }
        nodes += [
            f'        __vcctl_{name}="{checked_words(words)}"'
            for name, words in settings.items()
            if words
        ]
        if command.arguments:
            nodes.append(f"        {arguments_line(command)}")
        nodes.append("        ;;")
    values = [
        f"    {'|'.join(patterns)}) {_value_action(spec)} ;;"
        for patterns, spec in value_sources(tree)
    ]
    return fill(
        "vcctl.bash",
        "bash",
        nodes="\n".join(nodes),
        values="\n".join(values),
        config_dir=config_dir_lines(),
        data_dir=data_dir_lines(),
        profile_header=single_quoted(PROFILE_HEADER_ERE),
    )


def _value_action(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f'__vcctl_offer "{checked_words(values.choices)}"'
    if values.kind == "file":
        return "__vcctl_files"
    if values.kind == "profile":
        return "__vcctl_profiles"
    if values.kind in ("room", "participant"):
        return f"__vcctl_keys {values.kind}"
    raise ValueError(f"no completion action for {values}")
