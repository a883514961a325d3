"""Demo declarations to the Caisse des Dépôts for `make run` (called by `seed_demo` after the demo juries): never in
production. The identifiers are fictitious; every write goes through the services, dated when it happened
(certif.demo.history_at), with its audit trace.

- RNCP 16204: the eight holders of March and April 2023 are declared on 24 April 2023, well within three months. The
  Caisse des Dépôts accepts seven; it rejects Kévin Désiré, whose second first name was missing. Staff complete his
  file and declare him again on 4 May 2023: accepted.
- RNCP99901: two of the three holders of June 2025 are declared in July 2025 and accepted; the third, Sarah Nguyen, was
  never declared, and is overdue since 17 September 2025: the declaration page and the staff home say so.

Idempotent: a certification with a flux already recorded is left as it is.
"""

import datetime

from candidates import services as candidate_services
from candidates.models import CertificationAward
from certif.demo import DEMO_FICHE, DEMO_SUCCESSOR, history_at
from certif.models import Certification
from declarations import services as declarations
from declarations.models import HolderDeclaration
from declarations.services_receipts import receipt_record, report_build

D = datetime.date
DECLARANT = {"sender_id_client": "IRUP0042", "certifier_id_client": "IRUP0042", "contract_id": "MCFCER000123"}
REJECTED = "Désiré"
REJECTION = (
    "Titulaire non identifié : les prénoms transmis ne correspondent pas à ceux de l'état civil (deuxième prénom "
    "attendu)."
)
CORRECTION = {"second_first_name": "Olivier"}
NOT_DECLARED = "Nguyen"


def _declare(certification, awards, *, on, hour, staff) -> HolderDeclaration:
    with history_at(on, hour):
        return declarations.holder_declaration_create(
            certification=certification, award_ids=[award.pk for award in awards], actor=staff
        )


def _answer(declaration, *, accepted, rejected=None, on, staff) -> None:
    report = report_build(flux_id=declaration.flux_id, accepted=[a.number for a in accepted], rejected=rejected)
    with history_at(on, 9, 30):
        receipt_record(declaration=declaration, report=report, actor=staff)


def _awards(certification) -> list[CertificationAward]:
    return list(
        CertificationAward.objects.in_force()
        .filter(certification=certification)
        .select_related("candidate")
        .order_by("awarded_on", "number")
    )


def _settings(certification, *, on, staff) -> None:
    with history_at(on, 9):
        declarations.declarant_settings_save(certification=certification, actor=staff, **DECLARANT)


def create_demo_declarations(*, staff) -> int:
    """The number of fluxes this run recorded."""
    fluxes = 0
    certifications = {c.rncp_code: c for c in Certification.objects.filter(rncp_code__in=[DEMO_FICHE, DEMO_SUCCESSOR])}
    old = certifications.get(DEMO_FICHE)
    if old is not None and not HolderDeclaration.objects.filter(certification=old).exists():
        awards = [award for award in _awards(old) if award.awarded_on <= D(2023, 4, 4)]
        if awards:
            _settings(old, on=D(2023, 4, 12), staff=staff)
            first = _declare(old, awards, on=D(2023, 4, 24), hour=10, staff=staff)
            rejected = [award for award in awards if award.candidate.birth_name == REJECTED]
            _answer(
                first,
                accepted=[award for award in awards if award not in rejected],
                rejected={award.number: REJECTION for award in rejected},
                on=D(2023, 5, 2),
                staff=staff,
            )
            fluxes += 1
            for award in rejected:
                with history_at(D(2023, 5, 3), 11):
                    candidate_services.candidate_update(candidate=award.candidate, actor=staff, **CORRECTION)
            if rejected:
                again = _declare(old, rejected, on=D(2023, 5, 4), hour=10, staff=staff)
                _answer(again, accepted=rejected, on=D(2023, 5, 10), staff=staff)
                fluxes += 1
    new = certifications.get(DEMO_SUCCESSOR)
    if new is not None and not HolderDeclaration.objects.filter(certification=new).exists():
        awards = [
            award
            for award in _awards(new)
            if award.awarded_on <= D(2025, 12, 31) and award.candidate.birth_name != NOT_DECLARED
        ]
        if awards:
            _settings(new, on=D(2025, 7, 1), staff=staff)
            flux = _declare(new, awards, on=D(2025, 7, 8), hour=10, staff=staff)
            _answer(flux, accepted=awards, on=D(2025, 7, 15), staff=staff)
            fluxes += 1
    return fluxes
