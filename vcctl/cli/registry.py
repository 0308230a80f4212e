"""The command tree as names: which module holds each command, and what a listing says of it.

A run reads this table instead of importing every command: `vcctl rooms get` imports
`vcctl.cli.commands.rooms.get` and nothing else of the tree (see `vcctl.cli.lazy`). A listing
(`vcctl --help`, `vcctl rooms --help`) and a "did you mean" suggestion need only the names and
summaries below, so they import no command module either.

Each command module declares its command with typer, `app = typer.Typer()` and
`@app.command(NAME, ...)`, under the name it has here. A summary is the first paragraph of the
command's help (its docstring) as whole sentences, without line breaks, as listings show it:
tests/test_startup.py checks that the two agree. Order is the order of the listings (typer's:
a group's own commands before its subgroups).

Only the standard library may be imported here: every run reads this module.
"""

from __future__ import annotations


class Command:
    """A command: the module that declares it, the summary listings show, hidden or not."""

    __slots__ = ("hidden", "module", "summary")

    def __init__(self, module: str, summary: str, *, hidden: bool = False) -> None:
        self.module = module
        self.summary = summary
        self.hidden = hidden


class Group:
    """A noun (`vcctl rooms`): its help, and its commands by name."""

    __slots__ = ("commands", "help")

    def __init__(self, help: str, commands: dict[str, Command]) -> None:
        self.help = help
        self.commands = commands


Entry = Command | Group

_COMMANDS = "vcctl.cli.commands"
_EVENTS = f"{_COMMANDS}.events"

TREE: dict[str, Entry] = {
    "apply": Command(
        f"{_COMMANDS}.apply",
        "Make the rooms and participants a stack file declares exist, as declared.",
    ),
    "api": Command(
        f"{_COMMANDS}.api_call", "Send a raw authenticated request and print the response body."
    ),
    "completion": Command(
        f"{_COMMANDS}.completion",
        "Print the shell completion script, or install it for your user (--install).",
    ),
    "version": Command(
        f"{_COMMANDS}.version",
        "Print vcctl's version, Python's, its libraries', the platform, and where the config file "
        "and the inventory are (no secrets), for bug reports.",
    ),
    "rooms": Group(
        "Create, list, inspect, change and delete rooms.",
        {
            "create": Command(
                f"{_COMMANDS}.rooms.create", "Create a room (or one per row with --from-file)."
            ),
            "list": Command(
                f"{_COMMANDS}.rooms.list",
                "List the rooms in the local inventory (the API has no list call).",
            ),
            "get": Command(f"{_COMMANDS}.rooms.get", "Show rooms and their participants."),
            "update": Command(
                f"{_COMMANDS}.rooms.update",
                "Change a room's name or colour (only the fields given are sent), or each room a "
                "file's rows name (--from-file: only the fields that differ are sent).",
            ),
            "delete": Command(
                f"{_COMMANDS}.rooms.delete",
                "Delete rooms (and their participants). Asks first unless --yes.",
            ),
            "watch": Command(
                f"{_COMMANDS}.rooms.watch",
                "Host a meeting: who is in the room, whose video and audio is on.",
            ),
        },
    ),
    "participants": Group(
        "Create, list, inspect, change and delete participants.",
        {
            "create": Command(
                f"{_COMMANDS}.participants.create",
                "Add a participant to a room (or one per row with --from-file).",
            ),
            "get": Command(f"{_COMMANDS}.participants.get", "Show participants."),
            "list": Command(
                f"{_COMMANDS}.participants.list",
                "List participants: a room's from the API (--room), or those in the local "
                "inventory.",
            ),
            "update": Command(
                f"{_COMMANDS}.participants.update",
                "Change a participant (only the fields given are sent), or each participant a "
                "file's rows name (--from-file: only the fields that differ are sent).",
            ),
            "delete": Command(
                f"{_COMMANDS}.participants.delete", "Delete participants. Asks first unless --yes."
            ),
        },
    ),
    "events": Group(
        "Send events into a live meeting.",
        {
            "activate-video-and-audio": Command(
                f"{_EVENTS}.activate_video_and_audio", "Turn a participant's video and audio on."
            ),
            "deactivate-video-and-audio": Command(
                f"{_EVENTS}.deactivate_video_and_audio",
                "Turn a participant's video and audio off (sent as the API's "
                "desactivate-video-and-audio).",
            ),
            # The API's spelling, accepted as an alias.
            "desactivate-video-and-audio": Command(
                f"{_EVENTS}.deactivate_video_and_audio",
                "Turn a participant's video and audio off (sent as the API's "
                "desactivate-video-and-audio).",
                hidden=True,
            ),
            "on": Command(
                f"{_EVENTS}.on",
                "Turn a participant's video and audio on (activate-video-and-audio).",
            ),
            "unmute": Command(f"{_EVENTS}.on", "Same as on."),
            "activate": Command(
                f"{_EVENTS}.on",
                "Turn a participant's video and audio on (activate-video-and-audio).",
                hidden=True,
            ),
            "off": Command(
                f"{_EVENTS}.off",
                "Turn a participant's video and audio off (deactivate-video-and-audio).",
            ),
            "deactivate": Command(
                f"{_EVENTS}.off",
                "Turn a participant's video and audio off (deactivate-video-and-audio).",
                hidden=True,
            ),
            "mute": Command(
                f"{_EVENTS}.mute", "Same as off: one participant (everyone: mute-all)."
            ),
            "mute-all": Command(f"{_EVENTS}.mute_all", "Mute every participant of a room."),
        },
    ),
    "inventory": Group(
        "The local inventory of the rooms and participants vcctl created or saw.",
        {
            "path": Command(
                f"{_COMMANDS}.inventory.path",
                "Print where the inventory is: the file's path (VCCTL_DATA_DIR, or the user data "
                "folder), or the shared database's URL (VCCTL_INVENTORY_URL), its password "
                "masked.",
            ),
            "forget": Command(
                f"{_COMMANDS}.inventory.forget",
                "Forget records or a key of the current account. Nothing is sent to the API.",
            ),
            "keys": Command(
                f"{_COMMANDS}.inventory.keys",
                "List the keys of the current account: scope, state, id, since when, owner.",
            ),
            "migrate": Command(
                f"{_COMMANDS}.inventory.migrate",
                "Copy the local inventory file's records and keys, of every account, into a "
                "shared PostgreSQL inventory. Nothing is sent to the API.",
            ),
        },
    ),
    "auth": Group(
        "Log in, inspect and switch profiles (credentials in the config file).",
        {
            "login": Command(
                f"{_COMMANDS}.auth.login",
                "Save an API key and token in a profile (hidden prompts; or two lines on stdin).",
            ),
            "status": Command(
                f"{_COMMANDS}.auth.status",
                "Show the settings in use, where each came from, and whether the API accepts them.",
            ),
            "list": Command(
                f"{_COMMANDS}.auth.list", "List the profiles of the config file (secrets masked)."
            ),
            "logout": Command(
                f"{_COMMANDS}.auth.logout",
                "Remove the API key and token of the active profile (or of --profile NAME).",
            ),
            "switch": Command(
                f"{_COMMANDS}.auth.switch",
                "Make another profile of the config file the active one.",
            ),
        },
    ),
    "emulator": Group(
        "Run a local emulator of the Video Connect API, for rehearsals and CI.",
        {
            "start": Command(
                f"{_COMMANDS}.emulator.start",
                "Serve the emulator in the foreground until Ctrl-C or SIGTERM, or in the "
                "background.",
            ),
            "stop": Command(
                f"{_COMMANDS}.emulator.stop",
                "Stop the emulator 'start --detach' started (VCCTL_EMULATOR_PID, else its pid "
                "file).",
            ),
            "exec": Command(
                f"{_COMMANDS}.emulator.exec",
                "Start a fresh emulator on a free port, run CMD against it, stop; exit with "
                "CMD's code.",
            ),
        },
    ),
}
