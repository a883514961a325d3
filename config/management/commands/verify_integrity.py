from django.core.management.base import BaseCommand, CommandError

from certif.text import counted
from config.integrity import integrity_report


class Command(BaseCommand):
    help = (
        "Vérifie que ce qui est conservé dit encore ce qui a été signé : recalcule l'empreinte des décisions de "
        "chaque session de jury signée et l'empreinte SHA-256 de chaque document conservé (PDF émis, déclarations "
        "à la Caisse des Dépôts). Code de sortie non nul à la première anomalie."
    )

    def handle(self, *args, **options):
        report = integrity_report()
        self.stdout.write(
            f"Vérification de l'intégrité : {counted(len(report.sessions), 'session de jury signée', 'sessions de jury signées')}, "
            f"{counted(report.documents_checked, 'document émis', 'documents émis')}, "
            f"{counted(report.declarations_checked, 'déclaration à la Caisse des Dépôts', 'déclarations à la Caisse des Dépôts')}."
        )
        for item in report.sessions:
            if item.ok:
                self.stdout.write(
                    f"OK  {item.label} : empreinte des décisions vérifiée, "
                    f"{counted(item.documents_checked, 'document vérifié', 'documents vérifiés')}."
                )
            for problem in item.fingerprint_problems + item.document_problems:
                self.stdout.write(self.style.ERROR(f"ÉCART  {item.label} : {problem}"))
        for problem in report.declaration_problems:
            self.stdout.write(self.style.ERROR(f"ÉCART  {problem}"))
        if not report.ok:
            raise CommandError(
                f"{counted(len(report.problems), 'anomalie trouvée', 'anomalies trouvées')} : ce qui est conservé ne "
                "correspond plus à ce qui a été signé. Conservez la base en l'état et comparez-la à la dernière "
                "sauvegarde avant toute correction."
            )
        self.stdout.write(self.style.SUCCESS("Aucune anomalie : tout ce qui a été signé est intact."))
