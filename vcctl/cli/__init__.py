"""The command-line shell: the entry point, the command tree, global options, the run's context
and the commands. The only layer that knows about typer; nothing below imports it."""
