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
