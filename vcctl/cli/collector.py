"""The garbage collector across one vcctl process: start-up is paid on every run and every TAB.

- Off while vcctl starts (`pause`, called by the entry point before the CLI is imported): the
  modules and the command tree are objects that live until exit, so a collection then frees
  nothing, and the dozen or so that importing typer and requests would trigger cost ~10 ms.
- Back on when the command starts (`resume`), after freezing what start-up made (moving it out
  of the collector's sight): a long batch, a watch or the emulator collects as usual, without
  walking the start-up objects again and again.
- Frozen at exit (`at_exit`): the interpreter's last collections would walk every object only
  to free memory the process hands back anyway (~25 ms of a `rooms get`). Nothing may rely on
  a collection to finish its work then: the run closes the inventory explicitly (SQLite writes
  back and removes its -wal and -shm files on close; see `CommandContext.close`).

Only the process's entry point (`vcctl.__main__`) pauses and freezes: a test or a program that
calls `vcctl.cli.main.main` in its own process keeps its collector as it was, and `resume`
then does nothing.
"""

from __future__ import annotations

import gc


def pause() -> None:
    gc.disable()


def resume() -> None:
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def at_exit() -> None:
    gc.disable()
    gc.freeze()
