"""Plausibility: values that read fine but cannot be right, flagged whatever reader produced them.

Parsing and validating check that each value *reads* (a date is a date, an amount an amount).
This stage checks that the values *fit together*, so that a reader's mistake — labels glued into
a value, two amounts run together, a target in the name column — never passes unflagged. It
knows nothing of formats: only the form, its layout's labels (from the layout's TOML, through
:class:`LayoutSpec`) and, for the document checks, the rows the forms were cut from.

Codes (docs/contract.md lists them with their meanings):

- ``glued_label`` (error): a header value holds a label of the layout (``经常性专项业务费项目类别特定目标类``).
- ``glued_value`` (error): a short header value holds a date, an amount or another field's value.
- ``missing_field`` (error): a header value every form fills is null (lost).
- ``budget_mismatch`` (error): amounts that must reconcile do not (parts vs 年度资金申请总额, total < year).
- ``implausible_amount`` (error): an amount ≥ 1000× every other amount of the form (two amounts glued),
  or an amount with fractions of a fen (``1094910000.0001``: a float artefact).
- ``date_order`` (error): plan_end before plan_start.
- ``implausible_date`` (warning): a plan date more than 10 years from the form's year.
- ``year_mismatch`` (warning): the form's year lies outside its plan dates.
- ``unparsed_form_title`` (error): a title of a known layout inside a line that did not start a form.
- ``no_indicators`` (error): a form with an indicator table header but no indicator.
- ``sparse_targets`` (error): the target column is empty in most rows (the column was lost or shifted).
- ``target_is_label`` (error): a target that is (or holds) a level label or a table header.
- ``target_looks_like_name`` (warning): a target shaped like a 三级 name (``…满意度``, no figure, no verdict).
- ``glued_target`` (error): a 三级 name ending in a target (``…满意率≥95%``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache, lru_cache

import regex

from goalforms.parsers.grid import Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.pipeline.model import Form, Issue

# Fields every form of the seeds fills (2020 marks them required, 项目名称*); a null is a lost value.
# 绩效类型 and 是否含有政府购买服务 are left blank on real forms.
_REQUIRED = ("project_name", "unit", "department", "project_category", "project_nature")
# A date or an amount inside a name or a category: a neighbouring cell's value glued on.
_GLUED_FIGURE = regex.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2}(?!\d)")
# Header fields holding a short value (a name, a category): a label inside one is never right.
# Prose (goal, header_extra) may quote a label in a sentence, so it is not checked.
_SHORT_FIELDS = ("project_name", "unit", "department", "project_category", "project_nature", "performance_type")
# Two amounts run together make one ≥ 1000× its neighbours; genuine spreads on these forms
# (a multi-year total against one year's appropriation) stay well below that.
_GLUED_RATIO = 1000
_FAR_YEARS = 10
_SPARSE_SHARE = 0.5
_SPARSE_MIN_ROWS = 4
# A target printed at the end of a 三级 name: an operator and a number (unit optional), or a
# bare percentage.
_TRAILING_TARGET = regex.compile(
    r"(?:(?:[=＝≥≤＞＜≧≦]|>=?|<=?)\s*[-+]?\d+(?:\.\d+)?\s*(?:[%％]|[(（][^()（）]{0,8}[)）]|[^\d\s()（）]{1,3})?"
    r"|(?<![\d.])\d+(?:\.\d+)?\s*[%％])\s*$"
)
# A 三级 name's usual endings; a target ending so, without a figure, reads like a name — unless
# it reads like a verdict (提高…, 不低于…): 效率 and 提高知晓度 are targets.
_NAME_ENDING = regex.compile(r"(?:(?<!效)率|满意度|知晓度|认可度|及时性|规范性|合理性|健全性|有效性|完整性|数量|人数|次数)$")
_VERDICT_START = regex.compile(r"^(?:提高|提升|达到|确保|保证|保持|不低于|不高于|高于|低于|逐步|有效|明显|进一步|增强|加强|降低|减少)")
_DIGIT = regex.compile(r"\d")
_MIN_NAME_LIKE = 5
_SPECIFIC_CAPTION = 6


@cache
def _labels_of(layout: str) -> tuple[str, ...]:
    """Every label the layout prints (header, budget, text blocks, captions, table header, title),
    compacted and without the trailing colon, longest first."""
    spec = LAYOUTS[layout].spec
    texts: list[str] = []
    for table in (spec.fields, spec.text_blocks, spec.budget):
        for spellings in table.values():
            texts += spellings
    # Short captions (项目资金, 绩效目标) are ordinary words of names and goals too.
    texts += [caption for caption in spec.captions if len(compact(caption)) >= _SPECIFIC_CAPTION]
    for column, names in spec.table.items():
        if column != "side_labels":
            texts += names
    texts += spec.titles
    labels = {compact(t).rstrip("：:") for t in texts}
    # Bare words ("项目资金") are also parts of ordinary names: only labels long enough to be
    # unambiguous are looked for.
    return tuple(sorted((label for label in labels if len(label) >= 4), key=len, reverse=True))


@lru_cache(maxsize=1 << 12)
def _glued_label(layout: str, text: str) -> str | None:
    """The first (longest) label of the layout inside a compacted header value. Kept per text: units,
    departments and categories repeat from form to form."""
    return next((label for label in _labels_of(layout) if label in text), None)


def _where(form: Form, field: str) -> str:
    return form.sources.get(field, form.where)


def check_header(form: Form, spec: LayoutSpec) -> list[Issue]:
    issues = []
    flagged = {i.field for i in form.issues}
    # The short values compacted once (each is looked for inside the others).
    compacted = {k: compact(v) for k in _SHORT_FIELDS if isinstance(v := form.header.get(k), str)}
    for name in _SHORT_FIELDS:
        value = form.header.get(name)
        field = f"header.{name}"
        if not isinstance(value, str):
            if value is None and name in _REQUIRED and name in spec.fields and field not in flagged:
                issues.append(Issue("missing_field", "error",
                                    f"{field} is empty: the form always fills it, so its value was probably lost",
                                    _where(form, field), field))
            continue
        text = compact(value)
        label = _glued_label(spec.id, text)
        if label is not None:
            issues.append(Issue("glued_label", "error",
                                f"{field} {value!r} holds the label {label!r}: a neighbouring cell was glued into it",
                                _where(form, field), field))
            continue
        glued = _GLUED_FIGURE.search(text)
        other = None if name == "project_name" else next(
            (f"header.{k}" for k in _SHORT_FIELDS
             if k != name and (v := compacted.get(k)) is not None and len(v) >= 4 and v in text and v != text), None)
        if glued or other:
            what = f"the figure {glued.group()!r}" if glued else f"the value of {other}"
            issues.append(Issue("glued_value", "error",
                                f"{field} {value!r} holds {what}: a neighbouring cell was glued into it",
                                _where(form, field), field))
    for name in ("plan_start", "plan_end"):
        field = f"header.{name}"
        if name in spec.fields and form.header.get(name) is None and field not in flagged:
            issues.append(Issue("missing_field", "error",
                                f"{field} is empty: the form always fills it, so its value was probably lost",
                                _where(form, field), field))
    return issues


def _amount(form: Form, key: str) -> Decimal | None:
    value = form.budget.get(key)
    return Decimal(value) if value is not None else None


def check_budget(form: Form) -> list[Issue]:
    issues = []
    amounts = {k: _amount(form, k) for k in form.budget}  # (a key the form lacks: None, as _amount says)
    total, year = amounts.get("total"), amounts.get("current_year")
    parts = [amounts.get(k) for k in ("fiscal_appropriation", "carryover", "other_funds")]
    if year is not None and all(p is not None for p in parts):
        summed = sum(p for p in parts if p is not None)
        if summed != year:
            issues.append(Issue("budget_mismatch", "error",
                                f"budget.current_year {year} is not 当年财政拨款 + 上年结转资金 + 其他资金 = {summed}",
                                _where(form, "budget.current_year"), "budget.current_year"))
    if total is not None and year is not None and total < year:
        issues.append(Issue("budget_mismatch", "error",
                            f"budget.total {total} is smaller than this year's budget.current_year {year}",
                            _where(form, "budget.total"), "budget.total"))
    for key, amount in amounts.items():
        # Yuan amounts stop at the fen: more decimals are a float artefact or a misread figure.
        if amount is not None and -amount.as_tuple().exponent > 2:  # type: ignore[operator]
            field = f"budget.{key}"
            issues.append(Issue("implausible_amount", "error",
                                f"{field} {amount} has fractions of a fen: a float artefact or a misread figure",
                                _where(form, field), field))
    present = {k: v for k, v in amounts.items() if v is not None and v > 0}
    for key, value in present.items():
        others = [v for k, v in present.items() if k != key]
        if others and value >= _GLUED_RATIO * max(others):
            field = f"budget.{key}"
            issues.append(Issue("implausible_amount", "error",
                                f"{field} {value} is over {_GLUED_RATIO}× every other amount of the form "
                                f"(largest {max(others)}): two amounts glued together?", _where(form, field), field))
    return issues


def check_dates(form: Form) -> list[Issue]:
    issues = []
    if form.year is None:
        issues.append(Issue("missing_field", "error", "the form's year (…年度 under the title) was not found",
                            form.where, "year"))
    start, end = form.header.get("plan_start"), form.header.get("plan_end")
    if isinstance(start, str) and isinstance(end, str) and end < start:
        issues.append(Issue("date_order", "error", f"header.plan_end {end} is before header.plan_start {start}",
                            _where(form, "header.plan_end"), "header.plan_end"))
    years = {}
    for name, value in (("plan_start", start), ("plan_end", end)):
        if not isinstance(value, str):
            continue
        years[name] = int(value[:4])
        if form.year is not None and abs(years[name] - form.year) > _FAR_YEARS:
            field = f"header.{name}"
            issues.append(Issue("implausible_date", "warning",
                                f"{field} {value} is more than {_FAR_YEARS} years from the form's year {form.year}",
                                _where(form, field), field))
    if form.year is not None and len(years) == 2 and years["plan_start"] <= years["plan_end"]:
        if not years["plan_start"] <= form.year <= years["plan_end"]:
            issues.append(Issue("year_mismatch", "warning",
                                f"the form's year {form.year} lies outside its plan {start} – {end}", form.where, "year"))
    return issues


def _level_labels(spec: LayoutSpec) -> tuple[str, ...]:
    vocabulary = spec.vocabulary
    return tuple(vocabulary.level1) + tuple(vocabulary.parent)


def _indicator_labels(spec: LayoutSpec) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """The layout's level names, those of them ending in 指标/目标, and its table-header and side
    labels: what a target must not be (made once per layout, see lookups)."""
    found = _INDICATOR_LABELS.get(id(spec))
    if found is None or found[0] is not spec:
        levels = _level_labels(spec)
        # Level names ending in 指标/目标 are unmistakable inside a text; short ones (数量, 满意度)
        # are ordinary words of targets ("满意度达到 95%以上"), so only a target that *is* one counts.
        long_levels = tuple(name for name in levels if name.endswith(("指标", "目标")))
        table_labels = {name for column, names in spec.table.items() for name in names} | set(spec.side_labels)
        if len(_INDICATOR_LABELS) >= 64:  # layouts loaded again and again (tests, user layouts)
            _INDICATOR_LABELS.clear()
        found = _INDICATOR_LABELS[id(spec)] = (spec, (frozenset(levels), long_levels, frozenset(table_labels)))
    return found[1]


# By the spec's identity, the spec kept with its answers (as layouts/lookups.py does).
_INDICATOR_LABELS: dict[int, tuple[LayoutSpec, tuple[frozenset[str], tuple[str, ...], frozenset[str]]]] = {}


def check_indicators(form: Form, spec: LayoutSpec) -> list[Issue]:
    issues: list[Issue] = []
    indicators = form.indicators
    if not indicators:
        if not any(i.code == "missing_table" for i in form.issues):
            issues.append(Issue("no_indicators", "error", "the form's indicator table holds no indicator",
                                form.where, "indicators"))
        return issues
    missing = sum(1 for i in indicators if i.kind == "missing")
    if len(indicators) >= _SPARSE_MIN_ROWS and missing > _SPARSE_SHARE * len(indicators):
        issues.append(Issue("sparse_targets", "error",
                            f"{missing} of {len(indicators)} indicators have no target: the target column was "
                            "probably lost or read into another column", form.where, "indicators"))
    levels, long_levels, table_labels = _indicator_labels(spec)
    for index, indicator in enumerate(indicators):
        raw = compact(indicator.raw)
        field = f"indicators[{index}].raw"
        # (A long level name holds 指标 or 目标: a target holding neither holds none of them.)
        if raw and (raw in levels or raw in table_labels
                    or (("指标" in raw or "目标" in raw) and any(name in raw for name in long_levels))):
            issues.append(Issue("target_is_label", "error",
                                f"the target {indicator.raw!r} of {indicator.level3!r} is a level label or a table "
                                "header: the row's cells were shifted", indicator.where, field))
        elif (indicator.kind == "qualitative" and len(raw) >= _MIN_NAME_LIKE and _NAME_ENDING.search(raw)
              and not _VERDICT_START.match(raw)):
            issues.append(Issue("target_looks_like_name", "warning",
                                f"the target {indicator.raw!r} of {indicator.level3!r} reads like a 三级 name, not a "
                                "target value", indicator.where, field))
        name = indicator.level3
        m = _TRAILING_TARGET.search(name) if _DIGIT.search(name) else None  # (a target holds a digit)
        if m and m.start() > 0:
            issues.append(Issue("glued_target", "error",
                                f"the 三级 name {name!r} ends in a target ({m.group().strip()!r}): two cells glued",
                                indicator.where, f"indicators[{index}].level3"))
    return issues


def check_form(form: Form, spec: LayoutSpec) -> Form:
    """Add the plausibility issues of one form (after normalise and validate)."""
    form.issues.extend(check_header(form, spec))
    form.issues.extend(check_budget(form))
    form.issues.extend(check_dates(form))
    form.issues.extend(check_indicators(form, spec))
    return form


# What may follow a title on its line: nothing, or the form's year (``(2026 年度)``).
_AFTER_TITLE = regex.compile(r"^(?:[(（]?\d{4}年度?[)）]?)?$")


# The end of a line where a year follows its title (``2026年度)``, ``2026年``; at most 7 characters
# without the opening bracket): the only thing that may follow a title.
_YEAR_TAIL = regex.compile(r"\d{4}年度?[)）]?$")


def _glued_title(text: str, titles: tuple[str, ...]) -> str | None:
    """The layout title a line ends with (or ends with before the year), if any. ``titles``: every
    layout's titles; a line that neither ends with one nor with a year holds none (the common case,
    tested first: every line of every file comes here)."""
    # (A year tail ends with 年, 年度 or a bracket after them: 年 among the last three characters.)
    if not text.endswith(titles) and ("年" not in text[-3:] or not _YEAR_TAIL.search(text[-7:])):
        return None
    for parser in LAYOUTS.values():
        for title in parser.spec.titles:
            at = text.rfind(title)
            if at >= 0 and _AFTER_TITLE.match(text[at + len(title) :]):
                return title
    return None


def _is_header_label(row: Row) -> bool:
    return any(parser.spec.match_label(cell.text) is not None for parser in LAYOUTS.values() for cell in row.filled)


def check_document(rows: Sequence[Row], starts: Iterable[Row], forms: list[Form]) -> None:
    """Flag a layout's title ending a line that did not start a form (e.g. glued to the previous
    line after a form feed): a form may have been lost or run into its neighbour. The issue goes
    to the form the line lies in. Above the first form, a title-like line is the collection title
    (…申报表汇总表 does not end on the title) unless header labels follow it before the first
    form: then a form was lost there, and the first form gets the issue."""
    if not forms:
        return
    started = set(starts)  # rows compare by value: recognise may have rebuilt them (split titles)
    # Equal rows have equal texts: the cheap test first (hashing a row hashes all its cells).
    started_texts = {row.joined for row in started}
    titles = tuple(title for parser in LAYOUTS.values() for title in parser.spec.titles)
    form_index = -1
    for i, row in enumerate(rows):
        text = row.joined
        if text in started_texts and row in started:
            form_index += 1
            continue
        title = _glued_title(compact(text), titles)
        if title is None:
            continue
        if form_index < 0:
            before_first = itertools.takewhile(lambda r: r not in started, rows[i + 1 :])
            if not any(_is_header_label(r) for r in before_first):
                continue
        forms[max(form_index, 0)].issues.append(
            Issue("unparsed_form_title", "error",
                  f"the title {title!r} ends a line that did not start a form: a form may have been lost or "
                  "joined to this one", str(row.where), None))
