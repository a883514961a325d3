"""The SHA-256 kept beside stored bytes (issued PDFs, declared XML fluxes), computed again to check them."""

import hashlib

from django.db import connection
from django.db.models import BinaryField, CharField, F, Func, Value


def short_digest(digest: str) -> str:
    return f"{digest[:12]}…" if digest else "(vide)"


def with_digest(queryset, column: str):
    """Rows with `computed_sha256` (hex) of their `column`: computed by PostgreSQL itself, or here on SQLite (which
    has no SHA-256 of bytes), so that PostgreSQL never sends the documents' bytes for this check."""
    if connection.vendor == "postgresql":
        digest = Func(
            Func(F(column), function="sha256", output_field=BinaryField()),
            Value("hex"),
            function="encode",
            output_field=CharField(),
        )
        return [(row, row.computed_sha256) for row in queryset.annotate(computed_sha256=digest).defer(column)]
    return [(row, hashlib.sha256(bytes(getattr(row, column))).hexdigest()) for row in queryset]
