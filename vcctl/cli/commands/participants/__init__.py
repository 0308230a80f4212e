"""`vcctl participants ...`: one module per command (the group's help is in vcctl.cli.registry).

The options more than one of them take are in `options`."""
