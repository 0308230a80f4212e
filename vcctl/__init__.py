"""vcctl: command-line administration tool for the Video Connect API."""

__version__ = "0.1.0"
