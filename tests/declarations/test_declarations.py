"""Holder declaration to the Caisse des Dépôts: the flux XML cpf-1.1.2.xsd."""

import datetime
import hashlib
import re
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from candidates import services as candidate_services
from candidates.demo import create_demo_candidates
from candidates.models import Candidate, CertificationAward
from certif.demo import create_demo_successor
from certif.models import AccessPathway, AuditEvent, Certification
from declarations import selectors as declaration_selectors
from declarations import services as declarations
from declarations.models import CdcDeclarantSettings, HolderDeclaration, HolderDeclarationLine
from tests.factories import make_candidate, make_cohort

XSD = Path(__file__).resolve().parents[2] / "declarations" / "data" / "cdc" / "cpf-1.1.2.xsd"
NS = {"cpf": declarations.CPF_NS, "xsi": declarations.XSI_NS}
XSI_NIL = f"{{{declarations.XSI_NS}}}nil"
D = datetime.date


@pytest.fixture
def schema():
    """Read straight from the in-repo copy, independently of the application's cached schema."""
    return etree.XMLSchema(etree.parse(str(XSD)))


_award_sequence = iter(range(1, 10_000))


AWARDED_ON = D(2026, 6, 30)


def award_for(candidate, certification, *, number=None, awarded_on=AWARDED_ON):
    return CertificationAward.objects.create(
        candidate=candidate,
        certification=certification,
        number=number or f"MPES-2026-{next(_award_sequence):04d}",
        awarded_on=awarded_on,
    )


def holder(staff_user, certification, *, pathway="formation-continue", cohort=None, **identity):
    candidate = make_candidate(staff_user, **identity)
    cohort = cohort or make_cohort(staff_user, pathway_code=pathway)
    candidate_services.enrolment_create(candidate=candidate, cohort=cohort, actor=staff_user, enrolled_on=D(2025, 9, 1))
    return award_for(candidate, certification)


def recorded_before_the_lists(award, **fields):
    """A file written before the code lists validated places (the model refuses it today)."""
    Candidate.objects.filter(pk=award.candidate_id).update(**fields)
    award.candidate.refresh_from_db()
    return award


def declare_url(certification, name="declarations:declare"):
    return reverse(name, kwargs={"rncp_code": certification.rncp_code})


def passage_of(document, number):
    found = document.xpath("//cpf:passageCertification[cpf:idTechnique=$number]", namespaces=NS, number=number)
    assert len(found) == 1, f"{number} figure {len(found)} fois dans le flux"
    return found[0]


def text(element, path):
    return element.findtext(path, namespaces=NS)


def is_nil(element, path):
    found = element.find(path, namespaces=NS)
    assert found is not None, f"{path} absent (un élément nillable doit être présent)"
    return found.get(XSI_NIL) == "true" and not (found.text or "").strip() and len(found) == 0


def post_declaration(client, certification, *, awards=(), resend=()):
    return client.post(declare_url(certification), {"awards": list(awards), "resend": list(resend)})


# — The demo holders: one file, valid against the XSD —


@pytest.fixture
def demo_holders(certification, staff_user, trainer_user, declarant):
    """Every demo candidate awarded the certification they were last enrolled for: RNCP 16204 for the promotions
    of its history, its successor RNCP99901 for today's."""
    create_demo_successor(staff=staff_user)
    create_demo_candidates(staff=staff_user, trainer=trainer_user)
    awards = {}
    for index, candidate in enumerate(Candidate.objects.order_by("pk"), start=1):
        latest = candidate.enrolments.select_related("cohort__certification").order_by("-enrolled_on", "-pk").first()
        fiche = latest.cohort.certification if latest else certification
        awards[candidate.birth_name] = award_for(candidate, fiche, number=f"MPES-2026-{index:04d}")
    return awards


def test_demo_holders_flux_validates_against_the_xsd(staff_client, staff_user, certification, demo_holders, schema):
    documents = {}
    for fiche in Certification.objects.filter(awards__in=demo_holders.values()).distinct().order_by("rncp_code"):
        if fiche != certification:
            declarations.declarant_settings_save(
                certification=fiche,
                sender_id_client="IRUP0042",
                certifier_id_client="IRUP0042",
                contract_id="MCFCER000123",
                actor=staff_user,
            )
        holders = [award for award in demo_holders.values() if award.certification_id == fiche.pk]
        response = staff_client.get(declare_url(fiche))
        assert response.status_code == 200
        assert len(response.context["new_rows"]) == len(holders)
        assert response.context["incomplete_rows"] == []

        response = post_declaration(staff_client, fiche, awards=[a.pk for a in holders])
        declaration = HolderDeclaration.objects.get(certification=fiche)
        assert response.status_code == 302
        assert response["Location"] == reverse("declarations:detail", kwargs={"pk": declaration.pk})

        document = etree.fromstring(bytes(declaration.xml))
        schema.assertValid(document)
        assert document.tag == f"{{{declarations.CPF_NS}}}flux"
        assert text(document, "cpf:idFlux") == declaration.flux_id
        assert len(declaration.flux_id) <= 50
        assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text(document, "cpf:horodatage"))
        assert text(document, "cpf:emetteur/cpf:idClient") == "IRUP0042"
        certificateur = document.find("cpf:emetteur/cpf:certificateurs/cpf:certificateur", NS)
        assert text(certificateur, "cpf:idContrat") == "MCFCER000123"
        certification_element = certificateur.find("cpf:certifications/cpf:certification", NS)
        assert text(certification_element, "cpf:type") == "RNCP"
        assert text(certification_element, "cpf:code") == fiche.rncp_label
        assert len(document.findall(".//cpf:passageCertification", NS)) == len(holders)
        documents[fiche.pk] = document
    assert len(documents) == 2  # the history's holders under RNCP 16204, today's under RNCP99901

    def passage_for(award):
        return passage_of(documents[award.certification_id], award.number)

    for award in demo_holders.values():
        passage = passage_for(award)  # idTechnique = the certificate number
        assert text(passage, "cpf:dateDebutValidite") == "2026-06-30"
        assert text(passage, "cpf:obtentionCertification") == "PAR_ADMISSION"
        for nillable in ("cpf:dateFinValidite", "cpf:scoring", "cpf:mentionValidee"):
            assert is_nil(passage, nillable)

    # VAE, with its route; the usage name is written, the birth name kept
    morel = passage_for(demo_holders["Morel"])
    assert text(morel, "cpf:modalitesInscription/cpf:modaliteAcces") == "VAE"
    assert text(morel, "cpf:modalitesInscription/cpf:voieAccessVAE") == "VAE_CLASSIQUE"
    titulaire = morel.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert text(titulaire, "cpf:nomNaissance") == "Morel"
    assert text(titulaire, "cpf:nomUsage") == "Besson"
    assert (text(titulaire, "cpf:anneeNaissance"), text(titulaire, "cpf:moisNaissance")) == ("1971", "4")
    assert text(titulaire, "cpf:jourNaissance") == "2"
    assert text(titulaire, "cpf:sexe") == "F"

    # Born in Corsica: the INSEE code 2A004 as it is
    santini = passage_for(demo_holders["Santini"])
    assert text(santini, "cpf:modalitesInscription/cpf:modaliteAcces") == "FORMATION_INITIALE_APPRENTISSAGE"
    assert santini.find("cpf:modalitesInscription/cpf:voieAccessVAE", NS) is None
    titulaire = santini.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert text(titulaire, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == "2A004"
    assert is_nil(titulaire, "cpf:nomUsage")
    assert titulaire.find("cpf:prenom2", NS) is None

    # Born abroad: no French commune code, the postal-code branch written nil, the country by name
    el_amrani = passage_for(demo_holders["El Amrani"])
    titulaire = el_amrani.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert titulaire.find("cpf:codeCommuneNaissance/cpf:codeInseeNaissance", NS) is None
    assert is_nil(titulaire, "cpf:codeCommuneNaissance/cpf:codePostalNaissance/cpf:codePostal")
    assert text(titulaire, "cpf:libelleCommuneNaissance") == "Casablanca"
    assert text(titulaire, "cpf:codePaysNaissance") == "350"  # the COG's 99350 without its prefix
    assert text(titulaire, "cpf:libellePaysNaissance") == "MAROC"

    # Withdrew from a Saint-Étienne promotion, then enrolled in a contrat de professionnalisation
    celestin = passage_for(demo_holders["Célestin"])
    assert (
        text(celestin, "cpf:modalitesInscription/cpf:modaliteAcces")
        == "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION"
    )
    perrin = passage_for(demo_holders["Perrin"])
    assert (
        text(perrin, "cpf:modalitesInscription/cpf:modaliteAcces")
        == "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION"
    )
    assert text(perrin, "cpf:identificationTitulaire/cpf:titulaire/cpf:prenom2") == "Marie"


def test_every_pathway_maps_to_a_modalite_of_the_xsd(certification):
    tree = etree.parse(str(XSD))
    xsd = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    allowed = set(tree.xpath("//xsd:simpleType[@name='modaliteAcces']//xsd:enumeration/@value", namespaces=xsd))
    vae_routes = set(tree.xpath("//xsd:simpleType[@name='voieAccesVAE']//xsd:enumeration/@value", namespaces=xsd))
    codes = set(AccessPathway.objects.filter(certification=certification).values_list("code", flat=True))
    assert codes == set(declaration_selectors.PATHWAY_ACCESS_MODES)
    for mode in declaration_selectors.PATHWAY_ACCESS_MODES.values():
        assert mode.modalite in allowed
        assert (mode.vae_route in vae_routes) if mode.modalite == "VAE" else mode.vae_route is None


# — A holder whose file lacks a datum: listed, with a link to fix it, and left out of the file —


def test_incomplete_holder_is_listed_and_excluded(staff_client, staff_user, certification, declarant, schema):
    cohort = make_cohort(staff_user)
    complete = holder(staff_user, certification, cohort=cohort)
    corsican = holder(staff_user, certification, cohort=cohort, birth_commune="Ajaccio", birth_insee_code="2A004")
    abroad = holder(
        staff_user, certification, cohort=cohort, birth_commune="Dakar", birth_insee_code="", birth_country="Sénégal"
    )
    incomplete = recorded_before_the_lists(
        holder(staff_user, certification, cohort=cohort, birth_commune="Lyon", birth_insee_code="69123"),
        birth_insee_code="",
        birth_postal_code="",
    )

    response = staff_client.get(declare_url(certification))
    assert [row.award for row in response.context["incomplete_rows"]] == [incomplete]
    assert {row.award for row in response.context["new_rows"]} == {complete, corsican, abroad}
    content = response.content.decode()
    assert "code INSEE ou, à défaut, code postal de la commune de naissance" in content
    assert reverse("candidates:edit", kwargs={"pk": incomplete.candidate.pk}) in content
    assert f'name="awards" value="{incomplete.pk}"' not in content
    assert f'name="awards" value="{complete.pk}" id="award-{complete.pk}" checked' in content

    # the incomplete holder cannot be forced in
    response = post_declaration(staff_client, certification, awards=[complete.pk, incomplete.pk])
    assert response.status_code == 400
    assert not HolderDeclaration.objects.exists()

    response = post_declaration(staff_client, certification, awards=[complete.pk, corsican.pk, abroad.pk])
    assert response.status_code == 302
    declaration = HolderDeclaration.objects.get()
    document = etree.fromstring(bytes(declaration.xml))
    schema.assertValid(document)
    numbers = document.xpath("//cpf:passageCertification/cpf:idTechnique/text()", namespaces=NS)
    assert sorted(numbers) == sorted([complete.number, corsican.number, abroad.number])

    # still listed as incomplete afterwards, and never declared
    response = staff_client.get(declare_url(certification))
    assert [row.award for row in response.context["incomplete_rows"]] == [incomplete]
    assert not incomplete.declaration_lines.exists()


def test_missing_data_says_what_is_missing(staff_user, certification):
    award = recorded_before_the_lists(holder(staff_user, certification), birth_insee_code="", birth_postal_code="")
    award = declaration_selectors.holder_queryset(certification).get(pk=award.pk)
    assert declaration_selectors.missing_data(award) == [
        "code INSEE ou, à défaut, code postal de la commune de naissance (né en France)"
    ]
    award.candidate.birth_country_code, award.candidate.birth_country = "99131", "BELGIQUE"
    assert declaration_selectors.missing_data(award) == []
    award.candidate.birth_country_code, award.candidate.birth_country = "", " "  # never trusted
    assert declaration_selectors.missing_data(award) == ["pays de naissance"]
    award.candidate.birth_country_code, award.candidate.birth_country = "", "Belgique"  # typed before the lists
    assert declaration_selectors.missing_data(award) == [
        "pays de naissance à vérifier (« Belgique » n'est pas dans la liste du COG)"
    ]
    award.candidate.birth_country_code, award.candidate.birth_country = "99131", "BELGIQUE"
    award.candidate.birth_name = "X" * 61
    assert declaration_selectors.missing_data(award) == ["nom de naissance trop long (61 caractères ; 60 au plus)"]


# — Birth commune: the INSEE code, or the postal code when the INSEE code is unknown —


def test_postal_code_only_holder_is_declared_with_the_postal_code_branch(
    staff_client, staff_user, certification, declarant, schema
):
    cohort = make_cohort(staff_user)
    postal_only = holder(
        staff_user,
        certification,
        cohort=cohort,
        birth_commune="Boulieu",  # a name the COG does not know: the postal code alone is declared
        birth_insee_code="",
        birth_postal_code="07100",
    )
    both = holder(staff_user, certification, cohort=cohort, birth_insee_code="42218", birth_postal_code="42000")

    response = staff_client.get(declare_url(certification))
    assert {row.award for row in response.context["new_rows"]} == {postal_only, both}
    assert response.context["incomplete_rows"] == []

    response = post_declaration(staff_client, certification, awards=[postal_only.pk, both.pk])
    assert response.status_code == 302
    document = etree.fromstring(bytes(HolderDeclaration.objects.get().xml))
    schema.assertValid(document)

    titulaire = passage_of(document, postal_only.number).find("cpf:identificationTitulaire/cpf:titulaire", NS)
    commune = titulaire.find("cpf:codeCommuneNaissance", NS)
    assert commune.find("cpf:codeInseeNaissance", NS) is None
    assert text(commune, "cpf:codePostalNaissance/cpf:codePostal") == "07100"
    assert commune.find("cpf:codePostalNaissance/cpf:codePostal", NS).get(XSI_NIL) is None
    assert text(titulaire, "cpf:libelleCommuneNaissance") == "Boulieu"

    # both known: the INSEE code wins (the xsd:choice takes one branch only)
    titulaire = passage_of(document, both.number).find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert text(titulaire, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == "42218"
    assert titulaire.find("cpf:codeCommuneNaissance/cpf:codePostalNaissance", NS) is None


def test_born_in_france_with_neither_code_is_listed_with_what_is_missing(
    staff_client, staff_user, certification, declarant
):
    # The residence postal code is not the birth commune's: it is never used in its place.
    award = recorded_before_the_lists(
        holder(staff_user, certification, birth_commune="Roanne", birth_insee_code="", postal_code="42300"),
        birth_insee_code="",
        birth_postal_code="",
    )
    response = staff_client.get(declare_url(certification))
    (row,) = response.context["incomplete_rows"]
    assert row.award == award
    assert row.missing == ["code INSEE ou, à défaut, code postal de la commune de naissance (né en France)"]
    assert response.context["new_rows"] == []
    assert reverse("candidates:edit", kwargs={"pk": award.candidate.pk}) in response.content.decode()
    with pytest.raises(declarations.ValidationError, match="code postal de la commune de naissance"):
        declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)
    assert not HolderDeclaration.objects.exists()

    # Fixed on the candidate's file: declared with the postal code.
    candidate_services.candidate_update(candidate=award.candidate, actor=staff_user, birth_postal_code="42300")
    response = staff_client.get(declare_url(certification))
    assert [row.award for row in response.context["new_rows"]] == [award]


def test_service_refuses_an_incomplete_holder(staff_user, certification, declarant):
    award = recorded_before_the_lists(holder(staff_user, certification), birth_insee_code="", birth_postal_code="")
    with pytest.raises(declarations.ValidationError, match="code INSEE"):
        declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)
    assert not HolderDeclaration.objects.exists()


# — Each export recorded; a holder is never declared twice by mistake —


def test_redeclaration_is_guarded_and_resend_is_deliberate(staff_client, staff_user, certification, declarant, schema):
    cohort = make_cohort(staff_user)
    first, second = (holder(staff_user, certification, cohort=cohort) for _ in range(2))
    post_declaration(staff_client, certification, awards=[first.pk, second.pk])
    first_declaration = HolderDeclaration.objects.get()
    assert set(first_declaration.awards.all()) == {first, second}
    assert not first_declaration.lines.filter(is_resend=True).exists()
    event = AuditEvent.objects.get(action="cdc.holders_declared")
    assert event.target_id == str(first_declaration.pk)
    assert event.actor == staff_user
    assert event.after["declared"] == sorted([first.number, second.number])

    # a new holder arrives: the default selection holds only them
    third = holder(staff_user, certification, cohort=cohort)
    response = staff_client.get(declare_url(certification))
    assert [row.award for row in response.context["new_rows"]] == [third]
    assert {row.award for row in response.context["declared_rows"]} == {first, second}
    content = response.content.decode()
    assert "Déclarer à nouveau" in content
    assert f'name="resend" value="{first.pk}" id="resend-{first.pk}">' in content  # not ticked by default

    # an already declared holder ticked as new is refused, and nothing is recorded
    response = post_declaration(staff_client, certification, awards=[third.pk, first.pk])
    assert response.status_code == 400
    assert HolderDeclaration.objects.count() == 1
    with pytest.raises(declarations.ValidationError, match="Déjà déclaré"):
        declarations.holder_declaration_create(
            certification=certification, award_ids=[third.pk, first.pk], actor=staff_user
        )
    assert HolderDeclaration.objects.count() == 1

    # the default export declares the new holder only
    post_declaration(staff_client, certification, awards=[third.pk])
    second_declaration = HolderDeclaration.objects.latest("pk")
    assert list(second_declaration.awards.all()) == [third]

    # then nobody is left by default; a deliberate re-send includes the holder again, recorded as such
    response = staff_client.get(declare_url(certification))
    assert response.context["new_rows"] == []
    response = post_declaration(staff_client, certification)
    assert response.status_code == 400
    assert "Cochez au moins un titulaire" in response.content.decode()

    post_declaration(staff_client, certification, resend=[first.pk])
    resend = HolderDeclaration.objects.latest("pk")
    line = HolderDeclarationLine.objects.get(declaration=resend)
    assert (line.award, line.is_resend) == (first, True)
    document = etree.fromstring(bytes(resend.xml))
    schema.assertValid(document)
    assert document.xpath("//cpf:idTechnique/text()", namespaces=NS) == [first.number]
    assert AuditEvent.objects.filter(action="cdc.holders_declared").latest("pk").after["resent"] == [first.number]
    assert len({d.flux_id for d in HolderDeclaration.objects.all()}) == 3

    response = staff_client.get(declare_url(certification, "declarations:history"))
    assert response.status_code == 200
    rows = {d.flux_id: d for d in response.context["declarations"]}
    assert (rows[resend.flux_id].holder_count, rows[resend.flux_id].resend_count) == (1, 1)
    assert rows[first_declaration.flux_id].holder_count == 2
    assert staff_user.first_name in response.content.decode()


def test_download_returns_the_stored_bytes(staff_client, staff_user, certification, declarant):
    award = holder(staff_user, certification)
    post_declaration(staff_client, certification, awards=[award.pk])
    declaration = HolderDeclaration.objects.get()
    response = staff_client.get(reverse("declarations:download", kwargs={"pk": declaration.pk}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert f'filename="{declaration.flux_id}.xml"' in response["Content-Disposition"]
    assert response.content == bytes(declaration.xml)
    assert hashlib.sha256(response.content).hexdigest() == declaration.sha256
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    detail = staff_client.get(reverse("declarations:detail", kwargs={"pk": declaration.pk}))
    assert award.number in detail.content.decode()


def test_a_flux_refused_by_the_xsd_is_neither_recorded_nor_offered(
    staff_client, staff_user, certification, declarant, monkeypatch
):
    award = holder(staff_user, certification)
    monkeypatch.setattr(declarations, "CERTIFICATION_TYPE", "")  # minLength 1 in the XSD
    response = post_declaration(staff_client, certification, awards=[award.pk])
    assert response.status_code == 500
    assert "n'est pas conforme au schéma" in response.content.decode()
    assert response.context["errors"]
    assert not HolderDeclaration.objects.exists()
    assert not AuditEvent.objects.filter(action="cdc.holders_declared").exists()


def test_no_file_without_the_certifier_identifiers(staff_client, staff_user, certification):
    award = holder(staff_user, certification)
    response = staff_client.get(declare_url(certification))
    assert "ne sont pas encore enregistrés" in response.content.decode()
    response = post_declaration(staff_client, certification, awards=[award.pk])
    assert response.status_code == 400
    assert "Enregistrez d&#x27;abord les identifiants" in response.content.decode()
    assert not HolderDeclaration.objects.exists()


# — The certifier's identifiers —


def test_settings_are_recorded_and_audited(staff_client, staff_user, certification):
    url = declare_url(certification, "declarations:settings")
    assert staff_client.get(url).status_code == 200
    data = {"sender_id_client": " ABCD1234 ", "certifier_id_client": "WXYZ9876", "contract_id": "MCFCER000123"}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    declarant = CdcDeclarantSettings.objects.get(certification=certification)
    assert (declarant.sender_id_client, declarant.certifier_id_client) == ("ABCD1234", "WXYZ9876")
    event = AuditEvent.objects.get(action="cdc.settings_changed")
    assert event.before is None and event.after["contract_id"] == "MCFCER000123"

    staff_client.post(url, {**data, "contract_id": "MCFCER000124"})
    declarant.refresh_from_db()
    assert declarant.contract_id == "MCFCER000124"
    event = AuditEvent.objects.filter(action="cdc.settings_changed").latest("pk")
    assert event.before["contract_id"] == "MCFCER000123"


@pytest.mark.parametrize("value", ["ABC1234", "ABCD12345", "ABC 1234"])
def test_settings_reject_an_id_client_that_is_not_8_characters(staff_client, certification, value):
    url = declare_url(certification, "declarations:settings")
    data = {"sender_id_client": value, "certifier_id_client": "WXYZ9876", "contract_id": "MCFCER000123"}
    response = staff_client.post(url, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["sender_id_client"]
    assert "8 caractères" in errors["sender_id_client"][0]
    content = response.content.decode()
    assert 'id="error_1_id_sender_id_client"' in content  # crispy puts it under the field
    assert "exactement 8 caractères" in content
    assert not CdcDeclarantSettings.objects.exists()


# — Access —


def _urls(certification, declaration_pk):
    return [
        reverse("declarations:index"),
        declare_url(certification),
        declare_url(certification, "declarations:settings"),
        declare_url(certification, "declarations:history"),
        reverse("declarations:detail", kwargs={"pk": declaration_pk}),
        reverse("declarations:download", kwargs={"pk": declaration_pk}),
    ]


@pytest.fixture
def recorded_declaration(staff_user, certification, declarant):
    award = holder(staff_user, certification)
    return declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff_user)


@pytest.mark.parametrize("role_client", ["trainer_client", "president_client"])
def test_trainers_and_presidents_are_refused(request, role_client, certification, recorded_declaration):
    client = request.getfixturevalue(role_client)
    for url in _urls(certification, recorded_declaration.pk):
        assert client.get(url).status_code == 403, url
    assert client.post(declare_url(certification), {"resend": [1]}).status_code == 403
    assert HolderDeclaration.objects.count() == 1
    assert "Déclarations CDC" not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_login(client, certification, recorded_declaration):
    for url in _urls(certification, recorded_declaration.pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_staff_reach_the_page_from_the_menu(staff_client, certification):
    content = staff_client.get(reverse("home")).content.decode()
    assert reverse("declarations:index") in content
    index = staff_client.get(reverse("declarations:index"))
    assert index.status_code == 200
    assert declare_url(certification) in index.content.decode()


# — A bounded number of queries —


def _declare_page_queries(client, certification):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(declare_url(certification))
    assert response.status_code == 200
    return len(queries)


def test_declaration_page_query_count_does_not_grow_with_holders(staff_client, staff_user, certification, declarant):
    cohort, vae_cohort = make_cohort(staff_user), make_cohort(staff_user, pathway_code="vae")
    for index in range(3):
        holder(staff_user, certification, cohort=vae_cohort if index % 2 else cohort)
    holder(staff_user, certification, cohort=cohort, birth_insee_code="")  # incomplete
    post_declaration(staff_client, certification, awards=[CertificationAward.objects.first().pk])
    small = _declare_page_queries(staff_client, certification)
    for index in range(17):
        holder(staff_user, certification, cohort=vae_cohort if index % 2 else cohort)
    post_declaration(staff_client, certification, awards=[CertificationAward.objects.order_by("pk")[5].pk])
    assert CertificationAward.objects.count() == 21
    assert _declare_page_queries(staff_client, certification) == small


def _declare_post_queries(client, certification, awards):
    ContentType.objects.clear_cache()  # both runs look up the declaration's type once
    reset_queries()  # the request clears the log of queries: a capture must start from an empty one
    with CaptureQueriesContext(connection) as queries:
        response = post_declaration(client, certification, awards=[award.pk for award in awards])
    assert response.status_code == 302, response.content.decode()
    return len(queries)


def test_declaring_does_not_grow_with_the_holders_ticked(staff_client, staff_user, certification, declarant):
    """The same number of queries for 3 and for 15 holders: the lines are written in one INSERT, the files read in
    bulk, and the ticked boxes checked against the choices in one pass (not each against all)."""
    cohort, vae_cohort = make_cohort(staff_user), make_cohort(staff_user, pathway_code="vae")
    first = [holder(staff_user, certification, cohort=vae_cohort if index % 2 else cohort) for index in range(3)]
    small = _declare_post_queries(staff_client, certification, first)
    second = [holder(staff_user, certification, cohort=vae_cohort if index % 2 else cohort) for index in range(15)]
    assert _declare_post_queries(staff_client, certification, second) == small > 0
    assert HolderDeclarationLine.objects.count() == 18
    assert HolderDeclarationLine.objects.filter(declaration=HolderDeclaration.objects.latest("pk")).count() == 15
