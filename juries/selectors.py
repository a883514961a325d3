"""Reads of the juries' data that several rooms share (pages, documents, statistics, exports)."""

from django.db.models import CharField, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from juries.models import RECTIFICATION_ORDER, Rectification


def latest_rectification_outcome() -> Subquery:
    """The outcome of the decision's latest rectification (none when never rectified), to annotate decisions.

    "Latest" is the last in RECTIFICATION_ORDER, as `Decision.current_outcome` reads it in Python.
    """
    latest_first = [f"-{name}" for name in RECTIFICATION_ORDER]
    latest = Rectification.objects.filter(decision=OuterRef("pk")).order_by(*latest_first).values("outcome")[:1]
    return Subquery(latest, output_field=CharField())


def rectified_outcome() -> Coalesce:
    """The decision's outcome as rectified: its latest rectification's, otherwise the decision's own."""
    return Coalesce(latest_rectification_outcome(), F("outcome"), output_field=CharField())
