"""The page « Importer une fiche depuis France Compétences »: staff upload the export, read the preview, enter what
the fiche's words do not give, confirm; nothing is written before; other roles are refused."""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certif.models import AuditAction, AuditEvent, Block, Certification

SAMPLE = Path(__file__).resolve().parents[2] / "certif" / "data" / "export-fiches-rncp-v4-1-exemple.xml"
UPLOAD = reverse("certif:fiche_import_upload")
PREVIEW = reverse("certif:fiche_import_preview")
ONE_FICHE_QUERIES = 10  # with the banner that names the example fiches (one query per page)
TWO_FICHES_QUERIES = 29


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.RNCP_IMPORT_DIR = tmp_path / "imports"
    return settings.RNCP_IMPORT_DIR


def sample_upload(data: bytes | None = None, name="export.xml"):
    return SimpleUploadedFile(name, data if data is not None else SAMPLE.read_bytes(), content_type="text/xml")


def ambiguous_sample() -> bytes:
    """The sample with block 2 of RNCP99901 stating two thresholds: the staff must enter it."""
    data = SAMPLE.read_bytes()
    return data.replace(b"valider 80 % des comp", b"valider 80 % ou 3 des 5 comp")


def test_the_referential_pages_link_to_the_import(staff_client, certification):
    page = staff_client.get(reverse("certif:fiche", args=["16204"]))
    assert UPLOAD in page.content.decode()
    assert "Importer une fiche depuis France Compétences" in page.content.decode()


def test_upload_preview_confirm_creates_the_fiche(staff_client, certification, upload_dir):
    response = staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP99901"})
    assert response.status_code == 302 and response["Location"] == PREVIEW
    assert len(list(upload_dir.glob("*.export"))) == 1
    preview = staff_client.get(PREVIEW)
    content = preview.content.decode()
    assert preview.status_code == 200
    assert "Fiche RNCP99901" in content and "création" in content
    assert "80 % des 5 compétences" in content
    assert "Confirmer l&#x27;installation" in content or "Confirmer l'installation" in content
    assert not Certification.objects.filter(rncp_code="99901").exists()
    done = staff_client.post(PREVIEW, {"confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == reverse("certif:fiche", args=["99901"])
    assert Block.objects.filter(certification__rncp_code="99901").count() == 4
    assert AuditEvent.objects.filter(action=AuditAction.REFERENTIAL_FICHE_IMPORTED).count() == 1
    assert list(upload_dir.glob("*.export")) == []
    page = staff_client.get(done["Location"])
    assert "installée : RNCP99901" in page.content.decode()


def test_the_zip_as_published_is_read_too(staff_client, certification):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export_fiches_RNCP_V4_1_2026-12-01.xml", SAMPLE.read_bytes())
    upload = SimpleUploadedFile("export.zip", buffer.getvalue(), content_type="application/zip")
    response = staff_client.post(UPLOAD, {"export": upload, "codes": "RNCP99901"})
    assert response.status_code == 302
    assert "Fiche RNCP99901" in staff_client.get(PREVIEW).content.decode()


def test_a_missing_threshold_is_entered_next_to_its_block(staff_client, certification):
    staff_client.post(UPLOAD, {"export": sample_upload(ambiguous_sample()), "codes": "99901"})
    preview = staff_client.get(PREVIEW).content.decode()
    assert "Seuil à saisir : plusieurs seuils" in preview
    assert 'name="seuil-RNCP99901BC02-valeur"' in preview
    refused = staff_client.post(PREVIEW, {"confirm": "1"})
    assert refused.status_code == 400
    assert "Saisissez d&#x27;abord ce qui manque" in refused.content.decode()
    assert not Certification.objects.filter(rncp_code="99901").exists()
    too_high = staff_client.post(
        PREVIEW,
        {
            "confirm": "1",
            "seuil-RNCP99901BC02-forme": "count",
            "seuil-RNCP99901BC02-valeur": "6",
            "seuil-RNCP99901BC02-sur": "5",
        },
    )
    assert too_high.status_code == 400
    assert "entre 1 et 5" in too_high.content.decode()
    assert not Certification.objects.filter(rncp_code="99901").exists()
    done = staff_client.post(
        PREVIEW,
        {
            "confirm": "1",
            "seuil-RNCP99901BC02-forme": "count",
            "seuil-RNCP99901BC02-valeur": "4",
            "seuil-RNCP99901BC02-sur": "5",
        },
    )
    assert done.status_code == 302
    block = Block.objects.get(certification__rncp_code="99901", number=2)
    assert (block.threshold_kind, block.threshold_value, block.declared_competence_count) == ("count", 4, 5)


def test_the_preview_of_an_installed_fiche_shows_before_and_after(staff_client, certification):
    staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP16204"})
    content = staff_client.get(PREVIEW).content.decode()
    assert "modification" in content
    assert re.search(r"fiches suivantes</th><td>—</td><td>RNCP99901", content)


@pytest.mark.parametrize(
    ("data", "codes", "field_error"),
    [
        (b"%PDF-1.4", "", "ni une archive ZIP ni un fichier XML"),
        (SAMPLE.read_bytes().replace(b">4.1<", b">4.0<"), "", "« 4.0 » trouvée"),
        (None, "RNCP11111", "La fiche RNCP11111 ne figure pas dans ce fichier"),
        (None, "douze", "n&#x27;est pas un code de fiche RNCP"),
    ],
)
def test_unreadable_uploads_are_refused_in_french(staff_client, certification, upload_dir, data, codes, field_error):
    response = staff_client.post(UPLOAD, {"export": sample_upload(data), "codes": codes})
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert list(upload_dir.glob("*.export")) == []
    assert "rncp_import" not in staff_client.session


def test_an_upload_over_the_limit_is_refused(staff_client, certification, settings):
    settings.RNCP_IMPORT_MAX_BYTES = 1000
    response = staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP99901"})
    assert response.status_code == 400
    assert "la limite est de" in response.content.decode()


def test_the_preview_without_an_upload_sends_back_to_the_form(staff_client, certification):
    response = staff_client.get(PREVIEW)
    assert response.status_code == 302 and response["Location"] == UPLOAD


def test_the_fiche_content_is_read_from_the_server_copy_not_the_form(staff_client, certification):
    staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP99901"})
    staff_client.post(PREVIEW, {"confirm": "1", "title": "Titre falsifié", "codes": "RNCP16204"})
    assert Certification.objects.get(rncp_code="99901").title.startswith("Manager de proximité")


@pytest.mark.parametrize("who", ["trainer_client", "president_client", "client"])
@pytest.mark.parametrize("url", [UPLOAD, PREVIEW])
def test_other_roles_are_refused(request, certification, who, url):
    client = request.getfixturevalue(who)
    refused = client.get(url)
    # Anonymous visitors are sent to the login page, the other roles refused.
    response = client.post(url, {"export": io.BytesIO(SAMPLE.read_bytes()), "confirm": "1"})
    for answer in (refused, response):
        if who == "client":
            assert answer.status_code == 302 and answer["Location"].startswith("/connexion/")
        else:
            assert answer.status_code == 403
    assert not Certification.objects.filter(rncp_code="99901").exists()


def test_the_preview_page_reads_in_bounded_queries(staff_client, certification, django_assert_num_queries):
    # Per fiche: the certification, the other fiches (for their links) and, for a new one, the checks of its
    # certification and registration; for an installed one, its ROME codes,
    # registrations (and their checks), signed juries, pathways, rule, and its blocks with their grids in three
    # queries whatever their number; the session and the user besides.
    staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP99901"})
    with django_assert_num_queries(ONE_FICHE_QUERIES):
        staff_client.get(PREVIEW)
    staff_client.post(UPLOAD, {"export": sample_upload(), "codes": "RNCP99901 RNCP16204"})
    with django_assert_num_queries(TWO_FICHES_QUERIES):
        staff_client.get(PREVIEW)


def test_a_jury_rule_the_fiche_does_not_state_clearly_is_entered_by_staff(staff_client, certification):
    # The VAE jury of RNCP99901 says something else than the other pathways'.
    parts = SAMPLE.read_bytes().split(b"<FICHE>")
    parts[2] = parts[2].replace(
        b"<SI_JURY_VAE><ACTIF>Oui</ACTIF><COMPOSITION>&lt;p&gt;50% professionnels, 50% formateurs",
        b"<SI_JURY_VAE><ACTIF>Oui</ACTIF><COMPOSITION>&lt;p&gt;60% professionnels, 40% formateurs",
    )
    staff_client.post(UPLOAD, {"export": sample_upload(b"<FICHE>".join(parts)), "codes": "RNCP99901"})
    preview = staff_client.get(PREVIEW).content.decode()
    assert "Règle de composition des jurys à saisir : la composition du jury diffère selon les voies" in preview
    prefix = "jury-RNCP99901"
    wrong = staff_client.post(
        PREVIEW,
        {"confirm": "1", f"{prefix}-professionnels": "60", f"{prefix}-formateurs": "50", f"{prefix}-texte": "x"},
    )
    assert wrong.status_code == 400
    assert "doivent faire 100 %" in wrong.content.decode()
    assert not Certification.objects.filter(rncp_code="99901").exists()
    done = staff_client.post(
        PREVIEW,
        {
            "confirm": "1",
            f"{prefix}-professionnels": "50",
            f"{prefix}-formateurs": "50",
            f"{prefix}-president": "1",
            f"{prefix}-parts-egales": "1",
            f"{prefix}-voies": ["apprentissage", "formation-continue", "professionnalisation"],
            f"{prefix}-texte": "50% professionnels, 50% formateurs",
        },
    )
    assert done.status_code == 302
    rule = Certification.objects.get(rncp_code="99901").jury_rule
    assert (rule.professionals_percent, rule.president_is_professional) == (50, True)
    assert sorted(rule.pathways.values_list("code", flat=True)) == [
        "apprentissage",
        "formation-continue",
        "professionnalisation",
    ]
