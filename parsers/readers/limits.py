"""Limits per file: what one hostile or broken file may cost before it fails alone.

One :class:`Limits` value holds them all. Readers never take it as an argument (their signature is
``read(path) -> Grid``); they ask :func:`current`, which is what the caller set with :func:`use`
(the importer sets it in each worker process) or, by default, the limits from the environment
(``GOALFORMS_MAX_*``, see :meth:`Limits.from_env` and docs/limits.md).

A file over a limit raises :class:`LimitExceeded` (an ``UnreadableFile``) whose reason names the
limit and the setting that changes it, so the import report and the quarantine list say why.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

from goalforms.errors import UnreadableFile

MB = 1 << 20
ENV_PREFIX = "GOALFORMS_"


class LimitExceeded(UnreadableFile):
    """The file is over one of the limits per file (the reason names the limit and its setting)."""


@dataclass(frozen=True)
class Limits:
    """Every limit per file. Sizes in MiB, times in seconds; 0 turns a limit off.

    The environment variable of a field is ``GOALFORMS_`` + its name in capitals
    (``max_file_mb`` → ``GOALFORMS_MAX_FILE_MB``)."""

    max_file_mb: float = 512.0  # any source file read into memory (a PDF, a scan, a .docx)
    max_text_mb: float = 32.0  # a text file (.txt, .html, …): each MiB costs ~30 MiB once split into cells
    max_unzipped_mb: float = 256.0  # a zip-based file (.docx/.xlsx/.odt/.ods): all entries, decompressed
    max_zip_entries: int = 10_000  # … and how many entries its zip directory may list
    max_zip_ratio: float = 200.0  # … and the largest decompressed/compressed ratio of one entry
    max_pages: int = 500  # pages of one PDF
    max_ocr_pages: int = 50  # pages of one file sent to OCR (blank pages are skipped and not counted)
    timeout_s: float = 600.0  # wall clock per file (50 OCR pages take ~250 s on a 2-core machine)
    max_memory_mb: float = 4096.0  # address space of one worker process

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, overridden by ``GOALFORMS_MAX_…``/``GOALFORMS_TIMEOUT_S`` variables."""
        env = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or not raw.strip():
                continue
            try:
                number = float(raw)
            except ValueError:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a number") from None
            if number < 0:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is negative (0 turns the limit off)")
            values[f.name] = int(number) if f.type in ("int", int) else number
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: float | int | None) -> Limits:
        """A copy with the given limits changed (``None`` values are ignored: option not given)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def setting(name: str) -> str:
    """How a limit is named to the user: its environment variable (the CLI options mirror it)."""
    return ENV_PREFIX + name.upper()


_current: Limits | None = None


def current() -> Limits:
    """The limits in force in this process: those set by :func:`use`, else the environment's."""
    return _current if _current is not None else Limits.from_env()


def set_current(limits: Limits | None) -> None:
    """Set the limits of this process (a worker initializer calls this); None: the environment's."""
    global _current
    _current = limits


@contextlib.contextmanager
def use(limits: Limits) -> Iterator[Limits]:
    """Within the block, :func:`current` returns ``limits``."""
    global _current
    before = _current
    _current = limits
    try:
        yield limits
    finally:
        _current = before


def over(path: Path | str, what: str, value: str, name: str, limit: str) -> LimitExceeded:
    """The error for a file over a limit: names the limit, its value and how to change it."""
    return LimitExceeded(path, f"{what} ({value}) is over the limit {name}={limit} "
                               f"(set {setting(name)} or --limit {name}=N to change it)")


def _mb(value: float) -> str:
    return f"{value:g} MiB"


def check_size(path: Path, size: int, text: bool, limits: Limits | None = None) -> None:
    """Refuse a file too large to be read whole (text files have their own, smaller limit)."""
    limits = limits or current()
    name = "max_text_mb" if text else "max_file_mb"
    limit = getattr(limits, name)
    if limit and size > limit * MB:
        kind = "text file size" if text else "file size"
        raise over(path, kind, _mb(round(size / MB, 1)), name, _mb(limit))


# Declarations that have no place in an office document's XML: a DOCTYPE is how entity bombs
# ("billion laughs") and external entities come in. Word, Excel and LibreOffice never write one.
_XML_DANGER = (b"<!DOCTYPE", b"<!ENTITY")
_XML_HEAD = 4096  # bytes of each XML entry looked at for a DOCTYPE (it must precede the root element)


def check_zip(path: Path, limits: Limits | None = None) -> None:
    """Refuse a zip-based document (docx, xlsx, odt, ods…) that would cost too much to open, from
    its zip directory alone, BEFORE any parser decompresses it: too many entries, too many bytes
    once decompressed (the declared sizes; the read side is bounded too, see :func:`read_entry`),
    an entry compressed suspiciously well, or an XML entry that declares a DOCTYPE/entities.

    Raises LimitExceeded (over a limit) or UnreadableFile (not a zip archive)."""
    limits = limits or current()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if limits.max_zip_entries and len(infos) > limits.max_zip_entries:
                raise over(path, "zip entry count", str(len(infos)), "max_zip_entries", str(limits.max_zip_entries))
            total = sum(i.file_size for i in infos)
            if limits.max_unzipped_mb and total > limits.max_unzipped_mb * MB:
                raise over(path, "decompressed size", _mb(round(total / MB, 1)), "max_unzipped_mb",
                           _mb(limits.max_unzipped_mb))
            for info in infos:
                # Small entries compress well legitimately (a run of identical XML); a big entry
                # compressed 1000:1 is a bomb.
                ratio = info.file_size / max(1, info.compress_size)
                if limits.max_zip_ratio and info.file_size > MB and ratio > limits.max_zip_ratio:
                    raise over(path, f"compression ratio of {info.filename!r}", f"{ratio:.0f}:1",
                               "max_zip_ratio", f"{limits.max_zip_ratio:g}:1")
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels")) and not info.is_dir():
                    with archive.open(info) as entry:
                        head = entry.read(_XML_HEAD)
                    if any(marker in head for marker in _XML_DANGER):
                        raise UnreadableFile(path, f"refused: {info.filename!r} declares a DOCTYPE or entities "
                                                   "(office files never do; an XML entity bomb?)")
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(path, f"a broken zip archive (an Office file cut short?): {exc}") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:  # zip64 oddities, encryption
        raise UnreadableFile(path, f"unsupported zip archive: {exc}") from None
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None


# How the binary formats goalforms reads begin; anything else counts as text for the size limits
# (so a misnamed text dump still meets the text limit).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_BINARY_MAGIC = (
    *ZIP_MAGIC,  # docx, xlsx, odt, ods
    b"%PDF-",
    b"\xd0\xcf\x11\xe0",  # OLE2: doc, xls, wps, et
    b"{\\rtf",
    b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8",
)


def looks_binary(head: bytes) -> bool:
    """Does a file starting with ``head`` (its first bytes) hold one of the binary formats?"""
    return head.lstrip()[:5].startswith(b"%PDF-") or head.startswith(_BINARY_MAGIC)


def check_file(path: Path, limits: Limits | None = None) -> None:
    """Everything that can be checked before any reader (or the content sniffing) opens a file: a
    regular file (a FIFO would block the reader), its size, and a zip's directory (a bomb in
    ``[Content_Types].xml`` would go off while the file is merely identified)."""
    import stat

    limits = limits or current()
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableFile(path, "cannot read file: Is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(path, "not a regular file (a FIFO, socket or device)")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    check_size(path, info.st_size, text=not looks_binary(head), limits=limits)
    if head.startswith(ZIP_MAGIC):
        check_zip(path, limits)


def read_entry(archive: zipfile.ZipFile, name: str, path: Path, limits: Limits | None = None) -> bytes:
    """One entry of a zip, decompressed, never past ``max_unzipped_mb`` whatever its directory
    declared (a forged directory can under-declare sizes)."""
    limits = limits or current()
    cap = int(limits.max_unzipped_mb * MB) if limits.max_unzipped_mb else None
    with archive.open(name) as entry:
        data = entry.read(cap + 1) if cap is not None else entry.read()
    if cap is not None and len(data) > cap:
        raise over(path, f"decompressed size of {name!r}", f"over {_mb(limits.max_unzipped_mb)}",
                   "max_unzipped_mb", _mb(limits.max_unzipped_mb))
    return data
