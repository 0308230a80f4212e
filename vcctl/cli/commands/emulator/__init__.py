"""`vcctl emulator ...`: one module per command (the group's help is in vcctl.cli.registry);
the options they share are in `options`."""
