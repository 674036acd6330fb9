"""Validate and flag: what a clerk must look at, beyond what parsing already reported.

- ``missing_target``: a 三级 row with no target value.
- ``truncated_columns``: in a form whose cells lost their right part, every target and every
  header/budget value that may be cut.
- ``truncated_text``: a header text that visibly stops mid-sentence.
"""

from __future__ import annotations

import regex

from goalforms.pipeline.model import Form, Issue

# Prose whose last sentence has clause punctuation and ends on an ideograph has visibly been cut
# off; a list item ("3、做好…工作") or a heading-like phrase without commas has not.
_CLAUSE = regex.compile(r"[，,]")
_SENTENCE_END = regex.compile(r"[。！？；;!?\n]|\d+[、.](?!\d)")
_ENDS_MID_SENTENCE = regex.compile(r"\p{Han}$")
_PROSE_FIELDS = ("goal",)
_MIN_PROSE = 20


def validate(form: Form) -> Form:
    issues = form.issues
    truncated = any(i.code == "truncated_columns" for i in issues)
    for index, indicator in enumerate(form.indicators):
        field = f"indicators[{index}].raw"
        if indicator.kind == "missing":
            issues.append(Issue("missing_target", "error", f"三级指标 {indicator.level3!r} has no target value",
                                indicator.where, field))
        elif truncated:
            issues.append(Issue("truncated_columns", "error",
                                f"target {indicator.raw!r} of {indicator.level3!r} may be cut off", indicator.where,
                                field))
    texts = {f"header.{k}": form.header.get(k) for k in _PROSE_FIELDS}
    texts |= {f"header_extra.{k}": v for k, v in form.extra.items()}
    for field, text in texts.items():
        # The last sentence is the text's end: only a text ending on an ideograph can stop
        # mid-sentence, so only such a text is split (most end with 。).
        if not isinstance(text, str) or not _ENDS_MID_SENTENCE.search(text[-1:]):
            continue
        last_sentence = _SENTENCE_END.split(text)[-1]
        if (len(last_sentence) >= _MIN_PROSE and _CLAUSE.search(last_sentence)
                and _ENDS_MID_SENTENCE.search(last_sentence)):
            issues.append(Issue("truncated_text", "warning", f"{field} stops mid-sentence: …{last_sentence[-12:]!r}",
                                form.sources.get(field, form.where), field))
    if truncated:
        for key, value in list(form.header.items()) + [(f"budget.{k}", v) for k, v in form.budget.items()]:
            name = key if key.startswith("budget.") else f"header.{key}"
            if value is None and key not in ("department", "project_nature"):
                issues.append(Issue("truncated_columns", "error", f"{name} has no readable value; its cell may have been cut off",
                                    form.sources.get(name, form.where), name))
    return form
