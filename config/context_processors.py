from django.utils.functional import SimpleLazyObject

from certif.models import Certification
from certif.permissions import is_president, is_staff, is_trainer
from certif.roles import role_labels, roles_of


def _example_codes() -> list[str]:
    return [f"RNCP{code}" for code in Certification.objects.filter(is_example=True).values_list("rncp_code", flat=True)]


def example_fiches(request):
    """The illustrative fiches installed here, for the banner every page shows: one query, only when a page reads
    it (the base template does)."""
    return {"example_fiche_codes": SimpleLazyObject(_example_codes)}


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {
            "user_roles": frozenset(),
            "is_staff_member": False,
            "is_trainer": False,
            "is_president": False,
            "role_labels": [],
        }
    return {
        "user_roles": roles_of(user),
        "is_staff_member": is_staff(user),
        "is_trainer": is_trainer(user),
        "is_president": is_president(user),
        "role_labels": role_labels(user),
    }


# The menu entry that holds each part of the site, by URL namespace (and, inside candidates, the cohort pages).
_SECTION_BY_NAMESPACE = {
    "certif": "certifications",
    "candidates": "candidates",
    "evaluation": "evaluations",
    "declarations": "declarations",
    "statistics": "statistics",
    "juries": "juries",
    "documents": "juries",
    "admin": "admin",
}


def current_section(request):
    """The menu entry of the page shown, which the menu marks `aria-current="page"` (no query)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"current_section": ""}
    if match.url_name == "home" and not match.namespace:
        return {"current_section": "home"}
    namespace = match.namespaces[0] if match.namespaces else ""
    section = _SECTION_BY_NAMESPACE.get(namespace, "")
    if section == "candidates" and (match.url_name or "").startswith("cohort"):
        section = "cohorts"
    return {"current_section": section}
