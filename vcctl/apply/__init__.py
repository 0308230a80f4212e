"""Declarative apply: a stack file of rooms and participants, the plan that converges on it.

Pure logic, no HTTP and no printing: `stackfile` reads and validates the file, `plan` compares it
with what is recorded and what the API answered, `render` shows the plan, `state` keeps the
key -> id records in a JSON file, `export` writes a stack file for rooms that already exist.
The command that wires these to the client, the inventory and the output lives elsewhere.
"""
