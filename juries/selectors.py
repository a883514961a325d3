"""Reads about jury sessions that more than one room needs (the pages, the home page, the documents)."""

from django.db.models import Count, Q, QuerySet

from juries.models import JurySession, JurySessionStatus


def sessions_presided_by(user) -> QuerySet[JurySession]:
    """The sessions whose president is linked to this account."""
    return JurySession.objects.filter(members__user=user, members__is_president=True)


def president_pending_sessions(user) -> QuerySet[JurySession]:
    """The prepared sessions a president presides (home page), with their candidates and missing decisions."""
    return (
        sessions_presided_by(user)
        .filter(status=JurySessionStatus.PREPARED)
        .annotate(
            candidate_count=Count("presentations", distinct=True),
            missing=Count("presentations__decisions", filter=Q(presentations__decisions__outcome=""), distinct=True),
        )
        .order_by("date", "pk")
    )
