"""A renewal in the browser, end to end: staff install the successor fiche from France Compétences' export, record
its correspondence table and transfer a candidate holding three blocks of RNCP 16204; the president signs a jury of
the new fiche on the one block the candidate still needs; the candidate's file and certificate show RNCP99901 with
the blocks carried over — in real headless Chromium, at 1280 px and on a 390 px phone."""

import datetime
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from candidates import services as candidate_services
from candidates.models import AcquiredBlockSource, CertificationAward
from certif.models import Block, Certification, PreparationPlace
from certif.referential import DATA_DIR
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation
from juries.demo import jury_compose
from juries.models import JurySession, JurySessionStatus
from tests.browser.conftest import log_in
from tests.factories import VALID_MEMBERS, fill_and_submit, make_candidate, make_cohort, present_all
from tests.renewal import successor_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPORT = DATA_DIR / "export-fiches-rncp-v4-1-exemple.xml"
OLD_JURY = "Procès-verbal du jury du 21 mars 2023 (reprise d'historique)"
NEW_JURY_DAY = datetime.date(2026, 6, 16)


def test_old_blocks_carry_over_to_a_certificate_under_the_new_fiche(
    page, live_server, settings, staff_user, trainer_user, president_user
):
    settings.PUBLIC_BASE_URL = live_server.url
    # A 2021-2023 apprentice who holds blocks 1, 2 and 4 of RNCP 16204; block 3 was never validated.
    old_cohort = make_cohort(staff_user, pathway_code="apprentissage", name="MPES 2021-2023 — apprentissage")
    candidate = make_candidate(staff_user)
    candidate_services.enrolment_create(candidate=candidate, cohort=old_cohort, actor=staff_user)
    for block in Block.objects.filter(certification__rncp_code="16204", number__in=(1, 2, 4)):
        candidate_services.acquired_block_import(
            candidate=candidate,
            block=block,
            acquired_on=datetime.date(2023, 3, 21),
            import_source=OLD_JURY,
            actor=staff_user,
        )

    # 1. Staff install RNCP99901 from the export, after reading the preview.
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/referentiel/import/")
    page.get_by_label("Fichier de France Compétences").set_input_files(str(EXPORT))
    page.get_by_label("Codes des fiches").fill("RNCP99901")
    page.get_by_role("button", name="Lire le fichier").click()
    page.get_by_role("heading", name=re.compile("Fiche RNCP99901")).wait_for()
    assert not Certification.objects.filter(rncp_code="99901").exists()  # nothing written before the confirmation
    page.get_by_role("button", name="Confirmer l'installation").click()
    page.get_by_role("heading", name=re.compile("Manager de proximité")).wait_for()
    successor = Certification.objects.get(rncp_code="99901")
    assert [b.threshold_value for b in Block.objects.filter(certification=successor).order_by("number")] == [
        3,
        80,
        5,
        5,
    ]
    assert page.get_by_text("RNCP16204").first.is_visible()  # the predecessor, named on the new fiche

    # 2. The correspondence table: new 1 ← old 2; new 2 ← old 1 and 2; new 3: none; new 4 ← old 4.
    page.get_by_role("link", name="Modifier les correspondances").click()
    for new, olds in {1: (2,), 2: (1, 2), 4: (4,)}.items():
        form = page.locator(f"#bloc-{new}")
        for old in olds:
            form.get_by_label(re.compile(f"^RNCP16204BC0{old} —")).check()
        form.get_by_role("button", name=f"Enregistrer la correspondance du bloc {new}").click()
        page.get_by_role("heading", name="Correspondances de blocs").wait_for()
    page.goto(f"{live_server.url}/referentiel/99901/")
    table = page.locator("#correspondances-precedentes")
    assert table.get_by_role("row", name=re.compile(r"RNCP99901BC02 .*RNCP16204BC01 \+ RNCP16204BC02")).is_visible()
    assert table.get_by_role("row", name=re.compile(r"RNCP99901BC03 .*aucune correspondance")).is_visible()

    # 3. Transfer to a promotion of the new fiche, on the same pathway.
    PreparationPlace.objects.create(certification=successor, name="IRUP", address="Saint-Étienne")
    target = successor_cohort(
        successor,
        staff_user,
        trainers=[trainer_user],
        name="MPES 2025-2026 — fin de parcours",
        pathway_code="apprentissage",
    )
    page.goto(f"{live_server.url}/candidats/promotions/")
    page.get_by_role("row", name=re.compile(old_cohort.name)).get_by_role(
        "link", name="transférer vers la nouvelle fiche"
    ).click()
    page.get_by_label("Promotion de la nouvelle fiche").select_option(str(target.pk))
    page.get_by_role("button", name="Transférer").click()
    page.get_by_text(re.compile("transféré")).first.wait_for()
    new_enrolment = target.enrolments.get(candidate=candidate)

    # The candidate's file already shows what carries over, under the new fiche.
    page.goto(f"{live_server.url}/candidats/{candidate.pk}/")
    assert page.get_by_text(re.compile("acquis par correspondance avec RNCP16204BC02")).first.is_visible()

    # 4. Evaluated on the new block 3 only, presented to a jury of RNCP99901.
    session = evaluation.evaluation_session_open(
        cohort=target,
        blocks=Block.objects.filter(certification=successor, number=3),
        evaluators=[trainer_user],
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 5, 29),
        actor=staff_user,
    )
    fill_and_submit(BlockEvaluation.objects.get(session=session), [new_enrolment], trainer_user, "A")
    jury = jury_compose(
        certification=successor,
        day=NEW_JURY_DAY,
        place="IRUP, Saint-Étienne",
        numbers=(3,),
        members=VALID_MEMBERS,
        president=president_user,
        actor=staff_user,
    )
    present_all(jury, [new_enrolment], staff_user)
    page.get_by_role("button", name="Se déconnecter").click()

    # 5. The president deliberates and signs.
    log_in(page, live_server, president_user.username)
    page.get_by_role("link", name="Jury du 16 juin 2026 — IRUP, Saint-Étienne").first.click()
    page.get_by_role("button", name="Enregistrer les décisions").click()
    page.get_by_text(re.compile("^Décisions enregistrées")).wait_for()
    page.get_by_role("button", name="Passer à la signature").click()
    page.get_by_label("Votre mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Signer la session").click()
    page.get_by_text(re.compile("^Session signée : les décisions sont définitives")).wait_for()
    assert JurySession.objects.get(pk=jury.pk).status == JurySessionStatus.SIGNED
    award = CertificationAward.objects.get(candidate=candidate, certification=successor)
    carried = candidate.acquired_blocks.filter(source=AcquiredBlockSource.CORRESPONDENCE)
    assert sorted(carried.values_list("block__number", flat=True)) == [1, 2, 4]
    page.get_by_role("button", name="Se déconnecter").click()

    # 6. Staff read the file, on a desktop and on a phone, and issue the certificate.
    log_in(page, live_server, staff_user.username)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/candidats/{candidate.pk}/")
        assert page.get_by_text(re.compile("acquis par correspondance avec RNCP16204BC04")).first.is_visible()
        assert page.get_by_text(award.number).first.is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/jurys/documents/sessions/{jury.pk}/")
    page.get_by_role("button", name=f"Émettre certificat de {candidate.full_name}").click()
    page.get_by_text("Document émis : Certificat — code de vérification").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Télécharger certificat de {candidate.full_name} (PDF)").click()
    pdf = PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert f"Certificat n° {award.number}" in text
    assert "RNCP99901" in text and "acquis par correspondance avec RNCP16204BC02" in text
