"""The watch off a terminal (or with --json): one compact JSON object per line on stdout, flushed
at once; failed refreshes warn on stderr. The line shapes are in vcctl.watch.changes."""

from __future__ import annotations

from vcctl.watch.changes import WatchState, change_line, deleted_line, snapshot_line, timestamp


class JsonLinesOutput:
    """A WatchOutput writing JSON Lines (stdout) and warnings (stderr)."""

    def started(self, state: WatchState) -> None:
        from vcctl.output.streams import print_json_line

        print_json_line(snapshot_line(state))

    def refreshed(self, state: WatchState, recovered_after: int) -> None:
        from vcctl.output.streams import print_json_line, warn

        if recovered_after:
            warn(f"room {state.room_id}: refreshed again after {recovered_after} failed attempt(s)")
        for change in state.changes:
            print_json_line(change_line(state.room_id, change, state.refreshed_at))

    def failed(self, state: WatchState) -> None:
        from vcctl.output.streams import warn

        failure = state.failure
        assert failure is not None
        how = ", as the API asks (Retry-After)" if failure.retry_after else ""
        warn(
            f"room {state.room_id}: refresh failed: {failure.message}; data stale since "
            f"{timestamp(failure.since)}; next try in {failure.wait:.1f} s{how}"
        )

    def deleted(self, state: WatchState) -> None:
        from vcctl.output.streams import print_json_line

        assert state.deleted_at is not None
        print_json_line(deleted_line(state, state.deleted_at))
