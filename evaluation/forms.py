import re

from django import forms
from django.contrib.auth import get_user_model

from candidates.models import Cohort
from certif.collation import french, user_order
from certif.forms_widgets import DATE_WIDGET
from certif.models import Block
from certif.roles import Role, holders_of
from certif.validation import BoundedJsonError, InputRulesFormMixin, bounded_json, validate_planned_event_date
from evaluation.services import COMMENT_MAX_LENGTH, CellInput, InvalidGridData


class SessionOpenForm(InputRulesFormMixin, forms.Form):
    cohort = forms.ModelChoiceField(label="Promotion", queryset=Cohort.objects.none())
    blocks = forms.ModelMultipleChoiceField(
        label="Blocs évalués", queryset=Block.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    evaluators = forms.ModelMultipleChoiceField(
        label="Évaluateurs (formateurs)",
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Seuls les évaluateurs désignés saisissent les niveaux de cette session.",
    )
    starts_on = forms.DateField(label="Début", widget=DATE_WIDGET, validators=[validate_planned_event_date])
    ends_on = forms.DateField(label="Fin", widget=DATE_WIDGET, validators=[validate_planned_event_date])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.select_related("certification", "pathway").order_by(
            "-start_date", french("name")
        )
        self.fields["cohort"].label_from_instance = lambda cohort: (
            f"{cohort.name} — {cohort.pathway.label} ({cohort.certification.rncp_label})"
        )
        # Every fiche's blocks, each named by its code (RNCP…BC01): the service refuses a block of another
        # certification than the cohort's, next to the field.
        self.fields["blocks"].queryset = (
            Block.objects.select_related("certification")
            .order_by("certification__rncp_code", "number")
            .with_current_grid()
        )
        self.fields["blocks"].label_from_instance = _block_label
        self.fields["evaluators"].queryset = holders_of(Role.TRAINER).order_by(*user_order(), "username")
        self.fields["evaluators"].label_from_instance = lambda user: user.get_full_name() or user.username


def _block_label(block: Block) -> str:
    return f"{block.code} · {_block_state_label(block)}"


def _block_state_label(block: Block) -> str:
    grid = block.current_grid
    if grid is not None and grid.surplus_count:
        return (
            f"Bloc {block.number} — {block.title} (grille à corriger : "
            f"{grid.defined_count} compétences pour {block.declared_competence_count} déclarées)"
        )
    if grid is not None and not grid.is_complete:
        return (
            f"Bloc {block.number} — {block.title} (grille incomplète : "
            f"{grid.defined_count} sur {block.declared_competence_count})"
        )
    return f"Bloc {block.number} — {block.title}"


class ReopenForm(InputRulesFormMixin, forms.Form):
    reason = forms.CharField(
        label="Motif de la réouverture",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Le motif est conservé dans l'historique de la grille.",
    )


# — The grid POST: c-<enrolment>-<competence>-level and -comment per cell, and one hidden "grid-state" —
# {"<enrolment>-<competence>": [version, shown level, shown comment]}: what the page displayed, for conflicts.
# One state field for the whole grid keeps the POST well under DATA_UPLOAD_MAX_NUMBER_FIELDS (2 fields per cell).

CELL_FIELD = re.compile(r"^c-(\d{1,10})-(\d{1,10})-(level|comment)$")
STATE_FIELD = "grid-state"


# What the page writes per cell ("<enrolment>-<competence>": [version, "<level>", "<comment>"]), comments escaped at
# worst six characters for one (\uXXXX); a state is one object of arrays: two levels deep, never more.
STATE_MAX_LENGTH_PER_CELL = 6 * COMMENT_MAX_LENGTH + 100
STATE_MAX_DEPTH = 2


def _state(data, cell_count: int) -> dict:
    try:
        state = bounded_json(
            data.get(STATE_FIELD, ""), max_length=cell_count * STATE_MAX_LENGTH_PER_CELL, max_depth=STATE_MAX_DEPTH
        )
    except BoundedJsonError as error:
        raise InvalidGridData(f"L'état de la grille envoyé est illisible ({error}).") from None
    except ValueError:
        raise InvalidGridData("L'état de la grille envoyé est illisible.") from None
    if not isinstance(state, dict):
        raise InvalidGridData("L'état de la grille envoyé est illisible.")
    return state


def parse_cells(data) -> list[CellInput]:
    """Read the cells of a grid POST; anything malformed is refused whole (InvalidGridData)."""
    parts: dict[tuple[int, int], dict[str, str]] = {}
    for name in data:
        if not name.startswith("c-"):
            continue
        match = CELL_FIELD.match(name)
        if not match:
            raise InvalidGridData("Champ de grille inconnu dans l'envoi.")
        values = data.getlist(name)
        if len(values) != 1:
            raise InvalidGridData("Une même cellule figure deux fois dans l'envoi.")
        parts.setdefault((int(match[1]), int(match[2])), {})[match[3]] = values[0]
    state = _state(data, len(parts)) if parts else {}
    cells = []
    for (enrolment_id, competence_id), cell in parts.items():
        shown = state.get(f"{enrolment_id}-{competence_id}")
        if not {"level", "comment"} <= cell.keys() or shown is None:
            raise InvalidGridData("Une cellule de la grille est incomplète dans l'envoi (niveau, commentaire ou état).")
        if not (
            isinstance(shown, list)
            and len(shown) == 3
            and isinstance(shown[0], int)
            and not isinstance(shown[0], bool)
            and all(isinstance(value, str) for value in shown[1:])
        ):
            raise InvalidGridData("L'état d'une cellule est illisible.")
        cells.append(
            CellInput(
                enrolment_id=enrolment_id,
                competence_id=competence_id,
                level=cell["level"].strip(),
                comment=cell["comment"].strip().replace("\r\n", "\n"),
                version=shown[0],
                shown_level=shown[1],
                shown_comment=shown[2],
            )
        )
    return cells
