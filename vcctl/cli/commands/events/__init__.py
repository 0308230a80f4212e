"""`vcctl events ...`: one module per command (the group's help is in vcctl.cli.registry); they
send through `send`."""
