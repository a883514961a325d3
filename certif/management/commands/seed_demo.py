from django.core.management.base import BaseCommand
from django.db import transaction

from certif.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts


class Command(BaseCommand):
    help = "Crée les données et les comptes de démonstration (idempotent). Ne pas utiliser en production."

    @transaction.atomic
    def handle(self, *args, **options):
        create_demo_accounts()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for spec in DEMO_ACCOUNTS:
            self.stdout.write(f"  - {spec['username']:<13} {spec['role'].label}")
