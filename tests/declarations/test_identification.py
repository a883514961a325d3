"""Holders identified so that the Caisse des Dépôts can match them: born in France by the INSEE commune code
(overseas included), abroad by the COG country code and label; every text at the schema's limits still validates."""

import datetime
import importlib

import pytest
from lxml import etree

from candidates import cog
from candidates.models import Candidate
from declarations import selectors as declaration_selectors
from declarations import services as declarations
from tests.declarations.test_declarations import XSD, award_for, holder
from tests.factories import make_candidate

NS = {"cpf": declarations.CPF_NS, "xsi": declarations.XSI_NS}
FLUX_NOW = datetime.datetime(2026, 7, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def schema():
    return etree.XMLSchema(etree.parse(str(XSD)))


def flux_of(declarant, certification, awards) -> etree._Element:
    awards = list(declaration_selectors.holder_queryset(certification).filter(pk__in=[a.pk for a in awards]))
    for award in awards:
        assert declaration_selectors.missing_data(award) == [], award
    xml = declarations.build_flux(settings=declarant, flux_id="F-TEST", now=FLUX_NOW, awards=awards)
    return etree.fromstring(xml)


def titulaire_of(document, award):
    (passage,) = document.xpath("//cpf:passageCertification[cpf:idTechnique=$n]", namespaces=NS, n=award.number)
    return passage.find("cpf:identificationTitulaire/cpf:titulaire", NS)


def text(element, path):
    return element.findtext(path, namespaces=NS)


@pytest.mark.django_db
def test_holders_at_every_limit_give_a_valid_flux(staff_user, certification, declarant, schema):
    longest = {
        "birth_name": "É" * 60,
        "usage_name": "Ü" * 60,
        "first_name": "Ç" * 60,
        "second_first_name": "Ï" * 60,
        "third_first_name": "Œ" * 60,
    }
    at_limits = holder(staff_user, certification, **longest)
    # Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson: one of the longest names of the COG
    long_name = max((c for c in cog.search_communes("saint remy en bouzemont")), key=lambda c: len(c.name))
    long_commune = holder(staff_user, certification, birth_commune="", birth_insee_code=long_name.code)
    merged = holder(staff_user, certification, birth_commune="Arbignieu", birth_insee_code="01015")
    martinique = holder(staff_user, certification, birth_commune="", birth_insee_code="97228")
    noumea = holder(staff_user, certification, birth_commune="", birth_insee_code="98818")
    germany = holder(staff_user, certification, birth_commune="B" * 60, birth_insee_code="", birth_country="Allemagne")
    document = flux_of(declarant, certification, [at_limits, long_commune, merged, martinique, noumea, germany])
    schema.assertValid(document)

    titulaire = titulaire_of(document, at_limits)
    assert text(titulaire, "cpf:prenom2") == "Ï" * 60 and text(titulaire, "cpf:prenom3") == "Œ" * 60
    assert text(titulaire_of(document, long_commune), "cpf:libelleCommuneNaissance") == long_name.name

    titulaire = titulaire_of(document, merged)
    assert text(titulaire, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == "01015"
    assert text(titulaire, "cpf:libelleCommuneNaissance") == "Arbignieu"
    assert titulaire.find("cpf:codePaysNaissance", NS) is None

    for award, code in ((martinique, "97228"), (noumea, "98818")):
        titulaire = titulaire_of(document, award)
        assert text(titulaire, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == code
        assert titulaire.find("cpf:codePaysNaissance", NS) is None  # overseas France is France

    titulaire = titulaire_of(document, germany)
    assert text(titulaire, "cpf:codePaysNaissance") == "109"
    assert text(titulaire, "cpf:libellePaysNaissance") == "ALLEMAGNE"
    assert text(titulaire, "cpf:libelleCommuneNaissance") == "B" * 60
    assert titulaire.find("cpf:codeCommuneNaissance/cpf:codeInseeNaissance", NS) is None


@pytest.mark.django_db
def test_a_holder_typed_fr_is_no_longer_declared_as_born_abroad(staff_user, certification, declarant, schema):
    from django.apps import apps

    award = holder(staff_user, certification, birth_commune="Lyon", birth_insee_code="69123")
    Candidate.objects.filter(pk=award.candidate_id).update(
        birth_country="FR", birth_country_code="", birth_insee_code="", birth_postal_code=""
    )
    importlib.import_module("candidates.migrations.0003_birth_places_from_cog").map_birth_places(apps, None)
    document = flux_of(declarant, certification, [award])
    schema.assertValid(document)
    titulaire = titulaire_of(document, award)
    assert text(titulaire, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == "69123"
    assert titulaire.find("cpf:codePaysNaissance", NS) is None


@pytest.mark.django_db
def test_values_written_around_the_model_are_listed_not_declared(staff_user, certification):
    award = award_for(make_candidate(staff_user), certification)
    Candidate.objects.filter(pk=award.candidate_id).update(birth_insee_code="42999")
    award = declaration_selectors.holder_queryset(certification).get(pk=award.pk)
    assert declaration_selectors.missing_data(award) == ["code INSEE de naissance inconnu du COG (« 42999 »)"]
    award.candidate.birth_insee_code = "42218"
    award.candidate.second_first_name = "X" * 61  # SQLite keeps it when written around the model
    award.candidate.birth_commune = "Y" * 61
    assert declaration_selectors.missing_data(award) == [
        "deuxième prénom trop long (61 caractères ; 60 au plus)",
        "commune de naissance trop long (61 caractères ; 60 au plus)",
    ]
