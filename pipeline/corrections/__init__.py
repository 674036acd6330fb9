"""Clerk corrections: records of their own, replayed over the parse (docs/clerks.md).

A correction names what it changes by what survives a re-import — the document's path, the form's
ordinal in the file and a field path (``header.unit``, ``budget.total``, ``indicators[3].raw``,
``indicators[3]`` for row operations) — and keeps the value the clerk saw (``old_value``) and the
row's 三级 name (``row_level3``). The corrected form is the parse with the form's corrections
*replayed* in the order they were made: a correction applies while the form, as the parse and the
corrections before it leave it, still shows the old value the clerk saw; otherwise it is *stale*
(kept, listed, not applied). Nothing is keyed by a parsed row's id: the importer deletes and
re-inserts those when a file changes.

Rows are named by their index in the parse (``indicators[3]``: the 4th parsed row, as issues name
it), which does not move when a clerk adds, deletes or reorders rows; a row a clerk added is
``indicators[c17]`` (17: the correction that added it). When the file changed and the index now
holds another row, the row is looked up by its 三级 name (if exactly one row has it).

The result of replaying is stored (``corrected_forms``, ``corrected_indicators``,
``resolved_issues``) for the analyst views, and rebuilt whenever a correction is recorded or undone
and — through :func:`reapply_corrections`, which the importer calls — whenever the file is imported
again. Every function here works in the caller's transaction and commits nothing.

Functions that read or change forms on a user's behalf take a :class:`~goalforms.pipeline.scope.Scope`
(the units the user is limited to; None: every form): a form outside it is not found.

The modules, from the bottom layer up:

- :mod:`.model`: field paths, the state a form is in (RowState, FormState), a clerk's Change;
- :mod:`.fields`: what a layout lets a clerk correct, under which printed labels;
- :mod:`.replaying`: a stored form as parsed, and each correction replayed over it (reads only);
- :mod:`.store`: the corrected copy written, statuses updated, the form reviewed again;
- :mod:`.recording`: a clerk's changes checked, recorded, undone;
- :mod:`.exchange`: corrections exported to and applied from CSV/JSON files;
- :mod:`.queries`: the open-issue lists clerks work from.

The review (``pipeline/review/store.py``) reads :mod:`.replaying` and :mod:`.store` calls the
review, so this package's names are loaded on first use (PEP 562) rather than here: importing
``goalforms.pipeline.corrections.replaying`` must not pull in :mod:`.store` (and with it the
review being imported). The modules are named ``replaying``/``recording`` so that they do not
shadow the functions ``replay`` and ``record`` on the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goalforms.pipeline.corrections.exchange import (
        EXPORT_COLUMNS,
        PlannedChange,
        apply_changes,
        export_corrections,
        read_corrections_file,
        write_corrections,
    )
    from goalforms.pipeline.corrections.fields import (
        budget_fields,
        field_hint,
        header_fields,
        row_fields,
        vocabulary,
    )
    from goalforms.pipeline.corrections.model import (
        ACTIONS,
        ADD,
        DELETE,
        FORM_FIELD,
        LATER_ROW_FIELDS,
        MOVE,
        REORDER,
        RESOLVE,
        ROW_FIELDS,
        ROWS,
        SET,
        SIBLING_ROW_COLUMNS,
        Change,
        CorrectionError,
        FormState,
        IssueState,
        NotFound,
        RowState,
        as_text,
    )
    from goalforms.pipeline.corrections.queries import V_FORMS, V_ISSUES, OpenIssue, open_issues
    from goalforms.pipeline.corrections.recording import _correction as _correction
    from goalforms.pipeline.corrections.recording import read_value, record, undo
    from goalforms.pipeline.corrections.replaying import (
        Replay,
        corrections_of,
        find_form,
        parsed_state,
        replay,
    )
    from goalforms.pipeline.corrections.replaying import (
        _apply as _apply,
    )
    from goalforms.pipeline.corrections.store import (
        describe_stale,
        reapply_corrections,
        refresh_all,
        refresh_form,
    )

_HOME: dict[str, str] = {
    **dict.fromkeys(("EXPORT_COLUMNS", "PlannedChange", "apply_changes", "export_corrections",
                     "read_corrections_file", "write_corrections"), "exchange"),
    **dict.fromkeys(("budget_fields", "field_hint", "header_fields", "row_fields", "vocabulary"), "fields"),
    **dict.fromkeys(("ACTIONS", "ADD", "DELETE", "FORM_FIELD", "LATER_ROW_FIELDS", "MOVE", "REORDER", "RESOLVE",
                     "ROW_FIELDS", "ROWS", "SET", "SIBLING_ROW_COLUMNS", "Change", "CorrectionError", "FormState",
                     "IssueState", "NotFound", "RowState", "as_text"), "model"),
    **dict.fromkeys(("V_FORMS", "V_ISSUES", "OpenIssue", "open_issues"), "queries"),
    # _correction and _apply: the single steps, which tests of new layouts' fields drive directly.
    **dict.fromkeys(("_correction", "read_value", "record", "undo"), "recording"),
    **dict.fromkeys(("Replay", "_apply", "corrections_of", "find_form", "parsed_state", "replay"), "replaying"),
    **dict.fromkeys(("describe_stale", "reapply_corrections", "refresh_all", "refresh_form"), "store"),
}

__all__ = [
    "ACTIONS",
    "ADD",
    "Change",
    "CorrectionError",
    "DELETE",
    "EXPORT_COLUMNS",
    "FORM_FIELD",
    "FormState",
    "IssueState",
    "LATER_ROW_FIELDS",
    "MOVE",
    "NotFound",
    "OpenIssue",
    "PlannedChange",
    "REORDER",
    "RESOLVE",
    "ROWS",
    "ROW_FIELDS",
    "Replay",
    "RowState",
    "SET",
    "SIBLING_ROW_COLUMNS",
    "V_FORMS",
    "V_ISSUES",
    "apply_changes",
    "as_text",
    "budget_fields",
    "corrections_of",
    "describe_stale",
    "export_corrections",
    "field_hint",
    "find_form",
    "header_fields",
    "open_issues",
    "parsed_state",
    "read_corrections_file",
    "read_value",
    "reapply_corrections",
    "record",
    "refresh_all",
    "refresh_form",
    "replay",
    "row_fields",
    "undo",
    "vocabulary",
    "write_corrections",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found once; later look-ups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
