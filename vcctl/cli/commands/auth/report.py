"""What `vcctl auth status` and `vcctl auth list` show a person: the settings table with its
notes, and the table of profiles. (Their --json output is the data itself.)"""

from __future__ import annotations

from typing import Any

from vcctl.config.settings import describe_source
from vcctl.output import streams
from vcctl.output.table import plain_table, rich_table
from vcctl.text import printable

NOT_CHECKED = "not checked (--no-check)"


def show_status(report: dict[str, Any]) -> None:
    """`auth status` for a person: each setting, its value and source, then the config file,
    the profile and the credentials' verdict (escaped: they may come from the API or a file)."""
    rows = [["SETTING", "VALUE", "FROM"]]
    keys = ("profile", "api_key", "api_token", "base_url", "locale", "timeout", "max_attempts")
    for key in (*keys, "rate", "inventory_url"):
        entry = report[key]
        value = entry["value"]
        unset = {"rate": "unlimited", "inventory_url": "(the local file)"}.get(key, "(not set)")
        rows.append([key, unset if value is None else str(value), describe_source(entry["source"])])
    lines = [f"config file: {report['config_file']}"]
    if not report["profile"]["in_config_file"]:
        lines.append(f"profile {report['profile']['value']!r} is not in the config file")
    api = report["api"]
    if api["detail"] == NOT_CHECKED:
        # "unknown (not checked (--no-check))" said the same thing twice, in nested brackets.
        lines.append(f"credentials: {NOT_CHECKED}")
    else:
        state_word = {True: "accepted", False: "REJECTED", None: "unknown"}[api["accepted"]]
        lines.append(f"credentials: {state_word} ({api['detail']})")
    # The detail and the settings may come from the API or a config file: escaped like answers.
    lines = [printable(line) for line in lines]
    if streams.use_rich():
        # Every column may wrap: the values (paths, URLs) can be long.
        table = rich_table(rows[0], rows[1:], wrap=rows[0])
        console = streams.rich_console()
        console.print(table)
        for line in lines:
            console.print(line, markup=False)
        return
    streams.write_stdout(plain_table(rows) + "".join(line + "\n" for line in lines))


def show_profiles(entries: list[dict[str, Any]]) -> None:
    """`auth list` for a person: one row per profile, * marking the active one."""
    rows = [["", "PROFILE", "BASE URL", "LOCALE", "API KEY"]]
    for entry in entries:
        rows.append(
            [
                "*" if entry["active"] else "",
                str(entry["name"]),
                str(entry["base_url"] or "(default)"),
                _locale_cell(entry["locale"]),
                str(entry["api_key"] or "(none)"),
            ]
        )
    streams.write_stdout(plain_table(rows))


def _locale_cell(locale: Any) -> str:
    if locale is None:
        return "(default)"
    return str(locale) or "(no prefix)"
