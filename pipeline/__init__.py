"""Stages and orchestration: read → recognise → parse → normalise → validate → load.

Library first: the CLI (``cli.py``) only translates arguments, results and errors.
"""

from goalforms.pipeline.parse import parse_file

__all__ = ["parse_file"]
