"""`--jq EXPR`: every JSON result a command prints goes through a jq program first.

The program is compiled by the `jq` package from PyPI, an optional extra (`pip install
'vcctl[jq]'`), imported only when --jq is given. Each result the program yields is printed on a
line of its own, as gh does: a string as its text, anything else as compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

from vcctl.errors import UsageError

EXTRA_HINT = "install the jq extra: pip install 'vcctl[jq]' (or pipe --json into the jq program)"


class JqProgram:
    """A compiled jq program; `run(value)` is the text it prints for one JSON result."""

    def __init__(self, expression: str) -> None:
        try:
            import jq
        except ImportError:
            raise UsageError(
                "--jq needs the jq package, which is not installed", hint=EXTRA_HINT
            ) from None
        try:
            self._program = jq.compile(expression)
        except ValueError as exc:
            raise UsageError(f"--jq: {_first_line(exc)}") from None

    def run(self, value: Any) -> str:
        try:
            results = self._program.input_value(value).all()
        except ValueError as exc:
            raise UsageError(f"--jq: {_first_line(exc)}") from None
        return "".join(f"{_text(result)}\n" for result in results)


def _text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["invalid program"])[0]
