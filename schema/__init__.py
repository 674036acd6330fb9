"""Database models and migrations. The schema is created and evolved only through Alembic
migrations (``migrations/versions``); :func:`goalforms.schema.db.connect` upgrades to head."""
