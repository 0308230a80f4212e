"""Batch creation from files: placeholder until it lands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from vcctl.errors import UsageError

if TYPE_CHECKING:
    from vcctl.app import AppState


def create_from_file(
    app_state: AppState,
    noun: Literal["rooms", "participants"],
    source: str,
    *,
    defaults: dict[str, Any],
    concurrency: int,
    dry_run: bool,
    json_mode: bool,
    quiet: bool,
) -> None:
    raise UsageError("--from-file is not available yet")
