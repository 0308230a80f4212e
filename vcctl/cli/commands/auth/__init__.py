"""`vcctl auth ...`: profiles in the config file, one module per command (the group's help is
in vcctl.cli.registry); what they share is in `profiles`, the tables they draw in `report`."""
