"""Local emulator of the Video Connect API (see `vcctl.emulator.server`)."""
