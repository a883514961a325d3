"""The frame every page shares: the menu marks the current section, the footer links to the public pages
(accessibility statement, legal notice, personal data), the favicon, and the French error pages — also under
`make run`, which keeps DEBUG on."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import loader
from django.urls import reverse
from lxml import html as lxml_html

from tests.factories import make_candidate

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
FOOTER_LINKS = {
    "Accessibilité : partiellement conforme": "/accessibilite/",
    "Mentions légales": "/mentions-legales/",
    "Données personnelles": "/donnees-personnelles/",
}


def tree(response):
    return lxml_html.fromstring(response.content.decode())


def footer_links(document) -> dict[str, str]:
    return {
        " ".join(link.text_content().split()): link.get("href")
        for link in document.xpath("//footer//nav[@aria-label='Informations sur le site']//a")
    }


def current_menu_entries(document) -> list[str]:
    return [
        link.text_content().strip()
        for link in document.xpath("//nav[@aria-label='Navigation principale']//a[@aria-current='page']")
    ]


@pytest.mark.django_db
class TestPublicPages:
    @pytest.mark.parametrize(
        ("url", "title", "texts"),
        [
            (
                "/accessibilite/",
                "Déclaration d'accessibilité",
                [
                    "partiellement conforme",
                    "auto-évaluation",
                    "1er décembre 2026",
                    "axe-core 4",
                    "WCAG 2.2",
                    "1280 pixels",
                    "390 pixels",
                    "clavier seul",
                    "documents PDF",
                    "Défenseur des droits",
                    "Libre réponse 71120",
                ],
            ),
            (
                "/mentions-legales/",
                "Mentions légales",
                [
                    "Institut régional universitaire polytechnique (IRUP)",
                    "Campus Industriel, Rue Copernic",
                    "42050 Saint-Étienne cedex",
                    "Directeur de la publication",
                    "Hébergement",
                    "L'hébergeur de cette installation n'est pas encore indiqué",
                ],
            ),
            (
                "/donnees-personnelles/",
                "Données personnelles",
                [
                    "RGPD",
                    "lieu de naissance",
                    "Caisse des Dépôts",
                    "France compétences",
                    "Finalités et bases légales",
                    "article 6.1.c",
                    "Durée de conservation",
                    "délégué à la protection des données",
                    "CNIL",
                ],
            ),
        ],
    )
    def test_anyone_reads_them_without_an_account(self, client, url, title, texts):
        response = client.get(url)
        assert response.status_code == 200
        document = tree(response)
        assert document.findtext(".//title").startswith(title)
        assert document.xpath("string(//h1)") == title
        page_text = " ".join(document.xpath("string(//main)").split())
        for text in texts:
            assert text in page_text, text
        assert footer_links(document) == FOOTER_LINKS
        # Anonymous: no menu.
        assert not document.xpath("//nav[@aria-label='Navigation principale']")

    def test_a_deployment_names_its_host_publication_director_and_contacts(self, client, settings):
        settings.HOSTING_PROVIDER = "Hébergeur Exemple SAS, 1 rue de l'Exemple, 75000 Paris"
        settings.SIGNATORY_NAME = "Jeanne Directrice"
        settings.CONTACT_EMAIL = "certification@irup.example"
        settings.DPO_EMAIL = "dpo@irup.example"
        legal = " ".join(tree(client.get("/mentions-legales/")).xpath("string(//main)").split())
        assert "Hébergeur Exemple SAS, 1 rue de l'Exemple, 75000 Paris" in legal
        assert "n'est pas encore indiqué" not in legal
        assert "Le directeur général de l'IRUP, Jeanne Directrice." in legal
        privacy = tree(client.get("/donnees-personnelles/"))
        assert privacy.xpath("//main//a[@href='mailto:dpo@irup.example']")
        statement = tree(client.get("/accessibilite/"))
        assert statement.xpath("//main//a[@href='mailto:certification@irup.example']")


@pytest.mark.django_db
class TestFooterOnEveryPageKind:
    def test_anonymous_pages(self, client):
        for url in (reverse("login"), reverse("password_reset"), reverse("verification:form")):
            assert footer_links(tree(client.get(url))) == FOOTER_LINKS, url

    def test_pages_of_each_role(self, staff_client, staff_user, trainer_user, president_user, client, certification):
        candidate = make_candidate(staff_user)
        for url in (
            reverse("home"),
            reverse("candidates:list"),
            reverse("candidates:detail", args=[candidate.pk]),
            reverse("candidates:create"),
            reverse("certif:fiche", args=[certification.rncp_code]),
            reverse("juries:list"),
            "/page-qui-n-existe-pas/",
        ):
            assert footer_links(tree(staff_client.get(url))) == FOOTER_LINKS, url
        for user in (trainer_user, president_user):
            client.force_login(user)
            assert footer_links(tree(client.get(reverse("home")))) == FOOTER_LINKS

    def test_the_server_error_page_too_rendered_without_request_or_database(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            rendered = loader.get_template("500.html").render()
        document = lxml_html.fromstring(rendered)
        assert footer_links(document) == FOOTER_LINKS


@pytest.mark.django_db
class TestMenu:
    @pytest.mark.parametrize(
        ("url_name", "entry"),
        [
            ("home", "Accueil"),
            ("certif:certification_list", "Fiches RNCP"),
            ("candidates:list", "Candidats"),
            ("candidates:create", "Candidats"),
            ("candidates:cohort_list", "Promotions"),
            ("evaluation:session_list", "Évaluations"),
            ("declarations:index", "Déclarations CDC"),
            ("statistics:dashboard", "Statistiques"),
            ("juries:list", "Jurys"),
        ],
    )
    def test_the_current_section_is_marked_for_assistive_technologies(self, staff_client, url_name, entry):
        assert current_menu_entries(tree(staff_client.get(reverse(url_name)))) == [entry]

    def test_a_page_inside_a_section_marks_it_too(self, staff_client, certification):
        url = reverse("certif:block_edit", args=[certification.rncp_code, 1])
        assert current_menu_entries(tree(staff_client.get(url))) == ["Fiches RNCP"]

    def test_a_page_outside_the_menu_marks_nothing(self, staff_client):
        assert current_menu_entries(tree(staff_client.get(reverse("password_change")))) == []


@pytest.mark.django_db
class TestFavicon:
    def test_every_page_links_an_icon_that_exists(self, client):
        document = tree(client.get(reverse("login")))
        icons = document.xpath("//head/link[@rel='icon']/@href")
        assert icons == ["/static/favicon.svg", "/static/favicon.png"]
        for name in ("favicon.svg", "favicon.png", "favicon.ico", "apple-touch-icon.png"):
            assert finders.find(name), name

    def test_the_address_browsers_ask_by_themselves_answers_without_an_account(self, client):
        response = client.get("/favicon.ico")
        assert response.status_code == 301
        assert response["Location"] == "/static/favicon.ico"


def run_recipe_settings() -> dict[str, str]:
    """The variables `make run` sets on the web server's command line."""
    recipe = MAKEFILE.read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    server_line = next(line for line in recipe.splitlines() if "manage.py runserver" in line)
    return dict(re.findall(r"\b([A-Z_]+)=(\S+)\s", server_line))


@pytest.fixture
def as_make_run(settings):
    """The settings of `make run`: DEBUG on (no DEBUG in its environment), plus what its recipe sets."""
    assert run_recipe_settings() == {"APPLICATION_ERROR_PAGES": "1"}
    settings.DEBUG = True
    settings.APPLICATION_ERROR_PAGES = True
    return settings


@pytest.mark.django_db
class TestErrorPages:
    def test_an_unknown_address_under_make_run_answers_the_french_page(self, client, as_make_run):
        response = client.get("/adresse-inconnue/")
        assert response.status_code == 404
        document = tree(response)
        assert document.xpath("string(//h1)") == "Page introuvable"
        assert document.xpath("//main//a[@href='/'][normalize-space()=\"Retour à l'accueil\"]")
        assert footer_links(document) == FOOTER_LINKS
        assert "URLconf" not in response.content.decode()

    def test_a_missing_record_under_make_run_too(self, staff_client, as_make_run):
        response = staff_client.get(reverse("candidates:detail", args=[999_999]))
        assert response.status_code == 404
        assert tree(response).xpath("string(//h1)") == "Page introuvable"

    def test_a_missing_slash_still_redirects(self, staff_client, as_make_run):
        response = staff_client.get("/candidats")
        assert response.status_code == 301 and response["Location"] == "/candidats/"

    @pytest.mark.urls("tests.config.crash_urls")
    def test_a_crash_under_make_run_answers_the_styled_server_error_page(self, client, as_make_run, caplog):
        response = client.get("/panne/")
        assert response.status_code == 500
        document = tree(response)
        assert document.xpath("string(//h1)") == "Erreur du serveur"
        assert document.xpath("//head/link[@rel='stylesheet']/@href") == [
            "/static/vendor/bootstrap/bootstrap.min.css",
            "/static/css/app.css",
        ]
        assert document.xpath("//main//a[@href='/'][normalize-space()=\"Retour à l'accueil\"]")
        assert footer_links(document) == FOOTER_LINKS
        # The developer still has the traceback, in the server's log.
        assert any(record.exc_info and "panne simulée" in str(record.exc_info[1]) for record in caplog.records)

    def test_without_the_setting_debug_keeps_django_s_technical_page(self, client, settings):
        settings.DEBUG = True
        settings.APPLICATION_ERROR_PAGES = False
        response = client.get("/adresse-inconnue/")
        assert response.status_code == 404
        assert "Page introuvable" not in response.content.decode()

    @pytest.mark.parametrize(("status", "heading"), [(400, "Requête invalide"), (403, "Accès refusé")])
    def test_the_other_error_pages_are_in_the_frame_with_a_way_home(self, rf, staff_user, status, heading):
        from django.views import defaults

        request = rf.get("/")
        request.user = staff_user
        view = defaults.bad_request if status == 400 else defaults.permission_denied
        response = view(request, Exception())
        document = lxml_html.fromstring(response.content.decode())
        assert response.status_code == status
        assert document.xpath("string(//h1)") == heading
        assert document.xpath("//main//a[@href='/']")
        assert footer_links(document) == FOOTER_LINKS
