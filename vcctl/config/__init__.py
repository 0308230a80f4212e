"""Settings and where they come from: flags, VCCTL_* variables, the TOML profile file, defaults;
and the private-file helpers (0700 folders, locks, atomic writes) that the config file, the
inventory and apply's state file share."""
