from django.core.management.base import BaseCommand

from candidates.demo import create_demo_candidates
from certif.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts
from certif.roles import Role
from evaluation.demo import create_demo_evaluation
from juries.demo import create_demo_juries


class Command(BaseCommand):
    help = "Crée les données et les comptes de démonstration (idempotent). Ne pas utiliser en production."

    # Not one transaction: the jury sign-offs are durable transactions of their own (a signature is committed
    # when it returns). Each step is idempotent, so a run that fails half-way is finished by the next.
    def handle(self, *args, **options):
        accounts = create_demo_accounts()
        summary = create_demo_candidates(staff=accounts[Role.STAFF], trainer=accounts[Role.TRAINER])
        evaluation = create_demo_evaluation(staff=accounts[Role.STAFF], trainer=accounts[Role.TRAINER])
        juries = create_demo_juries(
            staff=accounts[Role.STAFF], trainer=accounts[Role.TRAINER], president=accounts[Role.PRESIDENT]
        )
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(
            f"Promotions de démonstration : {summary['cohorts']} (dont {summary['created_cohorts']} créées), "
            f"candidats : {summary['candidates']} (dont {summary['created_candidates']} créés)."
        )
        if evaluation["sessions"]:
            self.stdout.write(
                f"Session d'évaluation de démonstration : {evaluation['sessions']} "
                f"(dont {evaluation['created_sessions']} créée), grilles partiellement remplies ; "
                f"critères de démonstration ajoutés : {evaluation['placeholders']}."
            )
        if juries["signed"]:
            self.stdout.write(
                "Jurys de démonstration : deux sessions signées (14 juin 2022 et 21 mars 2023) et une session prête "
                "à délibérer (datée d'aujourd'hui ; sa signature reste refusée tant qu'aucun renouvellement de "
                "l'enregistrement RNCP n'est saisi)."
            )
        if juries.get("document_batches"):
            self.stdout.write(
                f"Documents de démonstration demandés au service de production ({juries['document_batches']} "
                "session(s)) : `manage.py db_worker` (lancé par `make run`) les produit en arrière-plan."
            )
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for spec in DEMO_ACCOUNTS:
            self.stdout.write(f"  - {spec['username']:<13} {spec['role'].label}")
