from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certif.referential import DEFAULT_REFERENTIAL, import_referential, read_referential_file


class Command(BaseCommand):
    help = (
        "Installe une certification à partir de son référentiel JSON (format de export_fiche). "
        "Sans argument : la fiche RNCP 16204 livrée avec l'application. Une certification déjà présente "
        "n'est jamais modifiée."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_REFERENTIAL))

    def handle(self, *args, path, **options):
        try:
            data = read_referential_file(Path(path))
            certification, created = import_referential(data)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"Référentiel illisible ({path}) : {error}") from error
        verb = "installée" if created else "déjà présente, inchangée"
        self.stdout.write(f"{certification} : {verb}.")
