"""The command groups: one module per noun, a Typer sub-app each, one function per verb."""
