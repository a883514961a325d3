"""Statistics and exports: every figure of the dashboard checked against a dataset whose answers are
known by construction, the filters, the charts, the files, the permissions and a query count that does not grow.

The dataset (`build_dataset`), every write through the application's services:

| session | date | status | promotion (voie, lieu) | candidate: decisions on blocks 1 2 3 4 |
|---|---|---|---|---|
| S1 | 15/06/2021 | signed | A (formation continue, IRUP) | a1: V V V V (certified) · a2: N V V V · a3: N N N N, block 1 rectified to V |
| S2 | 14/06/2022 | signed | B (apprentissage, GRETA) | b1: V V V V (certified) · b2: V N V V (block 1: the jury departs from « non validé ») |
| S3 | 20/09/2022 | signed | E (apprentissage, IRUP) | e1: V N (blocks 1 and 2 only) |
| S4 | 01/12/2022 | **not signed** | C (formation continue, IRUP) | c1, c2: V on block 1 — must count nowhere |
"""

import csv
import datetime
import io
import re
from types import SimpleNamespace

import openpyxl
import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import CertificationAward
from certif.models import AccessPathway, Block, Certification
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation
from juries import services as juries
from juries.models import Decision, JurySessionStatus, Rectification
from reporting import statistics
from tests.factories import complete_grids, decide_all, enrol_many, fill_and_submit, make_cohort, make_jury, present_all

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
D = datetime.date
NBSP_PERCENT = "\u00a0%"
DASHBOARD = reverse("statistics:dashboard")
EXPORT_URLS = {
    name: reverse(f"statistics:{name}") for name in ("statistics_csv", "statistics_xlsx", "results_csv", "results_xlsx")
}


# — The dataset —


def _evaluated(staff, trainer, *, name, pathway, place, rows: dict[int, list[str]], starts_on):
    """A cohort whose candidates (one per row string) are evaluated and their grids submitted, on `rows`' blocks."""
    complete_grids(staff)
    cohort = make_cohort(staff, pathway_code=pathway, place_name=place, trainers=[trainer], name=name)
    count = len(next(iter(rows.values())))
    enrolments = enrol_many(cohort, staff, count)
    blocks = list(Block.objects.filter(certification__rncp_code="16204", number__in=rows).order_by("number"))
    session = evaluation.evaluation_session_open(
        cohort=cohort,
        blocks=blocks,
        evaluators=[trainer],
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=60),
        actor=staff,
    )
    for be in BlockEvaluation.objects.filter(session=session).select_related("grid", "block"):
        codes = {e.pk: row for e, row in zip(enrolments, rows[be.block.number], strict=True)}
        fill_and_submit(be, enrolments, trainer, codes)
    return enrolments


def _decision(session, enrolment, number):
    return Decision.objects.get(presentation__session=session, presentation__enrolment=enrolment, block__number=number)


def _jury(staff, president, enrolments, *, day, numbers, overrides=None, sign=True):
    session = make_jury(staff, president, numbers=numbers, day=day)
    present_all(session, enrolments, staff)
    decide_all(session, president, overrides(session) if overrides else None)
    if sign:
        juries.jury_session_sign_off(session=session, signed_by=president)
    return session


def build_dataset(staff, trainer, president, suffix=""):
    a = _evaluated(
        staff,
        trainer,
        name=f"Promo A{suffix}",
        pathway="formation-continue",
        place="IRUP",
        rows={1: ["A", "D", "D"], 2: ["A", "A", "D"], 3: ["A", "A", "D"], 4: ["A", "A", "D"]},
        starts_on=D(2021, 3, 1),
    )
    s1 = _jury(staff, president, a, day=D(2021, 6, 15), numbers=(1, 2, 3, 4))
    juries.decision_rectify(
        decision=_decision(s1, a[2], 1),
        outcome="validated",
        reason="Erreur matérielle de report : la compétence 3 avait été démontrée.",
        signed_by=president,
    )

    b = _evaluated(
        staff,
        trainer,
        name=f"Promo B{suffix}",
        pathway="apprentissage",
        place="GRETA",
        rows={1: ["A", "D"], 2: ["A", "D"], 3: ["A", "A"], 4: ["A", "A"]},
        starts_on=D(2022, 3, 1),
    )
    reason = "Financement démontré devant le jury."
    s2 = _jury(
        staff,
        president,
        b,
        day=D(2022, 6, 14),
        numbers=(1, 2, 3, 4),
        overrides=lambda session: {_decision(session, b[1], 1).pk: ("validated", reason)},
    )

    e = _evaluated(
        staff,
        trainer,
        name=f"Promo E{suffix}",
        pathway="apprentissage",
        place="IRUP",
        rows={1: ["A"], 2: ["D"]},
        starts_on=D(2022, 6, 1),
    )
    s3 = _jury(staff, president, e, day=D(2022, 9, 20), numbers=(1, 2))

    c = _evaluated(
        staff,
        trainer,
        name=f"Promo C{suffix}",
        pathway="formation-continue",
        place="IRUP",
        rows={1: ["A", "A"]},
        starts_on=D(2022, 9, 1),
    )
    s4 = _jury(staff, president, c, day=D(2022, 12, 1), numbers=(1,), sign=False)
    assert s4.status == JurySessionStatus.PREPARED
    assert Decision.objects.filter(presentation__session=s4).exclude(outcome="").count() == 2

    return SimpleNamespace(
        a1=a[0], a2=a[1], a3=a[2], b1=b[0], b2=b[1], e1=e[0], c=c, s1=s1, s2=s2, s3=s3, s4=s4, reason=reason
    )


@pytest.fixture
def data(staff_user, trainer_user, president_user):
    return build_dataset(staff_user, trainer_user, president_user)


def pathway(code):
    return AccessPathway.objects.get(certification__rncp_code="16204", code=code)


def compute(**filters):
    return statistics.compute(Certification.objects.get(rncp_code="16204"), statistics.Filters(**filters))


def rows_of(dashboard, key):
    return dashboard.table(key).rows


def pct(value):
    return pytest.approx(value, abs=1e-9)


# — The figures —


def test_every_figure_matches_the_dataset(data):
    assert CertificationAward.objects.count() == 2
    board = compute()

    assert board.target == 15
    assert (board.total_candidates, board.total_taken, board.total_validated) == (6, 22, 16)
    assert board.total_rate_text == "72,7" + NBSP_PERCENT
    assert (board.total_certified, board.total_pending) == (2, 4)

    assert rows_of(board, "certified") == [["2021", 1, 15], ["2022", 1, 15]]
    assert rows_of(board, "presented") == [["2021", 3, 12, 8, pct(8 / 12)], ["2022", 3, 10, 8, pct(0.8)]]
    assert rows_of(board, "blocks") == [
        ["Bloc 1 (RNCP16204BC01)", 6, 6, 5, pct(5 / 6)],  # a3's block 1 counts as rectified
        ["Bloc 2 (RNCP16204BC02)", 6, 6, 3, pct(0.5)],
        ["Bloc 3 (RNCP16204BC03)", 5, 5, 4, pct(0.8)],
        ["Bloc 4 (RNCP16204BC04)", 5, 5, 4, pct(0.8)],
    ]
    assert rows_of(board, "pathways") == [
        ["En contrat d'apprentissage", 3, 10, 8, pct(0.8)],
        ["Après un parcours de formation continue", 3, 12, 8, pct(8 / 12)],
    ]
    place_irup, place_greta = "IRUP", "GRETA de la Martinique/GIP-FCIP"
    assert rows_of(board, "cohorts") == [
        ["Promo A", "Après un parcours de formation continue", place_irup, 3, 12, 8, pct(8 / 12)],
        ["Promo B", "En contrat d'apprentissage", place_greta, 2, 8, 7, pct(7 / 8)],
        ["Promo E", "En contrat d'apprentissage", place_irup, 1, 2, 1, pct(0.5)],
    ]  # Promo C's session is not signed: absent
    assert rows_of(board, "places") == [[place_irup, 4, 14, 9, pct(9 / 14)], [place_greta, 2, 8, 7, pct(7 / 8)]]
    # a2 (blocks 2 3 4), b2 (1 3 4), a3 (1, by rectification), e1 (1); a1 and b1 are certified
    assert rows_of(board, "pending") == [["1 bloc sur 4", 2], ["2 blocs sur 4", 0], ["3 blocs sur 4", 2]]
    assert [row[1] for row in rows_of(board, "pending_blocks")] == [3, 1, 2, 2]


def test_a_decision_counts_with_its_latest_rectification_whatever_order_they_were_written(data, president_user):
    """Rectifications are read by signature date, not by order of writing: the dashboard, the overview and the
    results file agree with `Decision.current_outcome`."""
    decision = _decision(data.s1, data.a2, 1)  # « non validé » by the jury
    now = timezone.now()
    for outcome, signed_at in (("validated", now), ("not_validated", now - datetime.timedelta(days=2))):
        Rectification.objects.create(
            decision=decision, outcome=outcome, reason="Relecture du procès-verbal.", signed_by=president_user,
            signed_at=signed_at,
        )  # fmt: skip
    assert Decision.objects.get(pk=decision.pk).current_outcome == "validated"

    board = compute()
    assert rows_of(board, "blocks")[0] == ["Bloc 1 (RNCP16204BC01)", 6, 6, 6, pct(1.0)]
    assert (board.total_taken, board.total_validated) == (22, 17)
    (summary,) = statistics.overview([Certification.objects.get(rncp_code="16204")])
    assert (summary.candidates, summary.taken, summary.validated) == (6, 22, 17)
    a2_block_1 = [
        row
        for row in statistics.result_rows(board.certification, statistics.Filters())
        if row[0] == data.a2.candidate.birth_name and row[8] == "RNCP16204BC01"
    ]
    assert [(row[10], row[11], row[12]) for row in a2_block_1] == [("Non validé", "Validé", "Validé")]


def test_filters_apply_to_every_figure(data):
    board = compute(year=2021)
    assert (board.total_candidates, board.total_taken, board.total_validated, board.total_certified) == (3, 12, 8, 1)
    assert rows_of(board, "certified") == [["2021", 1, 15]]
    assert rows_of(board, "presented") == [["2021", 3, 12, 8, pct(8 / 12)]]
    assert [row[1:4] for row in rows_of(board, "blocks")] == [[3, 3, 2]] * 4
    assert [row[0] for row in rows_of(board, "pathways")] == ["Après un parcours de formation continue"]
    # on 31 December 2021: a2 (3 blocks) and a3 (1 block); 2022's candidates do not exist yet
    assert rows_of(board, "pending") == [["1 bloc sur 4", 1], ["2 blocs sur 4", 0], ["3 blocs sur 4", 1]]
    assert [row[1] for row in rows_of(board, "pending_blocks")] == [1, 1, 1, 1]

    board = compute(pathway=pathway("apprentissage"))
    assert (board.total_candidates, board.total_taken, board.total_validated, board.total_certified) == (3, 10, 8, 1)
    assert rows_of(board, "certified") == [["2022", 1, 15]]
    assert [row[0] for row in rows_of(board, "cohorts")] == ["Promo B", "Promo E"]
    assert rows_of(board, "places") == [
        ["IRUP", 1, 2, 1, pct(0.5)],
        ["GRETA de la Martinique/GIP-FCIP", 2, 8, 7, pct(7 / 8)],
    ]
    assert rows_of(board, "pending") == [["1 bloc sur 4", 1], ["2 blocs sur 4", 0], ["3 blocs sur 4", 1]]

    # Formation continue in 2022: only Promo C's unsigned session — nothing presented, nothing certified
    board = compute(year=2022, pathway=pathway("formation-continue"))
    assert (board.total_taken, board.total_certified) == (0, 0)
    assert rows_of(board, "certified") == [["2022", 0, 15]]
    assert board.table("presented").empty and board.table("blocks").empty and board.table("cohorts").empty
    assert board.total_pending == 2  # a2 and a3, still waiting at the end of 2022
    assert not board.is_empty

    board = compute(pathway=pathway("vae"))
    assert board.is_empty


def test_the_target_is_read_from_the_fiche(certification):
    assert statistics.target_per_year(certification) == 15
    assert certification.statistics == "15 certifiés par an"
    certification.statistics = "Environ 20 certifiés par an"
    assert statistics.target_per_year(certification) == 20
    certification.statistics = ""
    assert statistics.target_per_year(certification) is None


# — The page —


def test_dashboard_shows_charts_and_tables(staff_client, data):
    response = staff_client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()

    # one accessible SVG chart per table, each followed by its table
    assert html.count('<svg class="stat-chart') == 8
    assert html.count('role="img"') == 8
    assert 'aria-labelledby="graphique-certified-title graphique-certified-desc"' in html
    assert '<title id="graphique-certified-title">Certifiés par année</title>' in html
    assert "2021 : 1 ; 2022 : 1. Objectif de la fiche : 15 par an</desc>" in html
    assert 'class="stat-target"' in html and ">Objectif de la fiche : 15 par an</text>" in html
    assert '<title id="graphique-blocks-title">Taux de réussite par bloc</title>' in html
    assert f">83,3{NBSP_PERCENT}</text>" in html  # the value is written on the bar

    # SVG numbers are never localised (a decimal comma would break the drawing)
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        for value in re.findall(r'\s(?:width|height|x|y|x1|x2|y1|y2|viewBox)="([^"]*)"', svg):
            assert "," not in value, value

    assert html.count("<caption>") == 9  # the eight charted tables and the declarations within three months
    assert '<th scope="col">Année</th>' in html
    assert '<th scope="row" class="fw-normal">Promo B</th>' in html
    assert f'<td class="text-end">87,5{NBSP_PERCENT}</td>' in html
    assert "Taux de réussite = blocs validés ÷ décisions prises." in html
    assert "compte avec sa dernière rectification" in html
    assert "Promo C" not in html  # an unsigned session counts nowhere

    # the filters: labelled, with the available years
    assert re.search(r'<label\s+for="id_year"[^>]*>\s*Année \(date du jury\)', html)
    assert re.search(r'<label\s+for="id_pathway"[^>]*>\s*Voie d&#x27;accès', html)
    assert '<option value="2022">2022</option>' in html and '<option value="2021">2021</option>' in html


def test_dashboard_filters_and_export_links_keep_them(staff_client, data):
    apprentissage = pathway("apprentissage")
    response = staff_client.get(DASHBOARD, {"year": "2022", "pathway": apprentissage.pk})
    assert response.status_code == 200
    board = response.context["dashboard"]
    assert board.filters == statistics.Filters(year=2022, pathway=apprentissage)
    assert board.total_taken == 10
    html = response.content.decode()
    assert "année 2022 ; voie « En contrat d&#x27;apprentissage »" in html
    assert f"{EXPORT_URLS['results_xlsx']}?year=2022&amp;pathway={apprentissage.pk}" in html

    response = staff_client.get(DASHBOARD, {"year": "1999"})
    assert response.status_code == 400
    assert "Aucune session de jury signée cette année-là." in response.content.decode()
    assert response.context["dashboard"].filters == statistics.Filters()
    assert staff_client.get(EXPORT_URLS["statistics_csv"], {"year": "1999"}).status_code == 400


def test_empty_state_in_french(staff_client, certification):
    html = staff_client.get(DASHBOARD).content.decode()
    assert "Aucune donnée pour ces filtres : aucune session de jury signée" in html
    assert "<svg" not in html


def test_without_a_target_in_the_fiche_no_target_line(staff_client, certification, data):
    Certification.objects.filter(pk=certification.pk).update(statistics="")
    html = staff_client.get(DASHBOARD).content.decode()
    assert 'class="stat-target"' not in html
    assert "la fiche ne donne pas d'objectif chiffré" in html
    assert staff_client.get(DASHBOARD).context["dashboard"].table("certified").rows == [
        ["2021", 1, None],
        ["2022", 1, None],
    ]


# — The files —


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def read_xlsx(response):
    return openpyxl.load_workbook(io.BytesIO(response.content))


def test_statistics_xlsx_one_sheet_per_table(staff_client, data):
    response = staff_client.get(EXPORT_URLS["statistics_xlsx"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.search(r'filename="statistiques-RNCP16204-\d{4}-\d{2}-\d{2}\.xlsx"', response["Content-Disposition"])
    workbook = read_xlsx(response)
    assert workbook.sheetnames == [
        "Certifiés par année",
        "Déclarés dans le délai",
        "Présentés par année",
        "Réussite par bloc",
        "Réussite par voie",
        "Réussite par promotion",
        "Réussite par lieu",
        "En attente (nb de blocs)",
        "En attente (par bloc)",
    ]
    sheet = workbook["Réussite par bloc"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Bloc", "Candidats présentés", "Décisions prises", "Blocs validés", "Taux de réussite")
    assert rows[1][:4] == ("Bloc 1 (RNCP16204BC01)", 6, 6, 5)
    assert rows[1][4] == pytest.approx(5 / 6)
    assert sheet["E2"].number_format == "0.0 %"
    assert rows[6][0].startswith("Définition : Taux de réussite = blocs validés ÷ décisions prises.")
    assert rows[7][0] == "Filtres : toutes les années ; toutes les voies d'accès"
    certified = list(workbook["Certifiés par année"].iter_rows(values_only=True))
    assert certified[:3] == [("Année", "Certifiés", "Objectif de la fiche"), ("2021", 1, 15), ("2022", 1, 15)]


def test_statistics_csv_one_section_per_table(staff_client, data):
    response = staff_client.get(EXPORT_URLS["statistics_csv"], {"year": "2021"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.search(r'filename="statistiques-RNCP16204-\d{4}-\d{2}-\d{2}-2021\.csv"', response["Content-Disposition"])
    rows = read_csv(response)
    assert rows[1] == ["Filtres : année 2021 ; toutes les voies d'accès"]
    titles = [rows[index + 1][0] for index, row in enumerate(rows[:-1]) if row == [] and rows[index + 1]]
    assert titles == [table.title for table in compute().tables]
    start = rows.index(["Taux de réussite par voie d'accès"])
    assert rows[start + 1] == [
        "Voie d'accès",
        "Candidats présentés",
        "Décisions prises",
        "Blocs validés",
        "Taux de réussite",
    ]
    assert rows[start + 2] == ["Après un parcours de formation continue", "3", "12", "8", "66,7" + NBSP_PERCENT]
    assert rows[start + 3][0].startswith("Définition : ")


def test_results_one_row_per_decision_of_signed_sessions(staff_client, data):
    response = staff_client.get(EXPORT_URLS["results_xlsx"])
    rows = list(read_xlsx(response).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header == tuple(statistics.RESULT_HEADERS)
    assert len(body) == 22  # Promo C's unsigned session is not exported
    by_key = {(row[0], row[8]): dict(zip(header, row, strict=True)) for row in body}

    a3 = by_key[(data.a3.candidate.birth_name, "RNCP16204BC01")]
    assert (a3["Proposition"], a3["Décision du jury"], a3["Rectification"], a3["Décision retenue"]) == (
        "Non validé",
        "Non validé",
        "Validé",
        "Validé",
    )
    assert a3["Date du jury"] == datetime.datetime(2021, 6, 15)
    assert (a3["Voie d'accès"], a3["Promotion"], a3["Lieu de préparation"]) == (
        "Après un parcours de formation continue",
        "Promo A",
        "IRUP",
    )
    assert a3["N° de certificat"] is None

    b2 = by_key[(data.b2.candidate.birth_name, "RNCP16204BC01")]
    assert (b2["Proposition"], b2["Décision retenue"], b2["Motif de l'écart à la proposition"]) == (
        "Non validé",
        "Validé",
        data.reason,
    )
    b1_number = CertificationAward.objects.get(candidate=data.b1.candidate).number
    assert {by_key[(data.b1.candidate.birth_name, f"RNCP16204BC0{n}")]["N° de certificat"] for n in range(1, 5)} == {
        b1_number
    }
    assert b1_number.startswith("MPES-2022-")

    response = staff_client.get(EXPORT_URLS["results_csv"], {"year": "2022", "pathway": pathway("apprentissage").pk})
    assert response["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == statistics.RESULT_HEADERS
    assert len(rows) == 1 + 10
    assert {row[6] for row in rows[1:]} == {"14/06/2022", "20/09/2022"}
    assert {row[4] for row in rows[1:]} == {"Promo B", "Promo E"}


# — Access and navigation —


@pytest.mark.parametrize("role_client", ["trainer_client", "president_client"])
def test_trainers_and_presidents_are_refused(request, role_client, certification):
    client = request.getfixturevalue(role_client)
    for url in [DASHBOARD, *EXPORT_URLS.values()]:
        response = client.get(url)
        assert response.status_code == 403, url
    assert "Votre rôle ne vous permet pas d'accéder à cette page." in client.get(DASHBOARD).content.decode()
    assert DASHBOARD not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_login(client, certification):
    for url in [DASHBOARD, *EXPORT_URLS.values()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_staff_reach_the_dashboard_from_the_menu_and_the_home_page(staff_client, certification):
    html = staff_client.get(reverse("home")).content.decode()
    assert f'<a class="nav-link" href="{DASHBOARD}">Statistiques</a>' in html
    assert f'href="{DASHBOARD}">Statistiques et exports</a>' in html


# — A fixed number of queries, whatever the data —


def _queries(client, url, params=None):
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_query_count_does_not_grow_when_the_dataset_doubles(
    staff_client, staff_user, trainer_user, president_user, django_assert_num_queries
):
    build_dataset(staff_user, trainer_user, president_user)
    apprentissage = pathway("apprentissage")
    filtered = {"year": "2022", "pathway": apprentissage.pk}
    counts = {
        "dashboard": _queries(staff_client, DASHBOARD),
        "filtered": _queries(staff_client, DASHBOARD, filtered),
        **{name: _queries(staff_client, url, filtered) for name, url in EXPORT_URLS.items()},
    }

    build_dataset(staff_user, trainer_user, president_user, suffix=" bis")
    board = compute()
    assert (board.total_candidates, board.total_taken, board.total_validated, board.total_certified) == (12, 44, 32, 4)
    assert rows_of(board, "blocks")[1][1:4] == [12, 12, 6]

    # blocks; the decisions with their rectifications, their sessions and their cohorts (every rate table); certified;
    # declared on time; two for pending holders
    certification, filters = Certification.objects.get(rncp_code="16204"), statistics.Filters(2022, apprentissage)
    with django_assert_num_queries(8):
        statistics.compute(certification, filters)
    # the page adds the certification, the years (2) and the filter's pathways (+1 to validate a chosen one)
    assert counts["filtered"] == counts["dashboard"] + 1
    with django_assert_num_queries(counts["dashboard"]):
        staff_client.get(DASHBOARD)
    with django_assert_num_queries(counts["filtered"]):
        staff_client.get(DASHBOARD, filtered)
    for name, url in EXPORT_URLS.items():
        with django_assert_num_queries(counts[name]):
            staff_client.get(url, filtered)
