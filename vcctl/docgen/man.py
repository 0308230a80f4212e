"""The man pages (man(7) macros, checked with `mandoc -Tlint`): one per command and group.

Everything comes from the command tree (help, options, arguments, examples), from
vcctl.config.environment (ENVIRONMENT) and vcctl.errors (EXIT STATUS); the text written here is what
the tree cannot hold: exit code meanings, the config file, the settings order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vcctl import __version__
from vcctl.docgen.tree import (
    PROG,
    ArgumentSpec,
    CommandSpec,
    OptionSpec,
    Tree,
    ValueSpec,
    paragraphs,
)

# The date the man pages carry. A fixed value, bumped with the version: a computed date would make
# every regeneration differ from the committed pages.
MAN_DATE = "2026-11-28"

EXIT_STATUS_TEXT: tuple[tuple[str, str], ...] = (
    ("EXIT_OK", "Success."),
    ("EXIT_INTERNAL", "Unexpected internal error (a bug: the message says so)."),
    ("EXIT_USAGE", "Bad usage, invalid input or configuration detected locally: nothing was sent."),
    ("EXIT_BAD_REQUEST", "The API answered 400 Bad Request."),
    (
        "EXIT_UNAUTHORIZED",
        "The API answered 401 Unauthorized, or no usable credentials are configured.",
    ),
    ("EXIT_REQUEST_FAILED", "The API answered 402 Request Failed."),
    ("EXIT_NOT_FOUND", "The API answered 404 Not Found (resource or endpoint)."),
    ("EXIT_RATE_LIMITED", "The API answered 429 Too Many Requests, and retries ran out."),
    (
        "EXIT_SERVER_ERROR",
        "The API answered 5xx, and retries ran out (or the request was not safe to retry).",
    ),
    (
        "EXIT_NETWORK",
        "Network failure: cannot connect, timeout, TLS failure, or a response that is not valid "
        "JSON.",
    ),
    (
        "EXIT_PARTIAL",
        "A batch partly failed: some items succeeded, the others are reported one by one.",
    ),
    (
        "EXIT_BLOCKED",
        "Blocked, nothing sent: a key whose earlier create has an unknown outcome (the hint "
        "names the command that frees exactly that key), or held by another vcctl's create "
        "past the wait, or a stack another \\fBvcctl apply\\fR holds past \\fB--lock-timeout\\fR.",
    ),
    (
        "EXIT_PLAN_CHANGES",
        "\\fBvcctl apply --dry-run --exit-code\\fR only: the plan has changes (0: it has none).",
    ),
    (
        "EXIT_INTERRUPTED",
        "Interrupted (Ctrl-C). SIGTERM exits 143 and SIGHUP 129, as a batch or \\fBvcctl apply\\fR "
        "stopped by them does. \\fBvcctl rooms watch\\fR ends normally on Ctrl-C and SIGTERM: "
        "exit 0.",
    ),
    (
        "EXIT_BROKEN_PIPE",
        "Standard output was closed early (\\fBvcctl ... | head -c1\\fR); nothing is reported.",
    ),
)


def _roff(text: str) -> str:
    """Text for a roff text line: backslashes and hyphens escaped (keeps our \\f font codes)."""
    text = re.sub(r"\\(?!f[BIRP])", r"\\e", text)
    return text.replace("-", "\\-")


def _roff_line(text: str, *, width: int = 79) -> str:
    """Escaped text, wrapped at spaces (roff fills it again); no line starts a request."""
    import textwrap

    lines = textwrap.wrap(
        _roff(text), width=width, break_long_words=False, break_on_hyphens=False
    ) or [""]
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in lines)


def _marked(text: str) -> str:
    """`**bold**` and `*italic*` (as vcctl.config.environment writes them) in roff fonts."""
    text = re.sub(r"\*\*(.+?)\*\*", lambda match: _bold(match.group(1)), text)
    return re.sub(r"\*(.+?)\*", lambda match: _italic(match.group(1)), text)


def _bold(text: str) -> str:
    return f"\\fB{text}\\fR"


def _italic(text: str) -> str:
    return f"\\fI{text}\\fR"


def _page_ref(name: str) -> str:
    return f"{_bold(name)}(1)"


def _description_lines(text: str) -> list[str]:
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs(text)):
        if index:
            lines.append(".PP")
        lines.append(_roff_line(paragraph))
    return lines


def _option_item(option: OptionSpec) -> list[str]:
    names = ", ".join(_bold(name) for name in option.all_names)
    if option.takes_value:
        names += " " + _italic(option.metavar)
    notes = []
    if option.required:
        notes.append("Required.")
    if option.multiple:
        notes.append("May be given more than once.")
    if option.values.kind == "choice" and not option.metavar.startswith("{"):
        notes.append(_choices_note(option.values, option.help))
    if option.value_range:
        notes.append(f"A number {option.value_range}.")
    if option.default is not None:
        notes.append(f"Default: {option.default}.")
    text = " ".join(filter(None, [paragraphs(option.help)[0] if option.help else "", *notes]))
    more = paragraphs(option.help)[1:] if option.help else []
    lines = [".TP", _roff_line(names), _roff_line(text)]
    for paragraph in more:
        lines += [".IP", _roff_line(paragraph)]
    return lines


def _choices_note(values: ValueSpec, help_text: str) -> str:
    if all(re.search(rf"\b{re.escape(choice)}\b", help_text) for choice in values.choices):
        return ""  # the help already names them
    return "One of: " + ", ".join(values.choices) + "."


def _argument_item(argument: ArgumentSpec) -> list[str]:
    text = argument.help
    if argument.values.kind == "choice":
        text += " " + _choices_note(argument.values, argument.help)
    return [".TP", _roff_line(_italic(argument.metavar)), _roff_line(text.strip())]


def _synopsis(tree: Tree, command: CommandSpec) -> str:
    parts = [_bold(command.full_name)]
    if not command.path:
        parts.append(f"[{_italic('GLOBAL OPTIONS')}]")
    if command.is_group:
        parts.append(f"{_italic('COMMAND')} [{_italic('ARGS')}]...")
        return " ".join(parts)
    parts.append(f"[{_italic('OPTIONS')}]")
    for option in command.options:
        if option.required:
            parts.append(f"{_bold(option.names[-1])} {_italic(option.metavar)}")
    for argument in command.arguments:
        shown = _italic(argument.metavar)
        parts.append(shown if argument.required else f"[{shown}]")
    return " ".join(parts)


def _title(command: CommandSpec) -> list[str]:
    return [
        f'.TH {command.page_name.upper()} 1 "{MAN_DATE}" "vcctl {__version__}" "vcctl manual"',
        # No hyphenation, ragged right: command and page names must survive a line break.
        ".nh",
        ".ad l",
        ".SH NAME",
        # One line: whatis and apropos read the NAME section line by line.
        _roff_line(f"{command.page_name} - {command.summary or command.full_name}", width=1000),
    ]


def _examples_section(command: CommandSpec) -> list[str]:
    """A command's own examples; for a group, those of the commands in it."""
    shown = command.examples or tuple(
        example
        for sub in command.walk()
        if sub is not command and not sub.hidden
        for example in sub.examples
    )
    lines: list[str] = []
    for example in shown:
        lines += [".PP", _roff_line(example.description)]
        lines += [".PP", ".RS 4", ".EX", *map(_roff, example.lines), ".EE", ".RE"]
    # The section heading already starts a paragraph.
    return [".SH EXAMPLES", *lines[1:]] if lines else []


def _options_section(title: str, options: Sequence[OptionSpec]) -> list[str]:
    shown = [option for option in options if not option.hidden]
    if not shown:
        return []
    return [f".SH {title}", *(line for option in shown for line in _option_item(option))]


def _options_sections(tree: Tree, command: CommandSpec) -> list[str]:
    """OPTIONS (the command's own), then GLOBAL OPTIONS (accepted by every command)."""
    if command.path:
        own = command.options
        inherited = [option for option in tree.options_at(command) if option not in own]
    else:
        own = tuple(option for option in command.options if option not in tree.global_options)
        inherited = list(tree.global_options)
    lines = _options_section("OPTIONS", own) + _options_section("GLOBAL OPTIONS", inherited)
    if inherited:
        where = (
            ""
            if not command.path
            else (f" See {_page_ref(PROG)} for their environment variables and the config file.")
        )
        lines += [
            ".PP",
            _roff_line(
                f"Global options are accepted anywhere on the command line before {_bold('--')}."
                + where
            ),
        ]
    return lines


def render_command_page(tree: Tree, command: CommandSpec) -> str:
    lines = [*_title(command), ".SH SYNOPSIS", _roff_line(_synopsis(tree, command))]
    lines += [".SH DESCRIPTION", *_description_lines(command.help or command.full_name)]
    if command.is_group:
        lines.append(".SH COMMANDS")
        for sub in command.visible_subcommands:
            lines += [
                ".TP",
                _roff_line(_bold(sub.full_name)),
                _roff_line(f"{sub.summary}. See {_page_ref(sub.page_name)}."),
            ]
    if command.arguments:
        lines.append(".SH ARGUMENTS")
        for argument in command.arguments:
            lines += _argument_item(argument)
    lines += _options_sections(tree, command)
    for section in command.sections:
        lines += [f".SH {section.title}", *_description_lines("\n\n".join(section.paragraphs))]
        for term, text in section.items:
            lines += [".TP", _roff_line(_bold(term)), _roff_line(text)]
    lines += _examples_section(command)
    related = (
        [PROG]
        + ["-".join((PROG, *command.path[:depth])) for depth in range(1, len(command.path))]
        + [sub.page_name for sub in command.visible_subcommands]
    )
    lines += [".SH SEE ALSO", _roff_line(", ".join(_page_ref(name) for name in related))]
    return "\n".join(lines) + "\n"


def render_main_page(tree: Tree) -> str:
    from vcctl import errors
    from vcctl.config.environment import ENVIRONMENT

    root = tree.root
    lines = [*_title(root), ".SH SYNOPSIS", _roff_line(_synopsis(tree, root))]
    lines += [".SH DESCRIPTION", *_description_lines(root.help)]
    lines += [
        ".PP",
        _roff_line(
            "Standard output carries only results; prompts, progress, warnings and errors go "
            "to standard error. "
            f"{_bold('--json')} prints the API's JSON as received."
        ),
    ]
    lines.append(".SH COMMANDS")
    for command in root.walk():
        if command.path and not command.hidden and not command.is_group:
            lines += [
                ".TP",
                _roff_line(_bold(command.full_name)),
                _roff_line(f"{command.summary}. See {_page_ref(command.page_name)}."),
            ]
    lines += _options_sections(tree, root)
    lines.append(".SH EXIT STATUS")
    for constant, text in EXIT_STATUS_TEXT:
        lines += [".TP", _bold(str(getattr(errors, constant))), _roff_line(text)]
    lines.append(".SH ENVIRONMENT")
    for variable in ENVIRONMENT:
        lines += [
            ".TP",
            _roff_line(_bold(variable.name)),
            _roff_line(_marked(variable.description)),
        ]
    lines += [
        ".SH FILES",
        ".TP",
        _roff_line(_italic("$VCCTL_CONFIG_DIR/config.toml")),
        _roff_line(
            "The profiles: TOML with a top-level active_profile and one [profiles.NAME] table "
            "per profile (api_key, api_token, base_url, locale, timeout, max_attempts). "
            f"Written by {_bold('vcctl auth login')} atomically, mode 0600 in a 0700 folder; "
            "a file that does not parse is reported and never overwritten. When "
            "VCCTL_CONFIG_DIR is unset the folder is:"
        ),
        ".TP",
        _roff_line(_italic("${XDG_CONFIG_HOME:-~/.config}/vcctl/config.toml")),
        _roff_line("on Linux and other Unix systems;"),
        ".TP",
        _roff_line(_italic("~/Library/Application Support/vcctl/config.toml")),
        _roff_line("on macOS."),
        ".TP",
        _roff_line(_italic("completions/vcctl.bash, completions/_vcctl, completions/vcctl.fish")),
        _roff_line(
            "Completion scripts for bash, zsh and fish, also printed by "
            f"{_bold('vcctl completion')} {_italic('SHELL')}. They read the profile names "
            "from the config file above without starting vcctl."
        ),
    ]
    lines += _examples_section(root)
    pages = [command.page_name for command in root.walk() if command.path and not command.hidden]
    lines += [".SH SEE ALSO", _roff_line(", ".join(_page_ref(name) for name in pages))]
    return "\n".join(lines) + "\n"


def man_pages(tree: Tree) -> dict[str, str]:
    """File name -> roff, one page per visible command and group, vcctl.1 first."""
    pages = {f"{PROG}.1": render_main_page(tree)}
    for command in tree.root.walk():
        if command.path and not _is_hidden(tree, command):
            pages[f"{command.page_name}.1"] = render_command_page(tree, command)
    return pages


def _is_hidden(tree: Tree, command: CommandSpec) -> bool:
    return any(
        found is not None and found.hidden
        for found in (tree.find(command.path[:depth]) for depth in range(1, len(command.path) + 1))
    )
