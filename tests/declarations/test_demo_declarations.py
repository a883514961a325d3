"""The demo's declarations to the Caisse des Dépôts (`make run`): one holder accepted, one rejected then corrected
and accepted, one overdue — each shown where staff look."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from declarations.models import HolderDeclaration, HolderDeclarationLine, HolderDeclarationOutcome


@pytest.mark.django_db
def test_the_demo_declares_rejects_corrects_and_leaves_one_holder_overdue(staff_client):
    call_command("seed_demo", stdout=io.StringIO())
    fluxes = HolderDeclaration.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert HolderDeclaration.objects.count() == fluxes == 3  # idempotent

    # Rejected once (its reason kept), the file corrected, declared again and accepted.
    lines = HolderDeclarationLine.objects.filter(award__candidate__birth_name="Désiré").order_by("declaration_id")
    assert [line.outcome.accepted for line in lines] == [False, True]
    assert "deuxième prénom" in lines[0].outcome.reason
    assert lines[0].award.candidate.second_first_name == "Olivier"
    # Accepted at once: every other holder of 2023.
    accepted = HolderDeclarationOutcome.objects.filter(accepted=True, line__award__certification__rncp_code="16204")
    assert accepted.count() == 8

    # Never declared, three months past: overdue, on the declaration page and on the staff home.
    page = staff_client.get(reverse("declarations:declare", args=["99901"])).content.decode()
    assert "1 en retard" in page and "NGUYEN" in page.upper()
    home = staff_client.get("/").content.decode()
    assert "en retard" in home
    assert not HolderDeclarationLine.objects.filter(award__candidate__birth_name="Nguyen").exists()
