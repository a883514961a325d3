"""The referential as JSON: `export_fiche` writes it, `load_fiche` and the post-migrate install read it.

The format ("mpes-referentiel/1") is the stable machine-readable form of a fiche; the copy of RNCP 16204
shipped in `certif/data/rncp-16204.json` is transcribed from the fiche `certif/data/fiche-rncp-16204.txt`.
"""

import datetime
import re
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from certif.models import (
    AccessPathway,
    Block,
    BlockCorrespondence,
    Certification,
    Competence,
    Grid,
    JuryCompositionRule,
    PreparationPlace,
    RatingScale,
    Registration,
    RomeCode,
    ScaleLevel,
)
from certif.validation import BoundedJsonError, bounded_json

FORMAT = "mpes-referentiel/1"
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_REFERENTIAL = DATA_DIR / "rncp-16204.json"

CERTIFICATION_FIELDS = [
    "rncp_code",
    "title",
    "acronym",
    "level_1969",
    "level_eqf",
    "nsf_code",
    "nsf_label",
    "summary",
    "sectors",
    "example_jobs",
    "certifier_name",
    "certifier_acronym",
    "signatory_title",
    "certification_place",
    "regulation",
    "accessible_new_caledonia",
    "accessible_french_polynesia",
    "acquired_blocks_validity",
    "statistics",
    "website",
]
# Added with renewals; a file written before them loads with their defaults.
RENEWAL_FIELDS = ["previous_rncp_codes", "next_rncp_codes", "is_example"]


def _number(value: Decimal) -> int | float:
    return int(value) if value == int(value) else float(value)


# A fiche is a few hundred kilobytes, four levels deep (certification → blocks → block → competences).
MAX_FILE_LENGTH = 10_000_000
MAX_DEPTH = 8


def read_referential_file(path: Path = DEFAULT_REFERENTIAL) -> dict:
    """The file's JSON; a file too large or too deeply nested to be a fiche raises ValueError before parsing."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return bounded_json(text, max_length=MAX_FILE_LENGTH, max_depth=MAX_DEPTH)
    except BoundedJsonError as error:
        raise ValueError(f"ce fichier n'est pas une fiche ({error})") from None


@transaction.atomic
def import_referential(data: dict) -> tuple[Certification, bool]:
    """Install a certification from its JSON form. Returns (certification, created).

    Idempotent and conservative: a certification that already exists is left exactly as staff keep it.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"Format de référentiel inconnu : {found!r} (attendu : {FORMAT}).")
    fields = data["certification"]
    existing = Certification.objects.filter(rncp_code=fields["rncp_code"]).first()
    if existing:
        return existing, False

    certification = _create_valid(
        Certification,
        **{name: fields[name] for name in CERTIFICATION_FIELDS},
        **{name: fields[name] for name in RENEWAL_FIELDS if name in fields},
        last_delivery_date=_date_or_none(fields.get("last_delivery_date")),
    )
    for rome in data["rome_codes"]:
        _create_valid(RomeCode, certification=certification, **rome)
    for place in data["preparation_places"]:
        _create_valid(PreparationPlace, certification=certification, **place)
    for registration in data["registrations"]:
        _create_valid(
            Registration,
            certification=certification,
            act=registration["act"],
            publication=registration.get("publication", ""),
            publication_date=_date_or_none(registration.get("publication_date")),
            decision_date=_date_or_none(registration.get("decision_date")),
            in_force_from=datetime.date.fromisoformat(registration["in_force_from"]),
            in_force_until=datetime.date.fromisoformat(registration["in_force_until"]),
            level_note=registration.get("level_note", ""),
        )
    blocks_by_code = {}
    for block_data in data["blocks"]:
        expected_code = f"RNCP{certification.rncp_code}BC{block_data['number']:02d}"
        # A block's code is its fiche's code and its number: a file copied under another fiche code keeps old
        # codes, which say nothing then; a code naming another number is a file contradicting itself.
        if not block_data.get("code", expected_code).endswith(f"BC{block_data['number']:02d}"):
            raise ValueError(
                f"bloc de compétences {block_data['number']} : le code {block_data['code']} ne correspond pas à son "
                f"numéro (attendu : {expected_code})."
            )
        threshold = block_data["threshold"]
        if len(block_data["competences"]) > threshold["out_of"]:
            raise ValueError(
                f"bloc de compétences {block_data['number']} invalide : {len(block_data['competences'])} "
                f"compétences pour {threshold['out_of']} déclarées (une grille compte au plus les compétences "
                "que le bloc déclare)."
            )
        block = _create_valid(
            Block,
            certification=certification,
            number=block_data["number"],
            title=block_data["title"],
            evaluation_modality=block_data.get("evaluation_modality", ""),
            threshold_kind=threshold["kind"],
            threshold_value=Decimal(str(threshold["value"])),
            declared_competence_count=threshold["out_of"],
        )
        blocks_by_code[expected_code] = block
        grid = Grid.objects.create(block=block, version=1)
        for position, label in enumerate(block_data["competences"], start=1):
            _create_valid(Competence, grid=grid, position=position, label=label)
    for correspondence in data.get("correspondences", []):
        _install_correspondence(correspondence, blocks_by_code)
    scale = RatingScale.objects.create(certification=certification, version=1)
    for position, level in enumerate(data["rating_scale"]["levels"], start=1):
        _create_valid(ScaleLevel, scale=scale, position=position, **level)
    pathways = [
        _create_valid(
            AccessPathway,
            certification=certification,
            code=pathway["code"],
            label=pathway["label"],
            is_open=pathway["open"],
            position=position,
        )
        for position, pathway in enumerate(data["pathways"], start=1)
    ]
    rule_data = data["jury_rule"]
    rule = _create_valid(
        JuryCompositionRule,
        certification=certification,
        professionals_percent=rule_data["professionals_percent"],
        trainers_percent=rule_data["trainers_percent"],
        president_is_professional=rule_data["president_is_professional"],
        professionals_split_equally=rule_data["professionals_split_equally"],
        text=rule_data["text"],
    )
    rule.pathways.set([pathway for pathway in pathways if pathway.code in rule_data["applies_to"]])
    return certification, True


_BLOCK_CODE = re.compile(r"^RNCP(\d+)BC(\d+)$")


def _install_correspondence(correspondence: dict, blocks_by_code: dict[str, Block]) -> None:
    """The previous fiche's blocks that give one of this fiche's blocks; the previous fiche must be installed."""
    code = correspondence["block"]
    block = blocks_by_code.get(code)
    if block is None:
        raise ValueError(f"correspondance pour le bloc {code}, qui n'est pas un bloc de cette fiche.")
    for previous_code in correspondence["previous_blocks"]:
        match = _BLOCK_CODE.match(previous_code)
        if not match:
            raise ValueError(f"correspondance du bloc {code} : code de bloc « {previous_code} » illisible.")
        previous_certification = Certification.objects.filter(rncp_code=match.group(1)).first()
        if previous_certification is None:
            raise ValueError(
                f"correspondance du bloc {code} : la fiche précédente RNCP{match.group(1)} n'est pas installée ; "
                "installez-la d'abord."
            )
        previous_block = Block.objects.filter(certification=previous_certification, number=int(match.group(2))).first()
        if previous_block is None:
            raise ValueError(
                f"correspondance du bloc {code} : la fiche RNCP{match.group(1)} n'a pas de bloc {previous_code}."
            )
        _create_valid(BlockCorrespondence, block=block, previous_block=previous_block)


def _create_valid(model, **fields):
    """Create after the model's own validation (texts, dates, uniqueness), so a file cannot install what the forms
    would refuse."""
    instance = model(**fields)
    try:
        instance.full_clean()
    except ValidationError as error:
        messages = "; ".join(f"{field} : {' '.join(errors)}" for field, errors in error.message_dict.items())
        raise ValueError(f"{model._meta.verbose_name} invalide ({messages})") from error
    instance.save()
    return instance


def _date_or_none(value: str | None):
    return datetime.date.fromisoformat(value) if value else None


def export_referential(certification: Certification) -> dict:
    """The certification as it stands now, in the stable JSON form (current grid and scale versions)."""
    blocks = Block.objects.filter(certification=certification).with_current_grid()
    scale: RatingScale = certification.rating_scales.order_by("-version").prefetch_related("levels").first()  # type: ignore[assignment]  # a certification has a scale from its installation
    rule = getattr(certification, "jury_rule", None)
    return {
        "format": FORMAT,
        "certification": {name: getattr(certification, name) for name in CERTIFICATION_FIELDS + RENEWAL_FIELDS}
        | {
            "last_delivery_date": certification.last_delivery_date.isoformat()
            if certification.last_delivery_date
            else None
        },
        "rome_codes": [{"code": rome.code, "label": rome.label} for rome in certification.rome_codes.all()],
        "preparation_places": [
            {"name": place.name, "address": place.address} for place in certification.preparation_places.all()
        ],
        "registrations": [
            {
                "act": registration.act,
                "publication": registration.publication,
                "publication_date": registration.publication_date.isoformat()
                if registration.publication_date
                else None,
                "decision_date": registration.decision_date.isoformat() if registration.decision_date else None,
                "in_force_from": registration.in_force_from.isoformat(),
                "in_force_until": registration.in_force_until.isoformat(),
                "level_note": registration.level_note,
            }
            for registration in certification.registrations.all()
        ],
        "blocks": [
            {
                "number": block.number,
                "code": block.code,
                "title": block.title,
                "evaluation_modality": block.evaluation_modality,
                "threshold": {
                    "kind": block.threshold_kind,
                    "value": _number(block.threshold_value),
                    "out_of": block.declared_competence_count,
                },
                "competences": [competence.label for competence in block.current_grid.competences.all()],
            }
            for block in blocks
        ],
        "correspondences": _correspondences(blocks),
        "rating_scale": {
            "version": scale.version,
            "levels": [
                {"code": level.code, "label": level.label, "validates": level.validates}
                for level in scale.ordered_levels
            ],
        },
        "pathways": [
            {"code": pathway.code, "label": pathway.label, "open": pathway.is_open}
            for pathway in certification.pathways.all()
        ],
        "jury_rule": {
            "professionals_percent": rule.professionals_percent,
            "trainers_percent": rule.trainers_percent,
            "president_is_professional": rule.president_is_professional,
            "professionals_split_equally": rule.professionals_split_equally,
            "applies_to": [pathway.code for pathway in rule.pathways.order_by("position")],
            "text": rule.text,
        }
        if rule
        else None,
    }


def _correspondences(blocks) -> list[dict]:
    rows = BlockCorrespondence.objects.filter(block__in=blocks).select_related(
        "block__certification", "previous_block__certification"
    )
    previous: dict[str, list[str]] = {}
    for row in rows.order_by("block__number", "previous_block__certification__rncp_code", "previous_block__number"):
        previous.setdefault(row.block.code, []).append(row.previous_block.code)
    return [{"block": code, "previous_blocks": codes} for code, codes in previous.items()]
