"""Where layouts come from: every ``*.toml`` of this package (built in) and of the user folders.

User folders are the ``GOALFORMS_LAYOUTS`` setting (folders separated by ``os.pathsep``) and the
``--layouts DIR`` option of ``goalforms parse``/``import`` (:func:`use_layout_dirs`). A user layout
with the id of a built-in one replaces it; two user files with one id are an error. Every file
is checked when loaded (:class:`~goalforms.parsers.layouts.spec.LayoutError` names file and key).

``LAYOUTS`` (``goalforms.parsers.layouts``) is one dict, refreshed in place, so the modules that
imported it see the user's layouts once the CLI has read its options.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from goalforms.parsers.layouts.base import LayoutParser
from goalforms.parsers.layouts.spec import LayoutError, LayoutSpec, load_file, parse_spec

ENV = "GOALFORMS_LAYOUTS"

LAYOUTS: dict[str, LayoutParser] = {}
_user_dirs: list[Path] = []
# A user layout that failed to load when the package was imported: raised by ensure_loaded(), so
# the command that parses reports it (naming the file and key) instead of an import traceback.
_load_error: LayoutError | None = None


def builtin_specs() -> list[LayoutSpec]:
    folder = resources.files(__package__)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return [parse_spec(f.read_text(encoding="utf-8"), f.name, "built-in") for f in files]


def user_dirs() -> list[Path]:
    """The user layout folders in force: the setting's, then the option's."""
    setting = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return list(dict.fromkeys(setting + _user_dirs))


def user_specs(folders: list[Path]) -> list[LayoutSpec]:
    specs: list[LayoutSpec] = []
    for folder in folders:
        if not folder.is_dir():
            raise LayoutError(str(folder), "the layouts folder does not exist (or is not a folder)")
        specs += [load_file(path, f"user ({folder})") for path in sorted(folder.glob("*.toml"))]
    return specs


def discover() -> dict[str, LayoutSpec]:
    """Every layout in force by id: built in, then user layouts (replacing a built-in id)."""
    found: dict[str, LayoutSpec] = {spec.id: spec for spec in builtin_specs()}
    seen: dict[str, str] = {}
    for spec in user_specs(user_dirs()):
        if spec.id in seen:
            raise LayoutError(spec.path, f"id: {spec.id!r} is already the id of {seen[spec.id]}")
        seen[spec.id] = spec.path
        found[spec.id] = spec
    return found


def refresh(tolerant: bool = False) -> dict[str, LayoutParser]:
    """Load the layouts again (after the user folders changed) into ``LAYOUTS``, in place.
    ``tolerant`` (package import): a broken user layout leaves the built-in ones in force and
    is raised by :func:`ensure_loaded`."""
    global _load_error
    try:
        specs = discover()
        _load_error = None
    except LayoutError as exc:
        if not tolerant:
            raise
        _load_error = exc
        specs = {spec.id: spec for spec in builtin_specs()}
    LAYOUTS.clear()
    LAYOUTS.update({layout_id: LayoutParser(spec) for layout_id, spec in specs.items()})
    return LAYOUTS


def compile_patterns() -> None:
    """Compile every layout's label patterns now (they are compiled on a layout's first use): a
    process about to fork parse workers does it once for all of them."""
    for parser in LAYOUTS.values():
        parser.spec.compile_labels()


def ensure_loaded() -> None:
    """Raise the error of a user layout that could not be loaded (see ``refresh``)."""
    if _load_error is not None:
        raise _load_error


def use_layout_dirs(folders: list[str | Path]) -> dict[str, LayoutParser]:
    """Add user layout folders (the ``--layouts`` option) and reload."""
    _user_dirs[:] = list(dict.fromkeys([*_user_dirs, *(Path(f) for f in folders)]))
    return refresh()


def spec_by_name(name: str) -> LayoutSpec:
    """A layout in force by id (``2024``) or by built-in file name (``layout2024.toml``)."""
    if not LAYOUTS:
        refresh()
    key = name.removeprefix("layout").removesuffix(".toml")
    for candidate in (name, key):
        if candidate in LAYOUTS:
            return LAYOUTS[candidate].spec
    raise KeyError(name)


def header_keys() -> list[str]:
    """The contract's header keys: the union over the layouts in force, in their order."""
    return list(dict.fromkeys(k for p in LAYOUTS.values() for k in p.spec.header_keys()))


def budget_keys() -> list[str]:
    """The contract's budget keys: the union over the layouts in force (money-block rows too)."""
    keys: list[str] = []
    for parser in LAYOUTS.values():
        keys += parser.spec.budget
        if parser.spec.money is not None:
            keys += parser.spec.money.rows
        if parser.spec.tasks is not None:
            keys += [c for c in parser.spec.tasks.columns if c in ("total", "fiscal_appropriation", "other_funds")]
    return list(dict.fromkeys(keys))
