"""The accessibility audit: every page of every role, on the demo's data, at 1280 px and on a 390 px phone.

On each page, axe-core (vendored from the npm registry, tests/browser/vendor/axe.min.js, `make assets`) checks the
rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA, and the page must not scroll sideways as a whole (a wide table
scrolls inside its own focusable, labelled region). Each page must answer the status written beside it.

The pages are named below, role by role, from the demo's objects (`seed_demo`, the story the README tells), never
from fixed ids; then every page linked from those and not yet audited (one per kind of page) is audited too, so that
a page added later is checked as soon as a menu, a list or a button leads to it. `test_every_page_is_audited` keeps
the list whole: each route of the project is audited here or named in NOT_PAGES with the reason.

What the audit checks and what it found is written for readers in docs/accessibility-audit.md.
"""

import datetime
import io
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from certif.demo import DEMO_PASSWORD
from tests.browser.conftest import log_in

# The demo is seeded once, committed, by `demo_server`; each test runs in a transaction rolled back after it (what the
# live server writes meanwhile, sessions and login records, goes with it on SQLite, and with the flush on PostgreSQL).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = [1280, 390]

# Routes that are not pages a person reads: files, JSON for scripts, actions a form posts to, the admin (outside
# the audit: Django's own pages). Anything else must be audited.
NOT_PAGES = {
    "healthcheck": "réponse JSON de supervision",
    "favicon": "redirige vers l'icône du site (fichier statique)",
    "logout": "action (POST) du bouton « Se déconnecter »",
    "admin_password_change": "redirige vers « mot-de-passe/ », audité",
    "candidates:personal_data": "fichier JSON des données personnelles",
    "candidates:export_csv": "fichier CSV",
    "candidates:export_xlsx": "fichier tableur",
    "candidates:import_confirm": "action (POST) du bouton de confirmation de l'import",
    "candidates:birth_commune_search": "réponse JSON de la recherche de communes",
    "candidates:birth_country_search": "réponse JSON de la recherche de pays",
    "certif:competence_add": "action (POST) de la page du bloc",
    "certif:competence_rename": "action (POST) de la page du bloc",
    "certif:competence_move": "action (POST) de la page du bloc",
    "certif:competence_remove": "action (POST) de la page du bloc",
    "certif:threshold_update": "action (POST) de la page du bloc",
    "juries:member_remove": "action (POST) de la page de la session",
    "juries:presentation_remove": "action (POST) de la page des candidats présentés",
    "juries:member_restore": "action (POST) « Rétablir » de la page de la session",
    "juries:presentation_restore": "action (POST) « Rétablir » de la page des candidats présentés",
    "documents:issue": "action (POST) de la page des documents",
    "documents:batch_start": "action (POST) de la page des documents",
    "documents:batch_status": "réponse JSON lue par la page des documents",
    "documents:batch_zip": "fichier ZIP",
    "documents:batch_pdf": "fichier PDF",
    "documents:batch_certificates": "fichier PDF (les certificats, sur leur papier)",
    "documents:download": "fichier PDF",
    "declarations:download": "fichier XML",
    "statistics:statistics_csv": "fichier CSV",
    "statistics:statistics_xlsx": "fichier tableur",
    "statistics:results_csv": "fichier CSV",
    "statistics:results_xlsx": "fichier tableur",
    "jobs:status": "réponse JSON lue par la page du travail en arrière-plan",
    "jobs:download": "fichier produit par un travail en arrière-plan",
}
NOT_PAGE_PREFIXES = ("admin:",)


def route_of(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def is_page_route(route: str | None) -> bool:
    return route is not None and route not in NOT_PAGES and not route.startswith(NOT_PAGE_PREFIXES)


# — The demo, built once for the module —


def issue_demo_documents(staff):
    """The demo asks the background worker for its documents; the audit issues those of the 2025 jury here."""
    from documents import services as documents
    from juries.models import JurySession

    session = JurySession.objects.get(date=datetime.date(2025, 6, 17))
    documents.documents_issue_missing(session=session, actor=staff, parallel=False)
    return session


def demo_objects() -> SimpleNamespace:
    """The demo's objects whose pages are audited, found by what the README tells of them."""
    from candidates.models import Candidate, Cohort, Enrolment
    from declarations.models import HolderDeclaration
    from documents.models import DocumentKind, IssuedDocument
    from evaluation.models import BlockEvaluation, LevelEntry
    from juries.models import Decision, JuryMember, JurySession, JurySessionStatus

    users = {user.username: user for user in get_user_model().objects.all()}
    staff = users["gestionnaire"]
    signed_2025 = issue_demo_documents(staff)
    ready = JurySession.objects.get(status=JurySessionStatus.PREPARED, date=datetime.date(2026, 11, 26))
    draft_grid = BlockEvaluation.objects.filter(session__cohort__name__startswith="MPES 2026-2027").order_by(
        "block__number"
    )[0]
    filled = LevelEntry.objects.filter(block_evaluation=draft_grid).order_by("pk").first()
    vae = Enrolment.objects.filter(cohort__name__startswith="VAE 2026").order_by("pk").first()
    nguyen = Candidate.objects.get(birth_name="Nguyen")
    return SimpleNamespace(
        results_job=results_export_job(staff),
        users=users,
        nguyen=nguyen,
        nguyen_enrolment=nguyen.enrolments.order_by("pk").last(),
        in_training=draft_grid.session.cohort.enrolments.order_by("pk").first().candidate,
        vae=vae,
        first_cohort=Cohort.objects.get(name__startswith="MPES 2021-2023"),
        draft_grid=draft_grid,
        filled=filled,
        submitted_grid=BlockEvaluation.objects.filter(session__cohort__name__startswith="VAE 2026").order_by(
            "block__number"
        )[0],
        ready=ready,
        ready_member=JuryMember.objects.filter(session=ready, is_president=False).order_by("pk").first(),
        signed_2025=signed_2025,
        signed_2023=JurySession.objects.get(date=datetime.date(2023, 3, 21)),
        signed_decision=Decision.objects.filter(presentation__session=signed_2025).order_by("pk").first(),
        certificate=IssuedDocument.objects.filter(session=signed_2025, kind=DocumentKind.CERTIFICATE)
        .order_by("pk")
        .first(),
        rejected_declaration=HolderDeclaration.objects.filter(certification__rncp_code="16204").order_by("pk")[0],
        declaration_2025=HolderDeclaration.objects.filter(certification__rncp_code="99901").order_by("pk")[0],
    )


def results_export_job(staff):
    """A results export asked by staff and left in the queue: its page (progress, then the file) is audited."""
    from certif import jobs
    from certif.models import Certification, JobKind
    from reporting import statistics
    from reporting.jobs import export_parameters

    certification = Certification.objects.get(rncp_code="16204")
    return jobs.job_request(
        kind=JobKind.RESULTS_XLSX,
        title="Résultats RNCP16204 (toutes les années ; toutes les voies d'accès)",
        parameters=export_parameters(certification, statistics.Filters()),
        total=1,
        actor=staff,
    )


def grid_url(grid, name="evaluation:grid"):
    return reverse(name, args=[grid.session_id, grid.block.number])


def pages_for(role: str, demo: SimpleNamespace) -> list[tuple[str, int]]:
    """The pages audited for `role` (« anonyme » for a visitor not logged in), each with the status it answers."""
    if role == "anonyme":
        owner = demo.users["formateur"]
        uid = urlsafe_base64_encode(force_bytes(owner.pk))
        return [
            ("/connexion/", 200),
            (reverse("password_reset"), 200),
            (reverse("password_reset_done"), 200),
            (reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(owner)]), 200),
            (reverse("password_reset_confirm", args=[uid, "lien-perime"]), 200),
            (reverse("password_reset_complete"), 200),
            (reverse("verification:form"), 200),
            (reverse("verification:check", args=[demo.certificate.grouped_code]), 200),
            (reverse("verification:check", args=["MPES-0000-0000"]), 404),
            ("/page-qui-n-existe-pas/", 404),
        ]
    common = [("/", 200), (reverse("password_change"), 200), (reverse("password_change_done"), 200)]
    referential = [
        (reverse("certif:certification_list"), 200),
        (reverse("certif:fiche", args=["16204"]), 200),
        (reverse("certif:fiche", args=["99901"]), 200),
    ]
    if role == "formateur":
        return [
            *common,
            *referential,
            (reverse("candidates:list"), 200),
            (reverse("candidates:detail", args=[demo.in_training.pk]), 200),
            (reverse("evaluation:session_list"), 200),
            (grid_url(demo.draft_grid), 200),
            (
                reverse(
                    "evaluation:cell_history",
                    args=[
                        demo.draft_grid.session_id,
                        demo.draft_grid.block.number,
                        demo.filled.enrolment_id,
                        demo.filled.competence_id,
                    ],
                ),
                200,
            ),
            (reverse("juries:list"), 403),  # the French « accès refusé » page
        ]
    if role == "president":
        return [
            *common,
            *referential,
            (reverse("juries:list"), 200),
            (reverse("juries:detail", args=[demo.ready.pk]), 200),
            (reverse("juries:deliberation", args=[demo.ready.pk]), 200),
            (reverse("juries:sign_off", args=[demo.ready.pk]), 200),
            (reverse("juries:detail", args=[demo.signed_2025.pk]), 200),
            (reverse("juries:rectify", args=[demo.signed_2025.pk, demo.signed_decision.pk]), 200),
            (reverse("candidates:list"), 403),
        ]
    assert role == "gestionnaire"
    return [
        *common,
        *referential,
        (reverse("certif:block_edit", args=["16204", 1]), 200),
        (reverse("certif:registration_add", args=["16204"]), 200),
        (reverse("certif:scale_edit", args=["16204"]), 200),
        (reverse("certif:correspondences", args=["99901"]), 200),
        (reverse("certif:fiche_import_upload"), 200),
        (reverse("candidates:list"), 200),
        (reverse("candidates:create"), 200),
        (reverse("candidates:detail", args=[demo.nguyen.pk]), 200),
        (reverse("candidates:detail", args=[demo.vae.candidate_id]), 200),
        (reverse("candidates:edit", args=[demo.nguyen.pk]), 200),
        (reverse("candidates:enrol", args=[demo.nguyen.pk]), 200),
        (reverse("candidates:enrolment_edit", args=[demo.nguyen_enrolment.pk]), 200),
        (reverse("candidates:admissibility", args=[demo.vae.pk]), 200),
        (reverse("candidates:acquired_block_add", args=[demo.nguyen.pk]), 200),
        (reverse("candidates:withdrawal_create", args=[demo.nguyen.pk]), 200),
        (reverse("candidates:cohort_list"), 200),
        (reverse("candidates:cohort_create"), 200),
        (reverse("candidates:cohort_edit", args=[demo.first_cohort.pk]), 200),
        (reverse("candidates:cohort_transfer", args=[demo.first_cohort.pk]), 200),
        (reverse("candidates:places_to_check"), 200),
        (reverse("candidates:place_create"), 200),
        (reverse("candidates:import_upload"), 200),
        (reverse("evaluation:session_list"), 200),
        (reverse("evaluation:session_open"), 200),
        (grid_url(demo.draft_grid), 200),
        (grid_url(demo.submitted_grid), 200),
        (grid_url(demo.submitted_grid, "evaluation:reopen"), 200),
        (reverse("juries:list"), 200),
        (reverse("juries:create"), 200),
        (reverse("juries:detail", args=[demo.ready.pk]), 200),
        (reverse("juries:edit", args=[demo.ready.pk]), 200),
        (reverse("juries:member_add", args=[demo.ready.pk]), 200),
        (reverse("juries:member_edit", args=[demo.ready.pk, demo.ready_member.pk]), 200),
        (reverse("juries:presentations", args=[demo.ready.pk]), 200),
        (reverse("juries:recusal_add", args=[demo.ready.pk]), 200),
        (reverse("juries:deliberation", args=[demo.ready.pk]), 200),
        (reverse("juries:sign_off", args=[demo.ready.pk]), 403),  # only the president signs
        (reverse("juries:detail", args=[demo.signed_2023.pk]), 200),
        (reverse("documents:session", args=[demo.signed_2025.pk]), 200),
        (reverse("documents:session", args=[demo.signed_2023.pk]), 200),
        (reverse("documents:revoke", args=[demo.certificate.pk]), 200),
        (reverse("statistics:dashboard"), 200),
        (reverse("jobs:detail", args=[demo.results_job.pk]), 200),
        (reverse("declarations:index"), 200),
        (reverse("declarations:declare", args=["16204"]), 200),
        (reverse("declarations:declare", args=["99901"]), 200),
        (reverse("declarations:settings", args=["99901"]), 200),
        (reverse("declarations:history", args=["16204"]), 200),
        (reverse("declarations:detail", args=[demo.rejected_declaration.pk]), 200),
        (reverse("declarations:receipt", args=[demo.declaration_2025.pk]), 200),
    ]


# Pages reached by sending a form, not by an address: audited after the action that leads there.
SUBMITTED_PAGES = {
    "certif:fiche_import_preview": "la lecture d'un export de France Compétences",
    "candidates:import_upload (aperçu)": "l'envoi d'un fichier de candidats",
    "candidates:create (erreurs)": "l'envoi d'un formulaire incomplet",
}


@pytest.fixture(scope="module")
def demo_server(django_db_setup, django_db_blocker):
    """A live server on the demo's data, seeded once for the module; the database is emptied afterwards as a
    transactional test leaves it (the referential and roles installed again by post_migrate)."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        demo = demo_objects()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield SimpleNamespace(url=server.url, demo=demo)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


# — What is checked on a page —

RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}).then(
    results => results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))
    })))"""
WIDTHS_NOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => !e.closest('.table-responsive, [data-scrolls]'))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
        ' → ' + Math.round(e.getBoundingClientRect().right) + ' px')"""


def audit_page(page) -> list[str]:
    """What fails on the page shown: axe's violations, then a sideways scroll of the whole page."""
    problems = []
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    for violation in page.evaluate(RUN_AXE, WCAG_TAGS):
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            problems.append(f"axe {violation['id']} ({violation['impact']}) : {node['target']} — {summary}")
    scroll_width, inner_width = page.evaluate(WIDTHS_NOW)
    if scroll_width > inner_width:
        problems.append(
            f"défilement horizontal : {scroll_width} px pour {inner_width} ({', '.join(page.evaluate(WIDEST))})"
        )
    return problems


class Crawl:
    """The pages one role sees at one width: those named, then those they link to, one page per kind."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.problems: dict[str, list[str]] = {}
        self.audited_routes: set[str] = set()
        self.audited_paths: set[str] = set()
        self.links: list[str] = []

    def visit(self, path: str, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path)
        self.audit(path, response.status if response else None, status)

    def audit(self, path: str, status: int | None, expected: int = 200, label: str | None = None) -> None:
        label = label or path
        self.audited_paths.add(urlsplit(path).path)
        route = route_of(urlsplit(path).path)
        if route:
            self.audited_routes.add(route)
        problems = [] if status == expected else [f"statut HTTP {status}, attendu {expected}"]
        problems += audit_page(self.page)
        if problems:
            self.problems[label] = problems
        self.links += self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")

    def follow_links(self) -> None:
        """Audit the linked pages of a kind not audited yet (one per route), until none is left."""
        while self.links:
            link = urlsplit(self.links.pop(0))
            if f"{link.scheme}://{link.netloc}" != self.base_url or link.path in self.audited_paths:
                continue
            route = route_of(link.path)
            if not is_page_route(route) or route in self.audited_routes:
                continue
            self.visit(link.path + (f"?{link.query}" if link.query else ""))

    def report(self) -> str:
        return "\n".join(
            f"\n{path}\n" + "\n".join(f"  - {problem}" for problem in problems)
            for path, problems in self.problems.items()
        )


def submit_forms(crawl: Crawl, tmp_path: Path) -> None:
    """The staff pages reached by sending a form (SUBMITTED_PAGES)."""
    page, base = crawl.page, crawl.base_url
    from certif.demo import SUCCESSOR_EXPORT

    page.goto(base + reverse("certif:fiche_import_upload"))
    page.get_by_label("Fichier de France Compétences").set_input_files(str(SUCCESSOR_EXPORT))
    page.get_by_label("Codes des fiches").fill("RNCP99901")
    with page.expect_navigation():
        page.get_by_role("button", name="Lire le fichier").click()
    crawl.audit(urlsplit(page.url).path, 200, label="aperçu de l'import d'une fiche")

    export = page.request.get(base + reverse("candidates:export_csv"))
    assert export.ok
    candidates_file = tmp_path / "candidats.csv"
    candidates_file.write_bytes(export.body())
    page.goto(base + reverse("candidates:import_upload"))
    page.locator("input[type=file]").set_input_files(str(candidates_file))
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").first.click()
    crawl.audit(page.url, navigation.value.status if navigation.value else None, label="aperçu de l'import")

    page.goto(base + reverse("candidates:create"))
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").last.click()
    crawl.audit(page.url, navigation.value.status if navigation.value else None, 200, "nouveau candidat, erreurs")


ROLES = ["gestionnaire", "formateur", "president", "anonyme"]
# The routes each crawl audited, named or reached by a link: read by test_every_page_is_audited, which runs after.
CRAWLED_ROUTES: set[str] = set()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_and_fits_the_width(page, demo_server, role, width, tmp_path):
    page.set_viewport_size({"width": width, "height": 900})
    if role != "anonyme":
        log_in(page, demo_server, role, DEMO_PASSWORD)
    crawl = Crawl(page, demo_server.url)
    for path, status in pages_for(role, demo_server.demo):
        crawl.visit(path, status)
    if role == "gestionnaire":
        submit_forms(crawl, tmp_path)
    crawl.follow_links()
    CRAWLED_ROUTES.update(crawl.audited_routes)
    print(f"{role}, {width} px : {len(crawl.audited_paths)} pages auditées")
    assert not crawl.problems, f"{len(crawl.problems)} pages en défaut ({role}, {width} px) :{crawl.report()}"


def all_routes(resolver=None, prefix="") -> list[str]:
    routes = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            routes += all_routes(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            routes.append(prefix + pattern.name)
    return routes


def test_every_page_is_audited(demo_server):
    """Each route of the project is a page audited above (named, or reached by a link), or named in NOT_PAGES with
    the reason."""
    audited = {"certif:fiche_import_preview"} | CRAWLED_ROUTES  # the preview: reached by sending a form
    for role in ROLES:
        audited |= {route_of(urlsplit(path).path) for path, _ in pages_for(role, demo_server.demo)}
    missing = [route for route in all_routes() if is_page_route(route) and route not in audited]
    assert not missing, f"Pages que l'audit ne visite pas : {missing} (ajoutez-les à pages_for ou à NOT_PAGES)"
    assert not [route for route in NOT_PAGES if route not in all_routes()], "NOT_PAGES nomme une route disparue"


def test_the_audit_tool_is_the_vendored_axe_core():
    assert re.match(r"/\*! axe v4\.\d+\.\d+", AXE_SOURCE)
