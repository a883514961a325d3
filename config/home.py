"""What each role's home page lists as work to do: one task per kind of work, with its count, a sentence in plain
French and the links to the pages that do it. Each room reads its own data (its selectors); this module only
gathers them, in a bounded number of queries whatever the number of sessions, grids or holders."""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format

from candidates.selectors import birth_places_to_check
from certif.text import plural
from declarations.selectors import certification_ids_with_cdc_settings, missing_data
from documents.selectors import sessions_with_documents_to_issue
from evaluation.selectors import TrainerTasks
from juries.selectors import SessionWork, french_day, grids_awaiting_a_jury, prepared_sessions_work

LINES_SHOWN = 10  # a task lists at most this many lines; the rest are counted (« et 3 autres »)
REGISTRATION_ENDING_DAYS = 180  # a registration ending within six months is work: the next fiche is prepared


def french_number(value: int) -> str:
    """« 1 234 »: grouped the French way (a no-break space)."""
    return number_format(value, force_grouping=True)


@dataclass
class TaskLine:
    """One thing of a task: a link (its text makes sense alone) and what is left to do on it."""

    link_text: str = ""
    url: str = ""
    text: str = ""


@dataclass
class Task:
    key: str  # the anchor of the task on the page (id « task-<key> »)
    count: int
    title: str  # what follows the count: « grilles soumises attendent d'être présentées à un jury »
    lines: list[TaskLine] = field(default_factory=list)
    action_url: str = ""
    action_text: str = ""
    urgent: bool = False  # a deadline has passed
    body_template: str = ""  # a partial rendered under the title, instead of (or after) the lines
    body: list = field(default_factory=list)  # what that partial reads
    more_url: str = ""  # the page listing every line, offered when some are not shown
    more_link_text: str = ""

    @property
    def late_label(self) -> str:
        """The badge of a task whose deadline has passed, unless its title already says so."""
        return "En retard" if self.urgent and "en retard" not in self.title else ""

    @property
    def count_text(self) -> str:
        return french_number(self.count)

    @property
    def shown_lines(self) -> list[TaskLine]:
        return self.lines[:LINES_SHOWN]

    @property
    def more(self) -> int:
        return max(0, len(self.lines) - LINES_SHOWN)

    @property
    def more_text(self) -> str:
        return f"et {french_number(self.more)} {plural(self.more, 'autre', 'autres')}"


def _jury_name(session) -> str:
    return f"Jury du {french_day(session.date)} — {session.place}"


def _late_text(work: SessionWork) -> str:
    """What follows « à délibérer » or « à signer »: « aujourd'hui » on the jury's day, « , en retard de 5 jours »
    after it."""
    if not work.days_late:
        return " aujourd'hui"
    return f", en retard de {french_number(work.days_late)} {plural(work.days_late, 'jour', 'jours')}"


# — Staff —


def _grids_awaiting_task() -> Task | None:
    grids = list(grids_awaiting_a_jury())
    if not grids:
        return None
    return Task(
        key="grilles-soumises",
        count=len(grids),
        title=plural(
            len(grids),
            "grille soumise attend d'être présentée à un jury",
            "grilles soumises attendent d'être présentées à un jury",
        ),
        lines=[
            TaskLine(
                link_text=f"{be.session.cohort.name} — bloc {be.block.number}",
                url=reverse("evaluation:grid", args=[be.session_id, be.block.number]),
                text=f"{be.block.certification.rncp_label}, soumise le {french_day(timezone.localdate(be.submitted_at))}"
                if be.submitted_at
                else be.block.certification.rncp_label,
            )
            for be in grids
        ],
        action_url=reverse("juries:list"),
        action_text="Présenter les candidats à un jury",
        more_url=reverse("evaluation:session_list"),
        more_link_text="Toutes les sessions d'évaluation",
    )


def _sessions_to_compose_task(sessions: list[SessionWork]) -> Task | None:
    to_compose = [work for work in sessions if work.problems]
    if not to_compose:
        return None
    return Task(
        key="jurys-a-composer",
        count=len(to_compose),
        title=plural(len(to_compose), "session de jury à composer", "sessions de jury à composer"),
        lines=[
            TaskLine(
                link_text=_jury_name(work.session),
                url=reverse("juries:detail", args=[work.session.pk]),
                text=" ".join(work.problems),
            )
            for work in to_compose
        ],
        urgent=any(work.is_due for work in to_compose),
        more_url=reverse("juries:list"),
        more_link_text="Toutes les sessions de jury",
    )


def _sessions_due_task(sessions: list[SessionWork]) -> Task | None:
    due = [work for work in sessions if not work.problems and work.is_due]
    if not due:
        return None
    lines = []
    for work in due:
        what = "à délibérer" if work.to_deliberate else "à signer par le président"
        lines.append(
            TaskLine(
                link_text=_jury_name(work.session),
                url=reverse("juries:detail", args=[work.session.pk]),
                text=f"{work.session.certification.rncp_label}, {work.decisions_text} ; {what}{_late_text(work)}",
            )
        )
    return Task(
        key="jurys-du-jour",
        count=len(due),
        title=plural(
            len(due),
            "jury dont le jour est venu, à délibérer ou à signer",
            "jurys dont le jour est venu, à délibérer ou à signer",
        ),
        lines=lines,
        urgent=any(work.days_late for work in due),
        more_url=reverse("juries:list"),
        more_link_text="Toutes les sessions de jury",
    )


def _documents_task() -> Task | None:
    sessions = list(sessions_with_documents_to_issue())
    if not sessions:
        return None
    lines = []
    for session in sessions:
        missing = []
        if session.batch_under_way:
            missing.append("production des documents en cours")
        elif not session.has_minutes:
            missing.append("procès-verbal à émettre")
        left = session.candidate_count - session.results_count
        if left > 0 and not session.batch_under_way:
            missing.append(
                f"{french_number(left)} {plural(left, 'relevé de résultats', 'relevés de résultats')} "
                f"sur {french_number(session.candidate_count)} à émettre"
            )
        lines.append(
            TaskLine(
                link_text=f"Documents du jury du {french_day(session.date)} — {session.place}",
                url=reverse("documents:session", args=[session.pk]),
                text=f"{session.certification.rncp_label}, " + ", ".join(missing),
            )
        )
    return Task(
        key="documents",
        count=len(sessions),
        title=plural(
            len(sessions),
            "session signée a des documents à émettre",
            "sessions signées ont des documents à émettre",
        ),
        lines=lines,
        more_url=reverse("juries:list"),
        more_link_text="Toutes les sessions de jury",
    )


def _declaration_tasks(work: list[dict], today: datetime.date) -> list[Task]:
    """The holders to declare to the Caisse des Dépôts (three months after the award), those whose file lacks what
    the flux needs, and the certifications whose identifiers at the CDC are not recorded."""
    tasks = []
    duties = [(item["certification"], item["declaration_duty"]) for item in work]
    to_declare = [(certification, duty) for certification, duty in duties if duty.to_declare]
    if to_declare:
        total = sum(duty.to_declare for _, duty in to_declare)
        overdue = sum(duty.overdue for _, duty in to_declare)
        title = f"{plural(total, 'titulaire à déclarer', 'titulaires à déclarer')} à la Caisse des Dépôts"
        if overdue:
            title += f", dont {french_number(overdue)} en retard"
        tasks.append(
            Task(
                key="declarations",
                count=total,
                title=title,
                urgent=bool(overdue),
                body_template="config/_task_declarations.html",
                body=to_declare,
                action_url=reverse("declarations:index") if len(to_declare) > 1 else "",
                action_text="Toutes les déclarations à la Caisse des Dépôts",
            )
        )
    incomplete = [(certification, holder) for certification, duty in duties for holder in duty.incomplete]
    if incomplete:
        tasks.append(
            Task(
                key="fiches-incompletes",
                count=len(incomplete),
                title=plural(
                    len(incomplete),
                    "titulaire à déclarer a une fiche incomplète pour la Caisse des Dépôts",
                    "titulaires à déclarer ont une fiche incomplète pour la Caisse des Dépôts",
                ),
                lines=[
                    TaskLine(
                        link_text=f"Compléter la fiche de {holder.award.candidate.full_name}",
                        url=reverse("candidates:edit", args=[holder.award.candidate_id]),
                        text=f"{certification.rncp_label}, manque : {', '.join(missing_data(holder.award))}",
                    )
                    for certification, holder in incomplete
                ],
                more_url=reverse("declarations:index"),
                more_link_text="Toutes les déclarations à la Caisse des Dépôts",
            )
        )
    with_settings = certification_ids_with_cdc_settings()
    unset = [
        item["certification"]
        for item in work
        if item["certification"].pk not in with_settings
        and (item["declaration_duty"].to_declare or item["registration_today"] is not None)
    ]
    if unset:
        tasks.append(
            Task(
                key="identifiants-cdc",
                count=len(unset),
                title=plural(
                    len(unset),
                    "certification n'a pas ses identifiants auprès de la Caisse des Dépôts : "
                    "aucun titulaire ne peut être déclaré sans eux",
                    "certifications n'ont pas leurs identifiants auprès de la Caisse des Dépôts : "
                    "aucun titulaire ne peut être déclaré sans eux",
                ),
                lines=[
                    TaskLine(
                        link_text=f"Enregistrer les identifiants de {certification.rncp_label}",
                        url=reverse("declarations:settings", args=[certification.rncp_code]),
                    )
                    for certification in unset
                ],
            )
        )
    return tasks


def _birth_places_task() -> Task | None:
    count = birth_places_to_check().count()
    if not count:
        return None
    return Task(
        key="lieux-de-naissance",
        count=count,
        title=plural(
            count,
            "fiche candidat a un lieu de naissance à vérifier (la Caisse des Dépôts en a besoin)",
            "fiches candidat ont un lieu de naissance à vérifier (la Caisse des Dépôts en a besoin)",
        ),
        action_url=reverse("candidates:places_to_check"),
        action_text="Vérifier les lieux de naissance",
    )


def _registration_task(work: list[dict], today: datetime.date) -> Task | None:
    limit = today + datetime.timedelta(days=REGISTRATION_ENDING_DAYS)
    ending = [
        item
        for item in work
        if item["registration_today"] is not None and item["registration_today"].in_force_until <= limit
    ]
    if not ending:
        return None
    return Task(
        key="enregistrements",
        count=len(ending),
        title=plural(
            len(ending),
            "enregistrement au RNCP prend fin dans moins de six mois",
            "enregistrements au RNCP prennent fin dans moins de six mois",
        ),
        lines=[
            TaskLine(
                link_text=f"Fiche {item['certification'].rncp_label}",
                url=reverse("certif:fiche", args=[item["certification"].rncp_code]),
                text=f"en vigueur jusqu'au {french_day(item['registration_today'].in_force_until)} ; après ce jour, "
                "aucun jury de cette fiche ne peut être validé",
            )
            for item in ending
        ],
    )


def staff_tasks(work: list[dict], today: datetime.date) -> list[Task]:
    """The staff's work, the most pressing first. `work`: the per-certification rows of the home page (with their
    registration today and their duty to declare)."""
    sessions = prepared_sessions_work()
    tasks = [
        _sessions_due_task(sessions),
        _documents_task(),
        *_declaration_tasks(work, today),
        _grids_awaiting_task(),
        _sessions_to_compose_task(sessions),
        _birth_places_task(),
        _registration_task(work, today),
    ]
    return [task for task in tasks if task is not None]


# — Trainer —


def _cells(count: int) -> str:
    return f"{french_number(count)} {plural(count, 'cellule', 'cellules')}"


def trainer_task_cards(tasks: TrainerTasks, today: datetime.date) -> list[Task]:
    cards = []
    if tasks.given_back:
        lines = []
        for be in tasks.given_back:
            text = f"{be.block.certification.rncp_label}, rouverte le {french_day(timezone.localdate(be.reopened_at))}"
            if be.reopened_reason:
                text += f", motif : « {be.reopened_reason} »"
            filled = plural(be.filled_cells, "renseignée", "renseignées")
            text += f" ; {_cells(be.filled_cells)} {filled} sur {french_number(be.total_cells)}"
            lines.append(TaskLine(link_text=_grid_name(be), url=_grid_url(be), text=text))
        cards.append(
            Task(
                key="grilles-rouvertes",
                count=len(tasks.given_back),
                title=plural(
                    len(tasks.given_back),
                    "grille rouverte par le service certification : à revoir puis soumettre de nouveau",
                    "grilles rouvertes par le service certification : à revoir puis soumettre de nouveau",
                ),
                lines=lines,
            )
        )
    if tasks.to_fill:
        left = tasks.cells_left
        cards.append(
            Task(
                key="grilles-a-remplir",
                count=len(tasks.to_fill),
                title=f"{plural(len(tasks.to_fill), 'grille à remplir', 'grilles à remplir')} : {_cells(left)} "
                f"{plural(left, 'reste', 'restent')} à renseigner",
                lines=[
                    TaskLine(
                        link_text=_grid_name(be),
                        url=_grid_url(be),
                        text=f"{be.block.certification.rncp_label}, {_cells(be.total_cells - be.filled_cells)} sur "
                        f"{french_number(be.total_cells)} à renseigner ; session jusqu'au "
                        f"{french_day(be.session.ends_on)}",
                    )
                    for be in tasks.to_fill
                ],
                urgent=any(be.session.ends_on < today for be in tasks.to_fill),
            )
        )
    if tasks.to_submit:
        cards.append(
            Task(
                key="grilles-a-soumettre",
                count=len(tasks.to_submit),
                title=plural(
                    len(tasks.to_submit),
                    "grille remplie à soumettre au jury",
                    "grilles remplies à soumettre au jury",
                ),
                lines=[
                    TaskLine(
                        link_text=_grid_name(be),
                        url=_grid_url(be),
                        text=f"{be.block.certification.rncp_label}, toutes les cellules sont renseignées ; session "
                        f"jusqu'au {french_day(be.session.ends_on)}",
                    )
                    for be in tasks.to_submit
                ],
            )
        )
    return cards


def _grid_name(be) -> str:
    return f"{be.session.cohort.name} — bloc {be.block.number}"


def _grid_url(be) -> str:
    return reverse("evaluation:grid", args=[be.session_id, be.block.number])


# — Jury president —


@dataclass
class PresidentHome:
    tasks: list[Task]
    coming: list[SessionWork]  # their other prepared sessions: the jury's day has not come, or no candidate yet


def president_home(sessions: list[SessionWork]) -> PresidentHome:
    """A session is deliberated once its candidates are presented, and signed on its jury day or after, never
    before: a session whose day has not come is listed as coming, not as work."""
    due = [work for work in sessions if work.is_due]
    to_deliberate = [work for work in due if work.to_deliberate]
    to_sign = [work for work in due if work.to_sign]
    listed = {work.session.pk for work in to_deliberate + to_sign}
    tasks = []
    if to_deliberate:
        tasks.append(
            Task(
                key="a-deliberer",
                count=len(to_deliberate),
                title=plural(len(to_deliberate), "jury à délibérer", "jurys à délibérer"),
                lines=[
                    TaskLine(
                        link_text=f"Délibérer : {_jury_name(work.session)}",
                        url=reverse("juries:deliberation", args=[work.session.pk]),
                        text=f"{work.session.certification.rncp_label}, {work.decisions_text} ; à délibérer"
                        f"{_late_text(work)}",
                    )
                    for work in to_deliberate
                ],
                urgent=any(work.days_late for work in to_deliberate),
            )
        )
    if to_sign:
        tasks.append(
            Task(
                key="a-signer",
                count=len(to_sign),
                title=plural(len(to_sign), "jury délibéré à signer", "jurys délibérés à signer"),
                lines=[
                    TaskLine(
                        link_text=f"Signer : {_jury_name(work.session)}",
                        url=reverse("juries:sign_off", args=[work.session.pk]),
                        text=f"{work.session.certification.rncp_label}, {work.decisions_text} ; à signer"
                        f"{_late_text(work)}",
                    )
                    for work in to_sign
                ],
                urgent=any(work.days_late for work in to_sign),
            )
        )
    return PresidentHome(tasks=tasks, coming=[work for work in sessions if work.session.pk not in listed])
