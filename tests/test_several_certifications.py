"""Two certifications installed side by side: RNCP 16204 and an example fiche, RNCP 99901 (a copy of 16204's
export under another code and title). Every page shows the right certification's data, chooses a certification
explicitly where it matters, keeps its query count when a second fiche and more data arrive, and still shows each
role only what it may see."""

import datetime
import json
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Cohort
from certif.models import AccessPathway, Certification, PreparationPlace
from certif.referential import export_referential, import_referential
from evaluation.models import EvaluationSession
from juries.models import JurySession
from tests.factories import (
    decide_all,
    enrol_many,
    evaluated_cohort,
    make_candidate,
    make_cohort,
    make_jury,
    present_all,
)
from tests.signed_world import sign

EXAMPLE_TITLE = "Coordinateur de projets solidaires (fiche d'exemple)"
BANNER = "Cette démonstration contient une fiche d'exemple, RNCP99901, qui n'est pas une fiche réelle."


def install_second(certification, *, code="99901", example=True) -> Certification:
    copy = json.loads(json.dumps(export_referential(certification)))
    copy["certification"]["rncp_code"] = code
    copy["certification"]["title"] = EXAMPLE_TITLE
    second, _ = import_referential(copy)
    Certification.objects.filter(pk=second.pk).update(is_example=example)
    second.refresh_from_db()
    return second


def text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def second(certification):
    return install_second(certification)


def signed_jury(staff, trainer, president, *, rncp_code, count, name):
    """`count` candidates of a cohort of `rncp_code`, evaluated on blocks 1 and 2 and validated by a signed jury."""
    cohort, enrolments, _ = evaluated_cohort(staff, trainer, count=count, name=name, rncp_code=rncp_code)
    session = make_jury(staff, president, rncp_code=rncp_code)
    present_all(session, enrolments, staff)
    decide_all(session, president)
    return cohort, enrolments, sign(session, president)


# — The referential pages —


@pytest.mark.django_db
class TestFichePages:
    def test_the_list_shows_every_fiche_with_its_state_today(self, staff_client, certification, second):
        Certification.objects.filter(pk=second.pk).update(last_delivery_date=datetime.date(2023, 10, 17))
        response = staff_client.get(reverse("certif:certification_list"))
        assert response.status_code == 200  # no redirect, even to the only fiche in force
        html = text(response)
        assert "RNCP16204 — Manager de proximité dans l'économie sociale et solidaire" in html
        assert f"RNCP99901 — {EXAMPLE_TITLE} · fiche d'exemple (démonstration)" in html
        assert "Enregistrement terminé le 17/04/2023" in html
        assert "17/10/2023" in html  # the last delivery date

    def test_a_single_fiche_is_listed_too(self, staff_client, certification):
        response = staff_client.get(reverse("certif:certification_list"))
        assert response.status_code == 200
        assert "RNCP16204 — Manager de proximité" in text(response)

    def test_the_fiche_shows_its_lineage_its_last_delivery_date_and_whether_it_is_in_force(
        self, trainer_client, certification, second
    ):
        Certification.objects.filter(pk=second.pk).update(
            previous_rncp_codes=["RNCP16204", "RNCP12345"], last_delivery_date=datetime.date(2023, 10, 17)
        )
        html = text(trainer_client.get(reverse("certif:fiche", args=["99901"])))
        assert f'<a href="{reverse("certif:fiche", args=["16204"])}">RNCP16204</a>' in html
        assert "RNCP12345" in html and 'href="/referentiel/12345/"' not in html
        assert "Date limite de délivrance" in html and "17/10/2023" in html
        assert "Fiche d'exemple (démonstration)" in html
        assert "Enregistrement terminé le 17/04/2023" in html
        assert "En vigueur aujourd'hui" not in html

    def test_a_fiche_in_force_says_so(self, trainer_client, certification):
        certification.registrations.create(
            act="Décision de France compétences (test)", in_force_from="2023-04-17", in_force_until="2099-12-31"
        )
        html = text(trainer_client.get(reverse("certif:fiche", args=["16204"])))
        assert "En vigueur aujourd'hui" in html
        assert "Fiche d'exemple" not in html

    def test_every_page_carries_the_example_banner_only_when_an_example_is_installed(self, staff_client, certification):
        assert BANNER not in text(staff_client.get(reverse("home")))
        install_second(certification)
        for url in (reverse("home"), reverse("candidates:list"), reverse("certif:certification_list")):
            assert BANNER in text(staff_client.get(url)), url


# — Cohorts and places —


@pytest.mark.django_db
class TestCohorts:
    def test_the_form_offers_every_certification_and_says_which_are_in_force(self, staff_client, second):
        html = text(staff_client.get(reverse("candidates:cohort_create")))
        assert (
            "RNCP16204 — Manager de proximité dans l'économie sociale et solidaire (enregistrement terminé le 17/04/2023)"
            in html
        )
        assert "RNCP99901 · Après un parcours de formation continue" in html  # pathways named by their certification

    def test_a_pathway_of_another_certification_is_refused_next_to_the_field(self, staff_client, certification, second):
        fields = {
            "certification": second.pk,
            "name": "Promotion mélangée",
            "pathway": AccessPathway.objects.get(certification=certification, code="formation-continue").pk,
            "preparation_place": PreparationPlace.objects.filter(certification=second).first().pk,
            "start_date": "2025-09-01",
            "end_date": "2026-06-30",
        }
        response = staff_client.post(reverse("candidates:cohort_create"), fields)
        assert response.status_code == 400
        assert (
            "Cette voie d'accès est celle d'une autre certification (RNCP16204) : choisissez une voie d'accès de la "
            "certification RNCP99901." in text(response)
        )
        assert not Cohort.objects.exists()
        fields["pathway"] = AccessPathway.objects.get(certification=second, code="formation-continue").pk
        response = staff_client.post(reverse("candidates:cohort_create"), fields)
        assert response.status_code == 302
        assert Cohort.objects.get().certification == second

    def test_a_cohort_keeps_its_certification_and_offers_only_its_pathways(self, staff_client, staff_user, second):
        cohort = make_cohort(staff_user, rncp_code="99901", name="P-99901")
        html = text(staff_client.get(reverse("candidates:cohort_edit", args=[cohort.pk])))
        assert "RNCP16204 · " not in html and "Après un parcours de formation continue" in html
        fields = {
            "certification": Certification.objects.get(rncp_code="16204").pk,  # a disabled field: ignored
            "name": "P-99901 renommée",
            "pathway": cohort.pathway_id,
            "preparation_place": cohort.preparation_place_id,
            "start_date": "2025-09-01",
            "end_date": "2026-06-30",
        }
        assert staff_client.post(reverse("candidates:cohort_edit", args=[cohort.pk]), fields).status_code == 302
        cohort.refresh_from_db()
        assert cohort.name == "P-99901 renommée" and cohort.certification == second

    def test_the_certification_must_be_chosen_when_several_are_installed(self, staff_client, second):
        response = staff_client.post(reverse("candidates:cohort_create"), {"name": "Sans certification"})
        assert "Choisissez la certification de la promotion." in text(response)

    def test_a_place_is_created_for_the_chosen_certification(self, staff_client, second):
        response = staff_client.post(
            reverse("candidates:place_create"), {"certification": second.pk, "name": "Tiers-lieu", "address": "Lyon"}
        )
        assert response.status_code == 302
        assert PreparationPlace.objects.get(name="Tiers-lieu").certification == second


# — Candidates —


@pytest.mark.django_db
class TestCandidates:
    def test_the_list_filters_by_certification_and_names_it(self, staff_client, staff_user, second):
        enrol_many(make_cohort(staff_user, name="P-16204"), staff_user, 2, birth_name="Seizemille")
        enrol_many(make_cohort(staff_user, name="P-99901", rncp_code="99901"), staff_user, 1, birth_name="Exemple")
        html = text(staff_client.get(reverse("candidates:list"), {"certification": "99901"}))
        assert "EXEMPLE" in html and "SEIZEMILLE" not in html
        assert f"RNCP99901 — {EXAMPLE_TITLE}" in html
        html = text(staff_client.get(reverse("candidates:list"), {"certification": "16204"}))
        assert "SEIZEMILLE" in html and "EXEMPLE" not in html

    def test_the_export_follows_the_filter_and_names_the_certification(self, staff_client, staff_user, second):
        enrol_many(make_cohort(staff_user, name="P-16204"), staff_user, 1, birth_name="Seizemille")
        enrol_many(make_cohort(staff_user, name="P-99901", rncp_code="99901"), staff_user, 1, birth_name="Exemple")
        response = staff_client.get(reverse("candidates:export_csv"), {"certification": "99901"})
        content = response.content.decode("utf-8-sig")
        assert "Certification(s)" in content.splitlines()[0]
        assert "Exemple" in content and "Seizemille" not in content
        assert content.splitlines()[1].endswith(";RNCP99901")

    def test_the_candidate_page_has_a_section_per_certification(self, staff_client, staff_user, trainer_user, second):
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, submit=False)
        candidate = enrolments[0].candidate
        from candidates import services

        services.enrolment_create(
            candidate=candidate, cohort=make_cohort(staff_user, rncp_code="99901"), actor=staff_user
        )
        services.acquired_block_import(
            candidate=candidate,
            block=second.blocks.get(number=3),
            acquired_on=datetime.date(2021, 6, 1),
            import_source="Procès-verbal du 1er juin 2021",
            actor=staff_user,
        )
        html = text(staff_client.get(reverse("candidates:detail", args=[candidate.pk])))
        assert "Certification et blocs de compétences — RNCP16204 — Manager de proximité" in html
        assert f"Certification et blocs de compétences — RNCP99901 — {EXAMPLE_TITLE}" in html
        example = html[html.index('id="certification-99901"') :]
        assert "Procès-verbal du 1er juin 2021" in example
        assert (
            "Procès-verbal du 1er juin 2021"
            not in html[html.index('id="certification-16204"') : html.index('id="certification-99901"')]
        )

    def test_a_withdrawal_is_from_the_chosen_certification(self, staff_client, staff_user, certification, second):
        from candidates import services
        from candidates.models import AcquiredBlock, Withdrawal

        candidate = make_candidate(staff_user)
        for block in (certification.blocks.get(number=1), second.blocks.get(number=2)):
            services.acquired_block_import(
                candidate=candidate,
                block=block,
                acquired_on=datetime.date(2021, 6, 1),
                import_source=f"Procès-verbal {block.code}",
                actor=staff_user,
            )
        url = reverse("candidates:withdrawal_create", args=[candidate.pk])
        html = text(staff_client.get(url))
        assert "détient des résultats de plusieurs certifications" in html
        assert "Procès-verbal RNCP99901BC02" not in html  # nothing offered before the choice
        html = text(staff_client.get(url, {"certification": "99901"}))
        assert "Procès-verbal RNCP99901BC02" in html and "Procès-verbal RNCP16204BC01" not in html
        held = AcquiredBlock.objects.get(block__certification=second)
        fields = {
            "blocks": [held.pk],
            "reference": "Décision n° 2026-14",
            "decided_on": "2026-11-20",
            "reason": "Pièce falsifiée.",
            "password": "mot-de-passe-de-test",
            "confirm": "on",
        }
        response = staff_client.post(f"{url}?certification=99901", fields)
        assert response.status_code == 302
        assert Withdrawal.objects.get().certification == second
        assert staff_client.get(url, {"certification": "12345"}).status_code == 404

    def test_a_trainer_still_sees_only_the_candidates_of_their_cohorts(
        self, trainer_client, staff_user, trainer_user, second
    ):
        enrol_many(
            make_cohort(staff_user, trainers=[trainer_user], rncp_code="99901"), staff_user, 1, birth_name="Suivi"
        )
        enrol_many(make_cohort(staff_user, rncp_code="99901"), staff_user, 1, birth_name="Ailleurs")
        html = text(trainer_client.get(reverse("candidates:list"), {"certification": "99901"}))
        assert "SUIVI" in html and "AILLEURS" not in html
        assert trainer_client.get(reverse("candidates:cohort_create")).status_code == 403


# — Evaluations and juries —


@pytest.mark.django_db
class TestEvaluationAndJuries:
    def test_grids_and_the_session_list_name_the_certification(self, staff_client, staff_user, trainer_user, second):
        evaluated_cohort(staff_user, trainer_user, count=1, name="P-16204", submit=False)
        _, _, session = evaluated_cohort(
            staff_user, trainer_user, count=1, name="P-99901", submit=False, rncp_code="99901"
        )
        html = text(staff_client.get(reverse("evaluation:grid", args=[session.pk, 1])))
        assert "Grille du bloc 1 · RNCP99901BC01" in html
        assert f"Certification : RNCP99901 — {EXAMPLE_TITLE} · fiche d'exemple (démonstration)" in html
        html = text(staff_client.get(reverse("evaluation:session_list"), {"certification": "99901"}))
        assert "P-99901" in html and "P-16204" not in html

    def test_a_jury_session_is_created_for_the_chosen_certification(self, staff_client, second):
        html = text(staff_client.get(reverse("juries:create")))
        assert "examine les blocs d'une seule certification" in html
        url = reverse("juries:create") + "?certification=99901"
        page = text(staff_client.get(url))
        assert f"Préparer une session de jury — RNCP99901 — {EXAMPLE_TITLE}" in page
        blocks = list(second.blocks.order_by("number").values_list("pk", flat=True))
        response = staff_client.post(url, {"date": "2022-06-14", "place": "Lyon", "blocks": blocks[:2]})
        assert response.status_code == 302
        assert JurySession.objects.get().certification == second

    def test_presenting_offers_only_the_enrolments_of_the_sessions_certification(
        self, staff_client, staff_user, trainer_user, president_user, second
    ):
        evaluated_cohort(staff_user, trainer_user, count=1, name="P-16204")
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, name="P-99901", rncp_code="99901")
        session = make_jury(staff_user, president_user, rncp_code="99901")
        html = text(staff_client.get(reverse("juries:presentations", args=[session.pk])))
        assert enrolments[0].candidate.full_name in html
        assert "P-16204" not in html
        html = text(staff_client.get(reverse("juries:list"), {"certification": "16204"}))
        assert "Aucune session de jury." in html

    def test_a_president_still_sees_only_their_sessions(self, client, staff_user, trainer_user, president_user, second):
        session = make_jury(staff_user, president_user, rncp_code="99901")
        client.force_login(president_user)
        assert client.get(reverse("juries:detail", args=[session.pk])).status_code == 200
        assert client.get(reverse("juries:create")).status_code == 403
        assert client.get(reverse("statistics:dashboard")).status_code == 403
        assert client.get(reverse("declarations:index")).status_code == 403


@pytest.mark.django_db
def test_blocks_of_another_certification_never_complete_a_sessions_documents(
    staff_user, trainer_user, president_user, second
):
    from candidates import services
    from documents.content import find_slot, session_slots
    from documents.models import DocumentKind

    _, enrolments, session = signed_jury(staff_user, trainer_user, president_user, rncp_code="16204", count=1, name="P")
    candidate = enrolments[0].candidate
    for number in (3, 4):  # with blocks 1 and 2 of 16204 validated: four blocks held, but not four of 16204
        services.acquired_block_import(
            candidate=candidate,
            block=second.blocks.get(number=number),
            acquired_on=datetime.date(2021, 6, 1),
            import_source="Procès-verbal",
            actor=staff_user,
        )
    kinds = [slot.kind for slot in session_slots(session) if slot.candidate == candidate]
    assert kinds == [DocumentKind.RESULTS, DocumentKind.ATTESTATION]
    assert find_slot(session, DocumentKind.ATTESTATION, candidate.pk) is not None


# — Statistics, declarations, home —


@pytest.mark.django_db
class TestFiguresPerCertification:
    def test_statistics_count_each_certification_apart(
        self, staff_client, staff_user, trainer_user, president_user, second
    ):
        signed_jury(staff_user, trainer_user, president_user, rncp_code="16204", count=3, name="P-16204")
        signed_jury(staff_user, trainer_user, president_user, rncp_code="99901", count=1, name="P-99901")
        response = staff_client.get(reverse("statistics:dashboard"))
        html = text(response)
        overview = html[html.index('id="overview"') :]
        row_16204 = overview[overview.index('id="overview-16204"') : overview.index('id="overview-99901"')]
        row_99901 = overview[overview.index('id="overview-99901"') :]
        assert '<td class="text-end">3</td><td class="text-end">6</td><td class="text-end">6</td>' in row_16204
        assert '<td class="text-end">1</td><td class="text-end">2</td><td class="text-end">2</td>' in row_99901
        detail = text(staff_client.get(reverse("statistics:dashboard"), {"certification": "99901"}))
        assert f"RNCP99901 — {EXAMPLE_TITLE}" in detail
        export = staff_client.get(reverse("statistics:statistics_csv"), {"certification": "99901"})
        assert "statistiques-RNCP99901-" in export["Content-Disposition"]
        assert "RNCP99901" in export.content.decode("utf-8-sig")
        assert staff_client.get(reverse("statistics:results_csv")).status_code == 400  # which one?

    def test_the_cdc_index_lists_every_certification(
        self, staff_client, staff_user, trainer_user, president_user, second
    ):
        signed_jury(staff_user, trainer_user, president_user, rncp_code="99901", count=1, name="P-99901")
        response = staff_client.get(reverse("declarations:index"))
        assert response.status_code == 200
        html = text(response)
        assert reverse("declarations:declare", args=["16204"]) in html
        assert reverse("declarations:declare", args=["99901"]) in html
        assert staff_client.get(reverse("declarations:declare", args=["99901"])).status_code == 200

    def test_the_staff_home_shows_the_work_per_certification(self, staff_client, second):
        html = text(staff_client.get(reverse("home")))
        assert 'id="work-16204"' in html and 'id="work-99901"' in html
        example = html[html.index('id="work-99901"') :]
        assert "Bloc 2 : 6 compétences définies sur 9" in example
        assert reverse("certif:block_edit", args=["99901", 2]) in example


# — Query counts: the same with one certification and with two, more data —


def _count(client, url, params=None) -> int:
    client.get(url, params or {})  # warm the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(captured)


PAGES = [
    ("home", None),
    ("certif:certification_list", None),
    ("candidates:list", {"certification": "16204"}),
    ("candidates:cohort_list", None),
    ("evaluation:session_list", {"certification": "16204"}),
    ("juries:list", {"certification": "16204"}),
    ("statistics:dashboard", {"certification": "16204"}),
    ("declarations:index", None),
]


@pytest.mark.django_db
def test_each_page_counts_the_same_queries_with_one_and_two_certifications(
    staff_client, staff_user, trainer_user, president_user, certification
):
    signed_jury(staff_user, trainer_user, president_user, rncp_code="16204", count=1, name="P-1")
    one = {name: _count(staff_client, reverse(name), params) for name, params in PAGES}
    install_second(certification)
    signed_jury(staff_user, trainer_user, president_user, rncp_code="99901", count=3, name="P-2")
    signed_jury(staff_user, trainer_user, president_user, rncp_code="16204", count=2, name="P-3")
    two = {name: _count(staff_client, reverse(name), params) for name, params in PAGES}
    assert two == one
    # Every certification at a glance: a fixed number of queries too.
    overview = _count(staff_client, reverse("statistics:dashboard"))
    install_second(certification, code="99902")
    assert _count(staff_client, reverse("statistics:dashboard")) == overview


@pytest.mark.django_db
def test_the_pages_of_one_session_count_the_same_queries_beside_a_second_certification(
    staff_client, staff_user, trainer_user, president_user, certification
):
    _, enrolments, evaluation_session = evaluated_cohort(staff_user, trainer_user, count=2, name="P-1")
    jury = make_jury(staff_user, president_user)
    present_all(jury, enrolments[:1], staff_user)
    urls = [
        reverse("evaluation:grid", args=[evaluation_session.pk, 1]),
        reverse("juries:detail", args=[jury.pk]),
        reverse("juries:presentations", args=[jury.pk]),
        reverse("certif:fiche", args=["16204"]),
    ]
    one = {url: _count(staff_client, url) for url in urls}
    install_second(certification)
    _, others, _ = evaluated_cohort(staff_user, trainer_user, count=3, name="P-2", rncp_code="99901")
    other_jury = make_jury(staff_user, president_user, rncp_code="99901")
    present_all(other_jury, others, staff_user)
    assert {url: _count(staff_client, url) for url in urls} == one


@pytest.mark.django_db
def test_the_candidate_page_counts_the_same_queries_whatever_its_certifications(
    staff_client, staff_user, trainer_user, certification
):
    from candidates import services

    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1, submit=False)
    candidate = enrolments[0].candidate
    url = reverse("candidates:detail", args=[candidate.pk])
    one = _count(staff_client, url)
    second = install_second(certification)
    services.enrolment_create(candidate=candidate, cohort=make_cohort(staff_user, rncp_code="99901"), actor=staff_user)
    services.acquired_block_import(
        candidate=candidate,
        block=second.blocks.get(number=1),
        acquired_on=datetime.date(2021, 6, 1),
        import_source="Procès-verbal",
        actor=staff_user,
    )
    assert _count(staff_client, url) == one
    assert EvaluationSession.objects.count() == 1
