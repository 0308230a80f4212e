"""Local emulator of the Video Connect API; `vcctl.emulator.server` is the entry point."""
