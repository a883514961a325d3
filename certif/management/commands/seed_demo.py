from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from candidates.demo import create_demo_candidates
from certif.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts
from certif.roles import Role
from evaluation.demo import complete_demo_grids, create_demo_evaluation
from juries.demo import READY_DAY, SECOND_DAY, SIGNED_DAY, create_demo_juries
from juries.documents import french_date


class Command(BaseCommand):
    help = "Crée les données et les comptes de démonstration (idempotent). Ne pas utiliser en production."

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                self.seed()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error

    def seed(self):
        # The history first (2021–2023), then today's work: the clock the services read only ever moves back,
        # one step of the demo's history at a time (certif.clock).
        accounts = create_demo_accounts()
        staff, trainer = accounts[Role.STAFF], accounts[Role.TRAINER]
        summary = create_demo_candidates(staff=staff, trainer=trainer)
        placeholders = complete_demo_grids(staff=staff) if summary["cohorts"] else 0
        juries = create_demo_juries(staff=staff, trainer=trainer, president=accounts[Role.PRESIDENT])
        evaluation = create_demo_evaluation(staff=staff, trainer=trainer)
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(
            f"Promotions de démonstration : {summary['cohorts']} (dont {summary['created_cohorts']} créées), "
            f"candidats : {summary['candidates']} (dont {summary['created_candidates']} créés)."
        )
        if juries["signed"]:
            self.stdout.write(
                f"Historique : promotion « MPES 2021-2023 — Saint-Étienne, apprentissage », jurys du "
                f"{french_date(SIGNED_DAY)} et du {french_date(SECOND_DAY)}, signés le soir même "
                f"({juries['signed']} session(s) signée(s), certifications et attestations délivrées)."
            )
        if juries["ready"]:
            self.stdout.write(
                f"À signer : le jury du {french_date(READY_DAY)} (promotion « MPES 2022-2023 — Fort-de-France, "
                "contrat de professionnalisation »), composé, candidats présentés ; le président (compte "
                "`president`) délibère et signe dès aujourd'hui : la date du jury est dans l'enregistrement RNCP "
                "2018-2023, et une session se signe le jour du jury ou après, jamais avant."
            )
        if evaluation["sessions"]:
            self.stdout.write(
                f"Session d'évaluation en cours : {evaluation['sessions']} "
                f"(dont {evaluation['created_sessions']} créée), grilles partiellement remplies ; "
                f"critères de démonstration ajoutés : {placeholders + evaluation['placeholders']}."
            )
        if juries.get("document_batches"):
            self.stdout.write(
                f"Documents de démonstration demandés au service de production ({juries['document_batches']} "
                "session(s)) : `manage.py db_worker` (lancé par `make run`) les produit en arrière-plan."
            )
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for spec in DEMO_ACCOUNTS:
            self.stdout.write(f"  - {spec['username']:<13} {spec['role'].label}")
