"""goalforms: archived performance-target forms into a relational database.

The code lives in the repository folders ``parsers/`` (file readers and layout parsers),
``pipeline/`` (stages and orchestration) and ``schema/`` (database models and migrations);
they are installed as ``goalforms.parsers``, ``goalforms.pipeline`` and ``goalforms.schema``.
"""

__version__ = "0.1.0"
