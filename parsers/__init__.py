"""File readers (``readers/``: a file into a :class:`~goalforms.parsers.grid.Grid`) and layout
parsers (``layouts/``: a grid into forms)."""
