"""Text rules every layer shares: escaping text from elsewhere for a terminal, masking a secret,
and telling a loopback host. Pure functions; imports nothing of vcctl."""

from __future__ import annotations

import ipaddress
import re

# Characters shown escaped in text that did not come from the user's own command line (names
# sent by someone else, answers, error bodies): C0 and C1 controls, ESC and DEL, which could move
# the cursor, clear the screen, write the clipboard (OSC 52) or break a table row; bidi overrides,
# embeddings, isolates and marks, which could make one text read as another; and zero-width
# characters, which hide in what looks like an ordinary name.
UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` safe to show on a terminal: controls escaped (`\\x1b`, `\\n`), bidi and
    zero-width characters made visible (`\\u202e`). The one escaping of every renderer for text
    that did not come from the user's own command line; applying it twice changes nothing."""
    if text.isascii() and text.isprintable():
        return text  # most cells: no control, bidi or zero-width character can be in them
    return UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    code = ord(character)
    if character in CONTROL_ESCAPES:
        return CONTROL_ESCAPES[character]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def mask(secret: str | None) -> str | None:
    """At most the last 4 characters, and none of a short secret (they would be most of it)."""
    if not secret:
        return None
    if len(secret) < 12:
        return "****"
    return "****" + secret[-4:]


def mask_url(url: str) -> str:
    """A database URL as it may be shown: its password (in the authority or a `password=`
    query parameter) replaced by ****, everything else as given."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:****@{host}"
    tail = re.sub(r"(?i)((?:^|[?&])password=)[^&]*", r"\1****", tail)
    return f"{scheme}{sep}{authority}{slash}{tail}"


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
