"""Reads of the referential that every room shares."""

import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from certif.models import Certification, Registration


def certifications_with_registrations() -> QuerySet[Certification]:
    """Every installed certification, with what `in_force_on` / `force_label` read (one query more)."""
    return Certification.objects.prefetch_related(
        Prefetch("registrations", queryset=Registration.objects.order_by("in_force_from"))
    ).order_by("rncp_code")


def certifications_in_force_first(day: datetime.date | None = None) -> list[Certification]:
    """Every installed certification, those in force on `day` (today) first, then by code: the order of a choice."""
    day = day or timezone.localdate()
    certifications = list(certifications_with_registrations())
    return sorted(certifications, key=lambda certification: not certification.in_force_on(day))


def certification_choice_label(certification: Certification, day: datetime.date | None = None) -> str:
    """« RNCP99901 — title (en vigueur) » / « … (enregistrement terminé le 17/04/2023) », as choices read."""
    return f"{certification.display_name} ({certification.force_label(day or timezone.localdate())})"


def certification_filter(request) -> tuple[Certification | None, list[Certification]]:
    """The certification a list page is filtered by (`?certification=16204`, None for all of them) and every
    installed certification (the filter's choices), in one query."""
    certifications = list(Certification.objects.order_by("rncp_code"))
    code = request.GET.get("certification", "").strip().removeprefix("RNCP")
    chosen = next((item for item in certifications if item.rncp_code == code), None) if code else None
    return chosen, certifications
