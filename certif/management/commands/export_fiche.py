import json

from django.core.management.base import BaseCommand, CommandError

from certif.models import Certification
from certif.referential import export_referential


class Command(BaseCommand):
    help = "Affiche le référentiel d'une certification au format JSON (mpes-referentiel/1)."

    def add_arguments(self, parser):
        parser.add_argument("rncp_code", help="Code RNCP, par exemple 16204")

    def handle(self, *args, rncp_code, **options):
        try:
            certification = Certification.objects.get(rncp_code=rncp_code.removeprefix("RNCP"))
        except Certification.DoesNotExist:
            raise CommandError(f"Aucune certification RNCP {rncp_code} dans la base.") from None
        self.stdout.write(json.dumps(export_referential(certification), ensure_ascii=False, indent=2))
