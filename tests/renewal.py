"""The renewed fiche the renewal tests stand on: an illustrative successor of RNCP 16204 (RNCP99901), installed
from a modified copy of 16204's export, with its own blocks and a registration in force since the old one ended."""

import copy
import datetime

from candidates import services as candidates
from candidates.models import Cohort
from certif import services as referential
from certif.models import AccessPathway, Block, Certification, PreparationPlace
from certif.referential import export_referential, import_referential

SUCCESSOR_CODE = "99901"
SUCCESSOR_JURY_DAY = datetime.date(2026, 6, 16)
NEW_TITLES = {
    1: "Réaliser le diagnostic du territoire et de l'entreprise de l'ESS",
    2: "Élaborer et conduire le plan de développement de l'entreprise de l'ESS",
    3: "Mettre en œuvre des pratiques internes conformes à la législation et aux valeurs de l'ESS",
    4: "Manager les équipes dans le respect des valeurs de l'ESS",
}


def install_successor(code: str = SUCCESSOR_CODE) -> Certification:
    old = Certification.objects.get(rncp_code="16204")
    data = copy.deepcopy(export_referential(old))
    data["certification"]["rncp_code"] = code
    data["certification"]["title"] = f"{old.title} (fiche renouvelée, exemple)"
    data["registrations"] = [
        {
            "act": "Décision de France compétences (exemple)",
            "publication": "",
            "publication_date": None,
            "in_force_from": "2023-04-17",
            "in_force_until": "2028-04-16",
            "level_note": "6",
        }
    ]
    for block in data["blocks"]:
        block["title"] = NEW_TITLES[block["number"]]
    successor, _ = import_referential(data)
    Certification.objects.filter(pk=successor.pk).update(previous_rncp_codes=["RNCP16204"], is_example=True)
    Certification.objects.filter(pk=old.pk).update(next_rncp_codes=[f"RNCP{code}"])
    successor.refresh_from_db()
    return successor


def new_blocks(successor) -> dict[int, Block]:
    return {block.number: block for block in Block.objects.filter(certification=successor)}


def old_blocks() -> dict[int, Block]:
    return {block.number: block for block in Block.objects.filter(certification__rncp_code="16204")}


# BC01 diagnostic ≈ part of old BC02; BC02 development plan ≈ old BC01 + BC02; BC04 team management ≈ old BC04;
# BC03 has none: it is evaluated on the new fiche.
TABLE = {1: [2], 2: [1, 2], 3: [], 4: [4]}


def record_table(successor, actor, table=TABLE):
    new, old = new_blocks(successor), old_blocks()
    for number, previous in table.items():
        referential.block_correspondences_set(
            block=new[number], previous_blocks=[old[n] for n in previous], actor=actor
        )


def successor_cohort(successor, actor, *, trainers=(), name="Promotion renouvelée", pathway_code="formation-continue"):
    cohort = Cohort(
        certification=successor,
        name=name,
        pathway=AccessPathway.objects.get(certification=successor, code=pathway_code),
        preparation_place=PreparationPlace.objects.filter(certification=successor).order_by("pk").first(),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    return candidates.cohort_save(cohort=cohort, trainers=list(trainers), actor=actor)
