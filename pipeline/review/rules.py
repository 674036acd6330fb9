"""Rule sets as data: TOML files of rules, each a named check with parameters, a severity, a
message with placeholders and where the rule comes from (docs/review.md).

A malformed file is refused whole, with every problem named (file, rule id, what is wrong), when
it is loaded — never half-applied, never discovered while thousands of forms are being reviewed.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from goalforms.errors import GoalformsError
from goalforms.pipeline.review.checks import (
    CHECKS,
    COMMON,
    FORM,
    INDICATOR,
    SERIES_CHECKS,
    Hit,
    _matches,
    matches,
)
from goalforms.pipeline.review.form import ReviewForm, ReviewIndicator

SEVERITIES = ("error", "warning", "info")
APPLIES_TO = ("form", "indicator", "series", "self_evaluation")
_RULE_KEYS = {"id", "applies_to", "check", "params", "severity", "message", "source", "dimensions", "layouts",
              "kinds", "description"}


class RuleError(GoalformsError):
    """A rule file that cannot be used; ``problems`` holds one sentence per problem."""

    def __init__(self, path: str | Path | None, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(path, "; ".join(self.problems))


@dataclass(frozen=True)
class Rule:
    id: str  # stable: findings and acceptances refer to it
    applies_to: str  # form / indicator / series / self_evaluation
    check: str  # a name of goalforms.pipeline.review.checks.CHECKS
    params: dict[str, Any]  # the check's defaults overlaid with the file's
    severity: str
    message: str  # str.format placeholders: the check's values and the common ones
    source: str  # where the rule comes from (a regulation, a reviewer's practice)
    description: str = ""
    dimensions: tuple[str, ...] = ()  # indicator rules: only indicators of these dimensions (globs)
    layouts: tuple[str, ...] = ()  # only forms of these layouts (empty: every layout)
    kinds: tuple[str, ...] = ()  # only forms of these kinds (target, self_evaluation, department; empty: all)
    rule_set: str = ""
    version: str = ""


@dataclass
class RuleSet:
    name: str
    version: str
    description: str
    rules: list[Rule]
    path: str = ""


@dataclass
class Finding:
    rule_id: str
    rule_set: str
    version: str
    severity: str
    message: str
    subject: str  # what it is about, stable across re-imports: a 三级 name, a budget item, a group, "form"
    field: str  # indicators[3], budget.current_year, header.plan_end, form
    position: int | None = None  # the indicator's position in the (corrected) form
    level3: str | None = None
    indicator_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "rule_set": self.rule_set, "version": self.version,
                "severity": self.severity, "message": self.message, "subject": self.subject, "field": self.field,
                "position": self.position, "level3": self.level3}


def _placeholders(message: str) -> set[str]:
    names = set()
    for _text, name, _spec, _conv in string.Formatter().parse(message):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return names


def _rule(data: dict[str, Any], where: str, set_name: str, version: str) -> tuple[Rule | None, list[str]]:
    problems: list[str] = []
    rid = data.get("id")
    label = f"rule {rid!r}" if rid else f"{where}: a rule without an id"
    if not isinstance(rid, str) or not rid:
        return None, [f"{where}: every rule needs an id"]
    unknown = set(data) - _RULE_KEYS
    if unknown:
        problems.append(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
    check = CHECKS.get(str(data.get("check")))
    if check is None:
        problems.append(f"{label}: unknown check {data.get('check')!r} (known: {', '.join(sorted(CHECKS))})")
    applies = data.get("applies_to")
    if applies not in APPLIES_TO:
        problems.append(f"{label}: applies_to must be one of {', '.join(APPLIES_TO)}, not {applies!r}")
    elif check is not None:
        if applies == "indicator" and check.level != INDICATOR:
            problems.append(f"{label}: check {check.name} looks at a whole form, not at an indicator")
        if applies in ("form", "series") and check.level != FORM:
            problems.append(f"{label}: check {check.name} looks at one indicator: applies_to must be indicator")
    severity = data.get("severity")
    if severity not in SEVERITIES:
        problems.append(f"{label}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    message = data.get("message")
    if not isinstance(message, str) or not message:
        problems.append(f"{label}: a message is required")
        message = ""
    if not data.get("source"):
        problems.append(f"{label}: say where the rule comes from (source)")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        problems.append(f"{label}: params must be a table")
        params = {}
    if check is not None:
        extra = set(params) - set(check.params)
        if extra:
            problems.append(f"{label}: check {check.name} has no parameter(s) {', '.join(sorted(extra))} "
                            f"(it takes: {', '.join(sorted(check.params)) or 'none'})")
        try:
            unknown_names = _placeholders(message) - set(COMMON) - set(check.provides)
        except ValueError as exc:
            problems.append(f"{label}: the message cannot be formatted ({exc})")
        else:
            if unknown_names:
                problems.append(f"{label}: unknown placeholder(s) {', '.join(sorted(unknown_names))} in the message "
                                f"(available: {', '.join(sorted(set(COMMON) | set(check.provides)))})")
    if problems or check is None:
        return None, problems
    merged = {**check.params, **params}
    return Rule(rid, str(applies), check.name, merged, str(severity), message, str(data["source"]),
                str(data.get("description") or ""), tuple(data.get("dimensions") or ()),
                tuple(str(x) for x in data.get("layouts") or ()), tuple(data.get("kinds") or ()), set_name,
                version), []


def parse_rule_set(text: str, where: str = "<rules>") -> RuleSet:
    """A rule set from TOML text; RuleError naming every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(where, [f"not valid TOML: {exc}"]) from None
    head = data.get("ruleset") or {}
    problems = []
    name, version = head.get("name"), head.get("version")
    if not name or not version:
        problems.append("the file needs a [ruleset] table with a name and a version")
    rules: list[Rule] = []
    seen: set[str] = set()
    for k, item in enumerate(data.get("rule") or []):
        rule, found = _rule(item, f"[[rule]] {k + 1}", str(name), str(version))
        problems += found
        if rule is not None:
            if rule.id in seen:
                problems.append(f"rule {rule.id!r}: the id is used twice")
            seen.add(rule.id)
            rules.append(rule)
    if not rules and not problems:
        problems.append("the file has no [[rule]]")
    if problems:
        raise RuleError(where, problems)
    return RuleSet(str(name), str(version), str(head.get("description") or ""), rules, where)


def load_rule_set(path: str | Path) -> RuleSet:
    """A rule file (``--rules FILE``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(file, [f"cannot read the rule file: {exc.strerror or exc}"]) from None
    return parse_rule_set(text, str(file))


@cache
def default_rule_sets() -> tuple[RuleSet, ...]:
    """The rule sets shipped with goalforms (pipeline/review/rule_sets/*.toml), by file name."""
    folder = resources.files(__package__).joinpath("rule_sets")
    found = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return tuple(parse_rule_set(f.read_text(encoding="utf-8"), f"rules/{f.name}") for f in found)


def combine(extra: Iterable[RuleSet] = ()) -> list[RuleSet]:
    """The shipped rule sets and the user's; a user rule with a shipped rule's id replaces it."""
    sets = list(default_rule_sets())
    added = list(extra)
    replaced = {r.id for s in added for r in s.rules}
    out = [RuleSet(s.name, s.version, s.description, [r for r in s.rules if r.id not in replaced], s.path)
           for s in sets]
    return out + added


def _is_self_evaluation(form: ReviewForm) -> bool:
    return form.kind == "self_evaluation" or any(
        i.score is not None or i.weight is not None or i.actual is not None for i in form.indicators)


def reads_series(rule: Rule) -> bool:
    """Whether the rule looks at the project's other years (``form.series``, built from other
    files' rows): the importer runs these in the file's transaction, every other rule before it."""
    return rule.applies_to == "series" or rule.check in SERIES_CHECKS


def _applies(rule: Rule, form: ReviewForm, self_evaluation: bool | None = None) -> bool:
    """Whether the rule looks at this form (``self_evaluation``: whether it is one, if known)."""
    if rule.layouts and form.layout not in rule.layouts:
        return False
    if rule.kinds and form.kind not in rule.kinds:
        return False
    if rule.applies_to == "series":
        return form.series is not None
    if rule.applies_to == "self_evaluation":
        return _is_self_evaluation(form) if self_evaluation is None else self_evaluation
    return True


def _message(rule: Rule, form: ReviewForm, hit: Hit) -> str:
    ind = hit.indicator
    values: dict[str, Any] = {
        "project": form.header.get("project_name") or "", "year": form.year if form.year is not None else "",
        "layout": form.layout, "field": hit.field, "subject": hit.subject,
        "level3": ind.level3 if ind else "", "raw": ind.raw if ind else "",
        "dimension": (ind.dimension or "") if ind else "", "position": ind.position if ind else "",
    }
    values.update(hit.values)
    return rule.message.format_map(values)


def run_rule(rule: Rule, form: ReviewForm) -> list[Finding]:
    """The findings of one rule on one form."""
    return _findings(rule, form) if _applies(rule, form) else []


def run_rules(rules: Iterable[tuple[int, Rule]], form: ReviewForm) -> list[tuple[int, Finding]]:
    """The findings of numbered rules on one form, each with its rule's number, in the rules'
    order (whether the form is a self-evaluation is asked once, not once per such rule)."""
    self_evaluation: bool | None = None
    out: list[tuple[int, Finding]] = []
    for k, rule in rules:
        if rule.applies_to == "self_evaluation" and self_evaluation is None:
            self_evaluation = _is_self_evaluation(form)
        if _applies(rule, form, self_evaluation):
            out += [(k, x) for x in _findings(rule, form)]
    return out


def _findings(rule: Rule, form: ReviewForm) -> list[Finding]:
    check = CHECKS[rule.check]
    hits: list[Hit] = []
    if check.level == INDICATOR:
        rows = form.indicators
        if rule.dimensions:  # matches() per row, without its call and conversion each time
            patterns = tuple(rule.dimensions)
            rows = [ind for ind in rows if ind.dimension is not None and _matches(ind.dimension, patterns)]
        function, params = check.function, rule.params
        for ind in rows:
            values = function(form, ind, params)
            if values is not None:
                hits.append(Hit(ind.level3, ind.key, values, ind))
    else:
        hits = [h for h in check.function(form, rule.params)
                if not rule.dimensions or h.indicator is None or matches(h.indicator.dimension, rule.dimensions)]
    out = []
    for hit in hits:
        row: ReviewIndicator | None = hit.indicator
        out.append(Finding(rule.id, rule.rule_set, rule.version, rule.severity, _message(rule, form, hit), hit.subject,
                           hit.field, row.position if row else None, row.level3 if row else None,
                           row.indicator_id if row else None))
    return out


def review(form: ReviewForm, rule_sets: Iterable[RuleSet] | None = None) -> list[Finding]:
    """Every finding of ``form`` under ``rule_sets`` (default: the shipped ones), in rule order."""
    rules = (rule for rule_set in (default_rule_sets() if rule_sets is None else rule_sets) for rule in rule_set.rules)
    return [x for _k, x in run_rules(enumerate(rules), form)]
