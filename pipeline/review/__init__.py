"""Target review: rules as data that check what every form says (docs/review.md).

A *finding* is about the content of a form (a target that cannot be measured, sums that do not add
up); a parse *issue* stays about what the parse could not read. The two are never mixed.

- :mod:`.form`: the form as the rules see it (built from the corrected state of a stored form, or
  from the parse contract's JSON for crafted forms in tests);
- :mod:`.checks`: the named checks a rule's condition is built from (a plain registry);
- :mod:`.rules`: rule sets as TOML files, loaded and validated; the findings of a form;
- :mod:`.store`: findings stored beside each form, recomputed on import and on correction,
  accepted with a reason by a reviewer;
- :mod:`.batch`: the importer's review of a file, in two steps: :func:`~.batch.prepare_review`
  before the file's transaction (no database: the forms, every rule but the series ones, the
  scorecards), :func:`~.batch.review_imported` in it (ids, the other years, the writing);
- :mod:`.reads`: the few reads of that transaction, through the driver's own cursor.
"""

from goalforms.pipeline.review.form import ReviewForm, ReviewIndicator, form_from_contract
from goalforms.pipeline.review.rules import (
           Finding,
           Rule,
           RuleError,
           RuleSet,
           default_rule_sets,
           load_rule_set,
           review,
)

__all__ = ["Finding", "ReviewForm", "ReviewIndicator", "Rule", "RuleError", "RuleSet", "default_rule_sets",
           "form_from_contract", "load_rule_set", "review"]
