"""The process's entry point: `python -m vcctl`, and the `vcctl` script (pyproject.toml).

The collector is paused before the CLI is imported, and frozen at exit (see
`vcctl.cli.collector`); the standard-library modules that a short run never uses are deferred to
their first use (see `vcctl.cli.deferred_modules`).
"""

from typing import NoReturn

from vcctl.cli import collector, deferred_modules

collector.pause()
deferred_modules.defer()

from vcctl.cli.main import main as run  # noqa: E402  (imported with the collector paused)


def main() -> NoReturn:
    try:
        run()
    finally:
        collector.at_exit()


if __name__ == "__main__":
    main()
