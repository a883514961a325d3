"""Reads of the referential that every room shares."""

from certif.models import Certification


def current_certification() -> Certification | None:
    """The certification the application runs: the first one installed (the fiche shipped with the application,
    installed by `migrate`). A fiche loaded later with `load_fiche` is another certification, reached by its code."""
    return Certification.objects.order_by("pk").first()
