"""Figures about the certification for staff: certified per year against the fiche's « 15 certifiés par
an », candidates presented, success rates, acquired blocks pending a full certification — and their exports.

What counts, once and for all (the dashboard prints these definitions under each table):

- a *decision* is one block examined for one presented candidate by a jury session that is **signed**; sessions in
  preparation never count. A rectified decision counts with its latest rectification's outcome;
- the *success rate* of a group is « blocs validés ÷ décisions prises », the same ratio for a block, a year, a
  pathway, a cohort or a preparation place; the pathway, cohort and place are those of the enrolment with which the
  candidate was presented;
- *candidates presented* are distinct persons among those decisions;
- *certified* are the certifications delivered (CertificationAward), by year of delivery;
- *pending* holders hold at least one block of the certification but not all of them, and no certification.

A withdrawal (retrait for fraud) undoes a result as if it had never been obtained: a withdrawn certificate is not
counted among the certified, a withdrawn block is not held, whatever the year shown. Decisions and success rates
stay those the juries took (a withdrawal does not change what a jury deliberated).

Filters: the year of the jury session (of the delivery for certified; « situation au 31 décembre » for pending
holders) and the access pathway. The number of queries does not depend on the amount of data: the decisions are read
once, as plain values (`decision_tallies`), with their latest rectifications read once beside them, and every rate
table is counted from that one pass; the other figures are grouped counts computed by the database.
"""

import itertools
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.formats import date_format

from candidates.declaration_duty import DutyStatus, duty_status, first_declared_at
from candidates.models import AcquiredBlock, CertificationAward, Cohort, Enrolment
from certif import clock
from certif.collation import french, person_order
from certif.models import AccessPathway, Block, Certification
from certif.rules import Outcome
from certif.text import counted
from juries.models import (
    RECTIFICATION_ORDER,
    Decision,
    DecisionOutcome,
    JurySession,
    JurySessionStatus,
    Presentation,
    Rectification,
)
from juries.selectors import latest_rectified_outcomes

VALIDATED = DecisionOutcome.VALIDATED.value

RATE_DEFINITION = (
    "Taux de réussite = blocs validés ÷ décisions prises. Une décision est un bloc examiné pour un candidat par une "
    "session de jury signée (les sessions en préparation ne comptent pas) ; une décision rectifiée compte avec sa "
    "dernière rectification. Candidats présentés : personnes distinctes."
)
GROUP_DEFINITION = (
    " La voie d'accès, la promotion et le lieu de préparation sont ceux de l'inscription avec laquelle le candidat a "
    "été présenté au jury."
)


# — Filters —


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    pathway: AccessPathway | None = None

    def describe(self) -> str:
        year = f"année {self.year}" if self.year else "toutes les années"
        pathway = f"voie « {self.pathway.label} »" if self.pathway else "toutes les voies d'accès"
        return f"{year} ; {pathway}"

    def slug(self) -> str:
        parts = [str(self.year) if self.year else "", self.pathway.code if self.pathway else ""]
        return "-".join(part for part in parts if part)


def available_years(certification: Certification) -> list[int]:
    """Years with a signed jury session or a delivered certification, newest first (two queries)."""
    sessions = JurySession.objects.filter(certification=certification, status=JurySessionStatus.SIGNED)
    delivered = CertificationAward.objects.in_force().filter(certification=certification)
    years = {day.year for day in sessions.dates("date", "year")}
    years |= {day.year for day in delivered.dates("awarded_on", "year")}
    return sorted(years, reverse=True)


def target_per_year(certification: Certification) -> int | None:
    """The fiche's figure (« 15 certifiés par an ») read from `Certification.statistics`; None when it has none."""
    match = re.search(r"\d+", certification.statistics or "")
    return int(match.group()) if match else None


# — Every certification at a glance —


@dataclass
class CertificationSummary:
    """One certification's headline figures, for the dashboard listing every certification."""

    certification: Certification
    candidates: int
    taken: int
    validated: int
    certified: int

    @property
    def rate_text(self) -> str:
        return format_rate(rate(self.validated, self.taken))


def overview(certifications: list[Certification], year: int | None = None) -> list[CertificationSummary]:
    """Per certification: candidates presented, decisions taken and validated (signed sessions, rectifications
    counted), certified — two queries, whatever the number of certifications."""
    decisions = Decision.objects.filter(presentation__session__status=JurySessionStatus.SIGNED)
    delivered = CertificationAward.objects.in_force()
    if year:
        decisions = decisions.filter(presentation__session__date__year=year)
        delivered = delivered.filter(awarded_on__year=year)
    tallies = _counts_by(
        *_final_outcomes(decisions, "presentation__session__certification_id", "presentation__enrolment__candidate_id")
    )
    certified = dict(delivered.values_list("certification_id").annotate(n=Count("pk")).order_by())
    summaries = []
    for certification in certifications:
        counts = tallies.get(certification.pk, EMPTY_COUNTS)
        summaries.append(
            CertificationSummary(
                certification=certification,
                candidates=counts["candidates"],
                taken=counts["taken"],
                validated=counts["validated"],
                certified=certified.get(certification.pk, 0),
            )
        )
    return summaries


# — Querysets —


def _taken(decisions: QuerySet[Decision]) -> QuerySet[Decision]:
    """The decisions that were taken: with an outcome of their own or a rectification's."""
    return decisions.filter(~Q(outcome="") | Exists(Rectification.objects.filter(decision=OuterRef("pk"))))


def signed_decisions(certification: Certification, filters: Filters) -> QuerySet[Decision]:
    """Decisions of signed sessions of the certification, filtered. Their outcome as rectified is read beside them,
    once (`_final_outcomes`, which also leaves out those never taken); `result_decisions` leaves these out in SQL."""
    queryset = Decision.objects.filter(
        presentation__session__certification=certification,
        presentation__session__status=JurySessionStatus.SIGNED,
    )
    if filters.year:
        queryset = queryset.filter(presentation__session__date__year=filters.year)
    if filters.pathway:
        queryset = queryset.filter(presentation__enrolment__cohort__pathway=filters.pathway)
    return queryset


def _final_outcomes(decisions: QuerySet[Decision], *columns: str) -> tuple[list, ...]:
    """The decisions taken, as parallel columns: the values of each of `columns`, then whether the decision, as
    rectified, validates its block.

    One query: the decisions as plain values, each joined to its rectifications — a row per rectification, of which
    the latest in RECTIFICATION_ORDER holds the outcome — not a subquery for every decision.
    """
    order = [f"rectifications__{name}" for name in RECTIFICATION_ORDER]
    rows = list(decisions.values_list("pk", "outcome", "rectifications__outcome", *order, *columns).order_by())
    latest: dict[int, tuple] = {}
    for row in [row for row in rows if row[2] is not None]:
        kept = latest.get(row[0])
        if kept is None or row[3 : 3 + len(order)] > kept[3 : 3 + len(order)]:
            latest[row[0]] = row
    taken = [row for row in rows if row[2] is None and row[1]]
    taken.extend(latest.values())
    first = 3 + len(order)
    values = [[row[index] for row in taken] for index in range(first, first + len(columns))]
    return *values, [(row[2] or row[1]) == VALIDATED for row in taken]


Counts = dict[str, int]  # candidates (distinct persons), taken (decisions), validated (blocks)


def _counts_by(keys: list, candidates: list[int], validated: list[bool]) -> dict:
    """{key: counts} for decisions given as parallel columns (the group of each, its candidate, whether validated):
    counted by the interpreter's C loops, not a Python step per decision and group."""
    taken = Counter(keys)
    ok = Counter(itertools.compress(keys, validated))
    people = Counter(map(operator.itemgetter(0), set(zip(keys, candidates, strict=True))))
    return {key: {"candidates": people[key], "taken": taken[key], "validated": ok[key]} for key in taken}


@dataclass
class DecisionTallies:
    """The rate tables' counts, from one pass over the decisions: overall, per year of the jury session, per block,
    per cohort, per pathway and per preparation place (those of the enrolment presented)."""

    overall: Counts
    by_year: dict[int, Counts]
    by_block: dict[int, Counts]
    by_cohort: dict[int, Counts]
    by_pathway: dict[int, Counts]
    by_place: dict[int, Counts]
    cohorts: dict[int, dict]  # pk: name, pathway's and place's, in the order of names


def decision_tallies(decisions: QuerySet[Decision]) -> DecisionTallies:
    """Three queries: the decisions as plain values with their rectifications, their sessions' dates, their
    cohorts' names."""
    candidates, sessions, blocks, cohort_ids, validated = _final_outcomes(
        decisions, "presentation__enrolment__candidate_id", "presentation__session_id", "block_id", COHORT + "_id"
    )
    # Years through the few sessions: an integer per decision reads faster than a date or an EXTRACT.
    year_of = {pk: day.year for pk, day in JurySession.objects.filter(pk__in=set(sessions)).values_list("pk", "date")}
    cohorts = {
        cohort["pk"]: cohort
        for cohort in Cohort.objects.filter(pk__in=set(cohort_ids))
        .values(
            "pk", "name", "pathway_id", "pathway__label", "pathway__position", "preparation_place_id",
            "preparation_place__name",
        )
        .order_by(french("name"), "pk")
    }  # fmt: skip
    return DecisionTallies(
        overall={"candidates": len(set(candidates)), "taken": len(validated), "validated": sum(validated)},
        by_year=_counts_by([year_of[pk] for pk in sessions], candidates, validated),
        by_block=_counts_by(blocks, candidates, validated),
        by_cohort=_counts_by(cohort_ids, candidates, validated),
        by_pathway=_counts_by([cohorts[pk]["pathway_id"] for pk in cohort_ids], candidates, validated),
        by_place=_counts_by([cohorts[pk]["preparation_place_id"] for pk in cohort_ids], candidates, validated),
        cohorts=cohorts,
    )


def awards(certification: Certification, filters: Filters):
    queryset = CertificationAward.objects.in_force().filter(certification=certification)
    if filters.year:
        queryset = queryset.filter(awarded_on__year=filters.year)
    if filters.pathway:
        # The pathway of the enrolment presented to the session that delivered the certification.
        queryset = queryset.filter(
            Exists(
                Presentation.objects.filter(
                    session_id=OuterRef("jury_session_link__session_id"),
                    enrolment__candidate_id=OuterRef("candidate_id"),
                    enrolment__cohort__pathway=filters.pathway,
                )
            )
        )
    return queryset


def pending_held_blocks(certification: Certification, filters: Filters, block_count: int) -> QuerySet[AcquiredBlock]:
    """The blocks held by candidates holding 1 to `block_count - 1` blocks and no certification.

    With a year: the situation on 31 December of that year. With a pathway: candidates enrolled at least once on it.
    Grouped by candidate in SQL (one pass over the acquired blocks), not counted by a subquery for every candidate.
    """
    held = AcquiredBlock.objects.held().filter(block__certification=certification)
    delivered = CertificationAward.objects.in_force().filter(certification=certification)
    if filters.year:
        held = held.filter(acquired_on__year__lte=filters.year)
        delivered = delivered.filter(awarded_on__year__lte=filters.year)
    held = held.exclude(candidate_id__in=delivered.values("candidate_id"))
    if filters.pathway:
        held = held.filter(
            candidate_id__in=Enrolment.objects.filter(cohort__pathway=filters.pathway).values("candidate_id")
        )
    pending = held.order_by().values("candidate_id").annotate(n=Count("pk")).filter(n__lt=block_count)
    return held.filter(candidate_id__in=pending.values("candidate_id"))


# — Tables and charts —


def rate(validated: int, taken: int) -> float | None:
    return validated / taken if taken else None


def format_rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


@dataclass
class Column:
    header: str
    kind: str = "int"  # "text", "int", "rate"


@dataclass
class Bar:
    label: str
    short_label: str
    value_text: str
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass
class Chart:
    """A horizontal bar chart drawn as SVG by the template: geometry computed here, in viewBox units."""

    title: str
    description: str
    bars: list[Bar]
    height: float
    target_x: float | None = None
    target_label: str = ""
    target_anchor: str = "start"
    target_text_x: float | None = None

    WIDTH = 760  # also the charts' max-width in static/css/app.css (.stat-chart): no inline style under the CSP
    LABEL_WIDTH = 230
    PLOT_WIDTH = 440
    TOP = 26
    BAR_HEIGHT = 24
    GAP = 12

    @property
    def label_x(self) -> int:
        return self.LABEL_WIDTH - 8

    @property
    def axis_top(self) -> int:
        return self.TOP - 6

    @property
    def target_top(self) -> int:
        return self.TOP - 10

    @property
    def plot_bottom(self) -> float:
        return self.height - 8


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_chart(
    title: str, items: list[tuple[str, float, str]], *, maximum: float, target: float | None = None, target_label=""
) -> Chart:
    """`items`: (label, value, value as written on the bar); `maximum`: the value of a full-width bar."""
    maximum = max(maximum, target or 0, 1)
    scale = Chart.PLOT_WIDTH / maximum
    bars = []
    for index, (label, value, text) in enumerate(items):
        y = Chart.TOP + index * (Chart.BAR_HEIGHT + Chart.GAP)
        bars.append(
            Bar(
                label=label,
                short_label=_short(label),
                value_text=text,
                y=y,
                width=round(max(value or 0, 0) * scale, 1),
                text_y=y + Chart.BAR_HEIGHT / 2 + 5,
                value_x=round(Chart.LABEL_WIDTH + max(value or 0, 0) * scale + 6, 1),
            )
        )
    height = Chart.TOP + len(items) * (Chart.BAR_HEIGHT + Chart.GAP) + 8
    description = " ; ".join(f"{label} : {text}" for label, _, text in items)
    if target is not None:
        description += f". {target_label}"
    chart = Chart(title=title, description=description, bars=bars, height=height, target_label=target_label)
    if target is not None:
        chart.target_x = round(Chart.LABEL_WIDTH + target * scale, 1)
        # The label reads from the line towards the middle of the plot, so that it never leaves the drawing.
        if chart.target_x > Chart.LABEL_WIDTH + Chart.PLOT_WIDTH / 2:
            chart.target_anchor, chart.target_text_x = "end", chart.target_x - 4
        else:
            chart.target_anchor, chart.target_text_x = "start", chart.target_x + 4
    return chart


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    definition: str
    chart: Chart | None = None
    empty: bool = False

    @property
    def display_rows(self) -> list[list[tuple[str, bool]]]:
        """Each cell as (text, is a number): rates as « 66,7 % », a missing value as « — »."""

        def show(column, value):
            if column.kind == "rate":
                return format_rate(value), True
            return ("—" if value is None else str(value)), column.kind != "text"

        return [[show(column, value) for column, value in zip(self.columns, row, strict=True)] for row in self.rows]


RATE_COLUMNS = [
    Column("Candidats présentés"),
    Column("Décisions prises"),
    Column("Blocs validés"),
    Column("Taux de réussite", "rate"),
]


def _rate_row(label, counts: dict) -> list:
    return [
        label,
        counts["candidates"],
        counts["taken"],
        counts["validated"],
        rate(counts["validated"], counts["taken"]),
    ]


def _rate_table(key, title, first_columns: list[Column], items, definition) -> Table:
    """`items`: (first cells, counts) — the first cell labels the chart's bar."""
    rows = [[*cells, *_rate_row("", counts)[1:]] for cells, counts in items]
    rates = [row[-1] for row in rows]
    chart = None
    if any(counts["taken"] for _, counts in items):
        chart = bar_chart(
            title,
            [
                (cells[0], (value or 0) * 100, format_rate(value))
                for (cells, _), value in zip(items, rates, strict=True)
            ],
            maximum=100,
        )
    return Table(
        key=key,
        title=title,
        columns=[*first_columns, *RATE_COLUMNS],
        rows=rows,
        definition=definition,
        chart=chart,
        empty=chart is None,
    )


@dataclass
class Dashboard:
    certification: Certification
    filters: Filters
    target: int | None
    total_candidates: int
    total_taken: int
    total_validated: int
    total_certified: int
    total_pending: int
    tables: list[Table] = field(default_factory=list)

    @property
    def total_rate(self) -> float | None:
        return rate(self.total_validated, self.total_taken)

    @property
    def total_rate_text(self) -> str:
        return format_rate(self.total_rate)

    @property
    def is_empty(self) -> bool:
        return not (self.total_taken or self.total_certified or self.total_pending)

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def block_label(certification: Certification, block: Block) -> str:
    return f"Bloc {block.number} ({certification.rncp_label}BC{block.number:02d})"


def _years_between(years) -> list[int]:
    years = sorted(set(years))
    return list(range(years[0], years[-1] + 1)) if years else []


EMPTY_COUNTS = {"candidates": 0, "taken": 0, "validated": 0}
PATHWAY = "presentation__enrolment__cohort__pathway"
COHORT = "presentation__enrolment__cohort"
PLACE = "presentation__enrolment__cohort__preparation_place"


def _count_chart(title: str, rows: list[list]):
    """A bar per row (its label, its count)."""
    return bar_chart(
        title, [(row[0], row[1], str(row[1])) for row in rows], maximum=max([0, *(row[1] for row in rows)])
    )


def _certified_by_year(certification: Certification, filters: Filters) -> dict[int, int]:
    return {
        row["year"]: row["n"]
        for row in awards(certification, filters)
        .annotate(year=ExtractYear("awarded_on"))
        .values("year")
        .annotate(n=Count("pk"))
        .order_by("year")
    }


def _certified_table(certification, filters, target, certified_by_year, by_year) -> Table:
    """Certified per year, against the fiche's target."""
    years = [filters.year] if filters.year else _years_between([*certified_by_year, *by_year])
    target_text = f"{target} par an" if target is not None else "non renseigné"
    target_label = f"Objectif de la fiche : {target} par an" if target is not None else ""
    chart = None
    if years:
        chart = bar_chart(
            "Certifiés par année",
            [(str(year), certified_by_year.get(year, 0), str(certified_by_year.get(year, 0))) for year in years],
            maximum=max([0, *certified_by_year.values()]),
            target=target,
            target_label=target_label,
        )
    return Table(
        key="certified",
        title="Certifiés par année",
        columns=[Column("Année", "text"), Column("Certifiés"), Column("Objectif de la fiche")],
        rows=[[str(year), certified_by_year.get(year, 0), target] for year in years],
        definition=(
            "Certifications délivrées (un numéro de certificat) et non retirées, par année de délivrance : la date du jury qui a "
            "validé le dernier des blocs du candidat. Objectif : « "
            f"{certification.statistics or 'non renseigné'} » (fiche RNCP, rubrique Statistiques : "
            f"{target_text}). Filtre de voie : celle de l'inscription présentée à ce jury."
        ),
        chart=chart,
        empty=not years,
    )


def _presented_table(filters: Filters, by_year: dict[int, dict]) -> Table:
    """Candidates presented per year."""
    years = [filters.year] if filters.year else _years_between(by_year)
    rows = [_rate_row(str(year), by_year.get(year, EMPTY_COUNTS)) for year in years]
    return Table(
        key="presented",
        title="Candidats présentés par année",
        columns=[Column("Année", "text"), *RATE_COLUMNS],
        rows=rows,
        definition="Année de la session de jury signée. " + RATE_DEFINITION,
        chart=_count_chart("Candidats présentés par année", rows) if by_year else None,
        empty=not by_year,
    )


def _blocks_table(certification: Certification, blocks: list[Block], tallies: DecisionTallies) -> Table:
    """Success rate per block: every block of the certification, decided or not."""
    return _rate_table(
        "blocks",
        "Taux de réussite par bloc",
        [Column("Bloc", "text")],
        [([block_label(certification, block)], _counts_of(tallies.by_block, block.pk)) for block in blocks],
        RATE_DEFINITION,
    )


def _counts_of(groups: dict, key) -> Counts:
    return groups.get(key, EMPTY_COUNTS)


def _pathways_table(tallies: DecisionTallies) -> Table:
    pathways = {cohort["pathway_id"]: cohort for cohort in tallies.cohorts.values()}
    order = sorted(pathways, key=lambda pk: (pathways[pk]["pathway__position"], pk))
    return _rate_table(
        "pathways",
        "Taux de réussite par voie d'accès",
        [Column("Voie d'accès", "text")],
        [([pathways[pk]["pathway__label"]], tallies.by_pathway[pk]) for pk in order],
        RATE_DEFINITION + GROUP_DEFINITION,
    )


def _cohorts_table(tallies: DecisionTallies) -> Table:
    cohorts = tallies.cohorts
    return _rate_table(
        "cohorts",
        "Taux de réussite par promotion",
        [Column("Promotion", "text"), Column("Voie d'accès", "text"), Column("Lieu de préparation", "text")],
        [
            (
                [cohorts[pk]["name"], cohorts[pk]["pathway__label"], cohorts[pk]["preparation_place__name"]],
                tallies.by_cohort[pk],
            )
            for pk in cohorts
        ],
        RATE_DEFINITION + GROUP_DEFINITION,
    )


def _places_table(tallies: DecisionTallies) -> Table:
    places = {cohort["preparation_place_id"]: cohort["preparation_place__name"] for cohort in tallies.cohorts.values()}
    return _rate_table(
        "places",
        "Taux de réussite par lieu de préparation",
        [Column("Lieu de préparation", "text")],
        [([places[pk]], tallies.by_place[pk]) for pk in sorted(places)],
        RATE_DEFINITION + GROUP_DEFINITION,
    )


def _declared_on_time_table(certification: Certification, filters: Filters) -> Table:
    """Per year of delivery, the holders declared to the Caisse des Dépôts within three months (one query, grouped
    by day of delivery and time of the first declaration: holders are delivered by jury and declared by file)."""
    awarded = (
        awards(certification, filters)
        .annotate(first_declared_at=first_declared_at())
        .values("awarded_on", "first_declared_at")
        .annotate(holders=Count("pk"))
        .order_by("awarded_on")
    )
    today = clock.localdate()
    by_year: dict[int, dict[str, int]] = {}
    for row in awarded:
        counts = by_year.setdefault(row["awarded_on"].year, {"awarded": 0, "on_time": 0, "late": 0})
        declared_on = timezone.localdate(row["first_declared_at"]) if row["first_declared_at"] else None
        status = duty_status(awarded_on=row["awarded_on"], declared_on=declared_on, today=today)
        counts["awarded"] += row["holders"]
        counts["on_time"] += row["holders"] if status == DutyStatus.DECLARED_ON_TIME else 0
        counts["late"] += row["holders"] if status == DutyStatus.DECLARED_LATE else 0
    rows = [
        [
            str(year),
            counts["awarded"],
            counts["on_time"],
            counts["late"],
            counts["awarded"] - counts["on_time"] - counts["late"],
            rate(counts["on_time"], counts["awarded"]),
        ]
        for year, counts in sorted(by_year.items())
    ]
    return Table(
        key="declared_on_time",
        title="Titulaires déclarés à la Caisse des Dépôts dans les trois mois, par année de délivrance",
        columns=[
            Column("Année de délivrance", "text"),
            Column("Certifiés"),
            Column("Déclarés dans le délai"),
            Column("Déclarés après l’échéance"),
            Column("Pas encore déclarés"),
            Column("Part déclarée dans le délai", "rate"),
        ],
        rows=rows,
        definition=(
            "Part déclarée dans le délai = titulaires déclarés au plus tard à l’échéance ÷ certifications délivrées "
            "cette année-là et non retirées. Échéance : trois mois après la délivrance (article L.6113-8 du Code du "
            "travail), le dernier jour du mois quand le même jour n’existe pas ; la date qui compte est celle du "
            "premier fichier qui a déclaré le titulaire. Filtre de voie : celle de l’inscription présentée au jury."
        ),
        empty=not rows,
    )


@dataclass
class Pending:
    """Candidates holding some blocks but not all, and no certification: how many per number of blocks held, and
    per block."""

    by_count: dict[int, int]
    by_block: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_count.values())


def _pending(certification: Certification, filters: Filters, blocks: list[Block]) -> Pending:
    """Two queries: the pending candidates' number of blocks held, and the holders of each block."""
    held = pending_held_blocks(certification, filters, len(blocks))
    per_candidate = held.order_by().values("candidate_id").annotate(n=Count("pk")).values_list("n", flat=True)
    by_block = held.order_by().values("block_id").annotate(n=Count("candidate_id", distinct=True))
    return Pending(
        by_count=dict(Counter(per_candidate)),
        by_block={row["block_id"]: row["n"] for row in by_block},
    )


def _pending_definition(block_count: int) -> str:
    return (
        f"Candidats qui détiennent au moins un bloc sans détenir les {block_count}, et à qui la certification n'a "
        "pas été délivrée ; blocs acquis par décision de jury ou repris de l'historique, valables sans limite de "
        "durée. Avec un filtre d'année : la situation au 31 décembre de cette année. Avec un filtre de voie : les "
        "candidats inscrits au moins une fois sur cette voie. Un bloc ou un certificat retiré (fraude) ne compte pas."
    )


def _pending_table(blocks: list[Block], pending: Pending) -> Table:
    """Acquired blocks pending a full certification, by number of blocks held."""
    rows = [
        [f"{counted(n, 'bloc', 'blocs')} sur {len(blocks)}", pending.by_count.get(n, 0)] for n in range(1, len(blocks))
    ]
    chart_title = "Candidats en attente d'une certification complète, par nombre de blocs détenus"
    return Table(
        key="pending",
        title="Blocs acquis en attente d'une certification complète",
        columns=[Column("Blocs détenus", "text"), Column("Candidats")],
        rows=rows,
        definition=_pending_definition(len(blocks)),
        chart=_count_chart(chart_title, rows) if pending.total else None,
        empty=not pending.total,
    )


def _pending_blocks_table(certification: Certification, blocks: list[Block], pending: Pending) -> Table:
    """The blocks the pending candidates hold."""
    rows = [[block_label(certification, block), pending.by_block.get(block.pk, 0)] for block in blocks]
    chart_title = "Blocs détenus par les candidats en attente d'une certification complète"
    return Table(
        key="pending_blocks",
        title="Blocs détenus par les candidats en attente",
        columns=[Column("Bloc", "text"), Column("Candidats qui le détiennent")],
        rows=rows,
        definition=_pending_definition(len(blocks)),
        chart=_count_chart(chart_title, rows) if pending.total else None,
        empty=not pending.total,
    )


def compute(certification: Certification, filters: Filters) -> Dashboard:
    """Every figure of the dashboard in a fixed number of queries (ten), whatever the amount of data."""
    blocks = list(Block.objects.filter(certification=certification).order_by("number"))
    tallies = decision_tallies(signed_decisions(certification, filters))
    target = target_per_year(certification)
    overall = tallies.overall
    by_year = {year: tallies.by_year[year] for year in sorted(tallies.by_year)}
    certified_by_year = _certified_by_year(certification, filters)
    pending = _pending(certification, filters, blocks)
    tables = [
        _certified_table(certification, filters, target, certified_by_year, by_year),
        _declared_on_time_table(certification, filters),
        _presented_table(filters, by_year),
        _blocks_table(certification, blocks, tallies),
        _pathways_table(tallies),
        _cohorts_table(tallies),
        _places_table(tallies),
        _pending_table(blocks, pending),
        _pending_blocks_table(certification, blocks, pending),
    ]
    return Dashboard(
        certification=certification,
        filters=filters,
        target=target,
        total_candidates=overall["candidates"],
        total_taken=overall["taken"],
        total_validated=overall["validated"],
        total_certified=sum(certified_by_year.values()),
        total_pending=pending.total,
        tables=tables,
    )


# — Results: one row per candidate × block decision of signed sessions —

RESULT_HEADERS = [
    "Nom de naissance",
    "Nom d'usage",
    "Prénom(s)",
    "Voie d'accès",
    "Promotion",
    "Lieu de préparation",
    "Date du jury",
    "Lieu du jury",
    "Bloc",
    "Proposition",
    "Décision du jury",
    "Rectification",
    "Décision retenue",
    "Motif de l'écart à la proposition",
    "N° de certificat",
]
OUTCOME_LABELS = {**dict(Outcome.choices), **dict(DecisionOutcome.choices)}


# The columns the results export reads, in the order `_result_row` writes them: plain values from one query
# (no model objects, none of the fiche's long texts).
RESULT_COLUMNS = (
    "presentation__enrolment__candidate__birth_name",
    "presentation__enrolment__candidate__usage_name",
    "presentation__enrolment__candidate__first_name",
    "presentation__enrolment__candidate__second_first_name",
    "presentation__enrolment__candidate__third_first_name",
    "presentation__enrolment__cohort__pathway__label",
    "presentation__enrolment__cohort__name",
    "presentation__enrolment__cohort__preparation_place__name",
    "presentation__session__date",
    "presentation__session__place",
    "block__certification__rncp_code",
    "block__number",
    "proposal_outcome",
    "outcome",
    "departure_reason",
    "certificate_number",
)


def result_decisions(certification: Certification, filters: Filters):
    """The decisions the results export lists (signed sessions, filtered), in the file's order: for counting them
    (`.count()`) or reading their rows (`result_rows`)."""
    return _taken(signed_decisions(certification, filters)).order_by(
        "presentation__session__date",
        "presentation__session_id",
        *person_order("presentation__enrolment__candidate__"),
        "presentation__enrolment__candidate_id",
        "block__number",
    )


def _result_row(values: tuple, rectified_outcomes: dict[int, str]) -> list:
    (pk, birth, usage, first, second, third, pathway, cohort, place, date, jury_place, rncp_code, number, proposal,
     outcome, reason, certificate) = values  # fmt: skip
    rectified = rectified_outcomes.get(pk, "")
    final = rectified or outcome
    return [
        birth,
        usage,
        " ".join(name for name in (first, second, third) if name),  # as Candidate.first_names
        pathway,
        cohort,
        place,
        date,
        jury_place,
        f"RNCP{rncp_code}BC{number:02d}",
        OUTCOME_LABELS.get(proposal, proposal),
        OUTCOME_LABELS.get(outcome, outcome),
        OUTCOME_LABELS.get(rectified, "") if rectified else "",
        OUTCOME_LABELS.get(final, final),
        reason,
        certificate or "",
    ]


RESULT_CHUNK = 2000  # rows read from the database at a time: a large export never sits whole in memory


def result_rows(certification: Certification, filters: Filters) -> Iterator[list]:
    """Every decision of the signed sessions (filtered), in one query read in chunks, as export rows; their latest
    rectifications are read once, before."""
    certificate = (
        CertificationAward.objects.in_force()
        .filter(certification=certification, candidate_id=OuterRef("presentation__enrolment__candidate_id"))
        .values("number")[:1]
    )
    decisions = result_decisions(certification, filters)
    rectified_outcomes = latest_rectified_outcomes(signed_decisions(certification, filters))
    rows = decisions.annotate(certificate_number=Subquery(certificate)).values_list("pk", *RESULT_COLUMNS)
    return (_result_row(values, rectified_outcomes) for values in rows.iterator(chunk_size=RESULT_CHUNK))


# — Files —


def _title_rows(dashboard: Dashboard) -> list[list]:
    certification = dashboard.certification
    return [
        [f"Statistiques de la certification {certification.rncp_label} — {certification.title}"],
        [f"Filtres : {dashboard.filters.describe()}"],
        [f"Produit le {date_format(timezone.localdate(), 'j F Y')}"],
    ]


def statistics_csv(dashboard: Dashboard) -> bytes:
    """All the tables in one CSV, one section per table (title, headers, rows, definition), for French Excel."""
    from candidates.exports import csv_bytes

    rows = [*_title_rows(dashboard), []]
    for table in dashboard.tables:
        rows.append([table.title])
        rows.append([column.header for column in table.columns])
        rows.extend(
            [
                format_rate(value) if column.kind == "rate" else value
                for column, value in zip(table.columns, row, strict=True)
            ]
            for row in table.rows
        )
        rows.append([f"Définition : {table.definition}"])
        rows.append([])
    return csv_bytes(rows)


SHEET_TITLES = {
    "certified": "Certifiés par année",
    "declared_on_time": "Déclarés dans le délai",
    "presented": "Présentés par année",
    "blocks": "Réussite par bloc",
    "pathways": "Réussite par voie",
    "cohorts": "Réussite par promotion",
    "places": "Réussite par lieu",
    "pending": "En attente (nb de blocs)",
    "pending_blocks": "En attente (par bloc)",
}


def statistics_xlsx(dashboard: Dashboard) -> bytes:
    """One sheet per table (rates as numbers shown as percentages), the filters and definition under each."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from candidates.exports import fill_sheet, workbook_bytes

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in dashboard.tables:
        sheet = workbook.create_sheet(SHEET_TITLES[table.key])
        formats = {index: "0.0 %" for index, column in enumerate(table.columns) if column.kind == "rate"}
        fill_sheet(sheet, [column.header for column in table.columns], table.rows, number_formats=formats)
        sheet.append([])
        for line in (f"Définition : {table.definition}", f"Filtres : {dashboard.filters.describe()}"):
            sheet.append([line])
            sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True)
    return workbook_bytes(workbook)


def results_csv(rows: Iterable[list]) -> Iterator[bytes]:
    """The results as CSV for French Excel, piece by piece (a streamed response): the BOM and headers first, then
    the rows a few hundred at a time."""
    from candidates.exports import csv_lines

    yield "\ufeff".encode()
    yield from (text.encode("utf-8") for text in csv_lines(itertools.chain([RESULT_HEADERS], rows)))


RESULT_DATE_COLUMNS = frozenset({RESULT_HEADERS.index("Date du jury")})


def results_xlsx(rows: Iterable[list], *, progress: Callable[[int], object] | None = None) -> bytes:
    """The results as one sheet, written row by row (openpyxl's write-only mode: the file grows, not a grid of
    cell objects). `progress(rows written)` is called every RESULT_CHUNK rows (the background export's bar)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from candidates.exports import workbook_bytes

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Résultats")
    sheet.freeze_panes = "A2"
    widths = [len(header) + 2 for header in RESULT_HEADERS]
    bold = Font(bold=True)
    sheet_rows = []
    header = []
    for text in RESULT_HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet_rows.append(header)
    count = 0
    for values in rows:
        cells = []
        for index, value in enumerate(values):
            if value in ("", None):
                cells.append(None)
            elif index in RESULT_DATE_COLUMNS:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            else:
                cells.append(str(value))  # text stays text: "=…" is no formula, a number code keeps its zeros
                widths[index] = max(widths[index], len(str(value)) + 2)
        sheet_rows.append(cells)
        count += 1
        if progress is not None and count % RESULT_CHUNK == 0:
            progress(count)
    # Write-only sheets take their column widths and filter before the first row.
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, 60)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(RESULT_HEADERS))}{count + 1}"
    for cells in sheet_rows:
        sheet.append(cells)
    if progress is not None:
        progress(count)
    return workbook_bytes(workbook)
