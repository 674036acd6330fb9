"""Text bound for a terminal, made harmless: file names and document text can hold anything.

A file name with a newline would forge a line of the import summary; an escape byte (ESC) would
drive the terminal (move the cursor, retitle the window, hide text); a right-to-left override
would show a name backwards. :func:`safe` shows every such character as a visible escape
(``\\n``, ``\\x1b``, ``\\u202e``), and the bytes of an undecodable file name as ``\\xff``.
Every print of a path, a reason or document text in the CLI goes through it.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; bidirectional overrides, isolates and marks; lone surrogates
# (Python's stand-ins for the undecodable bytes of a file name); line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control, bidi-override and undecodable character shown as an escape.
    ``keep_newlines``: line breaks in document text stay line breaks (a cell of several lines)."""
    value = str(text)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, part) for part in value.replace("\r\n", "\n").split("\n"))
    return _UNSAFE.sub(_escape, value)
