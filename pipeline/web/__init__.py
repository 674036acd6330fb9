"""The clerks' web app (``goalforms serve``): a queue of forms to check, each form beside its
source, and corrections recorded through goalforms.pipeline.corrections. Server-rendered pages
(FastAPI + Jinja2 with autoescape) with a little vanilla JavaScript; docs/clerks.md."""

from goalforms.pipeline.web.app import create_app, load_secret, secret_path_for

__all__ = ["create_app", "load_secret", "secret_path_for"]
