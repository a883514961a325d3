from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from candidates.demo import create_demo_candidates
from certif import clock
from certif.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SUCCESSOR, create_demo_accounts, create_demo_successor
from certif.roles import Role
from certif.text import counted
from declarations.demo import create_demo_declarations
from documents.content import french_date
from documents.demo import create_demo_documents
from evaluation.demo import complete_demo_grids, create_demo_evaluation
from juries.demo import create_demo_juries


class Command(BaseCommand):
    help = "Crée les données et les comptes de démonstration (idempotent). Ne pas utiliser en production."

    # Not one transaction: the jury sign-offs are durable transactions of their own (a signature is committed
    # when it returns). Each step is idempotent, so a run that fails half-way is finished by the next.
    def handle(self, *args, **options):
        try:
            clock.ensure_history_allowed()
            lines = self.seed()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        # Said once everything is written: a closed output never undoes the demo.
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        for line in lines:
            self.stdout.write(line)

    def seed(self) -> list[str]:
        # The history first (2021–2023), then today's work: the clock the services read only ever moves back,
        # one step of the demo's history at a time (certif.clock).
        accounts = create_demo_accounts()
        staff, trainer = accounts[Role.STAFF], accounts[Role.TRAINER]
        create_demo_successor(staff=staff)
        summary = create_demo_candidates(staff=staff, trainer=trainer)
        placeholders = complete_demo_grids(staff=staff) if summary["cohorts"] else 0
        juries = create_demo_juries(staff=staff, trainer=trainer, president=accounts[Role.PRESIDENT])
        declared = create_demo_declarations(staff=staff)
        document_batches = create_demo_documents(sessions=juries["signed_sessions"], staff=staff)
        evaluation = create_demo_evaluation(staff=staff, trainer=trainer)
        lines = [
            f"Promotions de démonstration : {summary['cohorts']} (dont {summary['created_cohorts']} créées), "
            f"candidats : {summary['candidates']} (dont {summary['created_candidates']} créés)."
        ]
        lines.append(
            f"Fiches : RNCP 16204 (enregistrement terminé le 17 avril 2023) et sa fiche suivante RNCP{DEMO_SUCCESSOR}, "
            "fiche d'exemple (pas une fiche réelle) installée depuis l'export France Compétences d'exemple, avec sa "
            "table de correspondance des blocs."
        )
        if juries["signed"]:
            days = ", du ".join(french_date(day) for day in juries["signed"])
            lines.append(
                f"Historique : jurys du {days}, signés le soir même ; certifications et attestations délivrées, "
                f"dont, sous RNCP{DEMO_SUCCESSOR}, des blocs acquis par correspondance avec RNCP 16204."
            )
        if juries["ready"]:
            lines.append(
                f"À signer : le jury du {french_date(juries['ready'])} (promotion « VAE 2026 — Saint-Étienne », "
                f"RNCP{DEMO_SUCCESSOR}), composé, ses candidats présentés. Le président (compte `president`) délibère "
                "et signe aujourd'hui : une session se signe le jour de son jury ou après, jamais avant, et ce jour "
                "est dans l'enregistrement en vigueur de la fiche."
            )
        if declared:
            lines.append(
                "Déclarations à la Caisse des Dépôts : titulaires de 2023 déclarés et acceptés (un rejeté, sa fiche "
                "corrigée puis déclaré de nouveau), un titulaire de 2025 en retard de déclaration."
            )
        if evaluation["sessions"]:
            lines.append(
                f"Session d'évaluation en cours : {evaluation['sessions']} "
                f"(dont {counted(evaluation['created_sessions'], 'créée', 'créées')}), grilles partiellement remplies ; "
                f"critères de démonstration ajoutés : {placeholders + evaluation['placeholders']}."
            )
        if document_batches:
            lines.append(
                "Documents de démonstration demandés au service de production "
                f"({counted(document_batches, 'session', 'sessions')}) : `manage.py db_worker` (lancé par `make run`) "
                "les produit en arrière-plan."
            )
        lines.append(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for spec in DEMO_ACCOUNTS:
            lines.append(f"  - {spec['username']:<13} {spec['role'].label}")
        return lines
