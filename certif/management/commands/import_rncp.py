import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from certif.fiche_import import fiche_import_apply, fiche_import_preview
from certif.rncp_export import read_fiches
from certif.validation import refusal_text

# Without --fiche, a file of a few fiches is read whole; the daily export of every fiche is not.
MAX_FICHES_WITHOUT_CODES = 5

_THRESHOLD = re.compile(r"^(RNCP\d+BC\d+)=(count|proportion):(\d+(?:[.,]\d+)?)/(\d+)$", re.IGNORECASE)


def parse_threshold_option(text: str) -> tuple[str, tuple[str, str, int]]:
    match = _THRESHOLD.match(text.strip())
    if not match:
        raise CommandError(
            f"--threshold « {text} » illisible : écrivez par exemple RNCP99901BC02=count:4/5 (4 compétences sur 5) "
            "ou RNCP99901BC02=proportion:80/5 (80 % de 5 compétences)."
        )
    code, kind, value, out_of = match.groups()
    return code.upper(), (kind.lower(), value, int(out_of))


class Command(BaseCommand):
    help = (
        "Lit l'export des fiches RNCP de France Compétences (XML ou ZIP, format v4.1) et affiche ce que "
        "l'installation des fiches demandées changerait ; avec --apply, l'installe."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Le fichier de France Compétences (.xml ou .zip)")
        parser.add_argument(
            "--fiche", action="append", default=[], help="Code de la fiche, par exemple RNCP99901 (répétable)"
        )
        parser.add_argument(
            "--threshold",
            action="append",
            default=[],
            help="Seuil d'un bloc que la fiche n'écrit pas clairement : RNCP99901BC02=count:4/5 (répétable)",
        )
        parser.add_argument("--apply", action="store_true", help="Installer (sinon : aperçu, rien n'est écrit)")
        parser.add_argument(
            "--example",
            action="store_true",
            help="Les fiches créées sont des fiches d'exemple, signalées comme telles sur chaque page",
        )
        parser.add_argument("--actor", help="Identifiant du compte au nom duquel l'installation est tracée")

    def handle(self, *args, path, fiche, threshold, apply, example, actor, **options):
        thresholds = dict(parse_threshold_option(text) for text in threshold)
        actor_user = None
        if actor:
            actor_user = get_user_model().objects.filter(username=actor).first()
            if actor_user is None:
                raise CommandError(f"Aucun compte « {actor} ».")
        try:
            fiches = read_fiches(path, fiche or None, limit=None if fiche else MAX_FICHES_WITHOUT_CODES)
            preview = fiche_import_preview(fiches=fiches, thresholds=thresholds)
            for line in preview.lines():
                self.stdout.write(line)
            if not apply:
                self.stdout.write("Aperçu seulement : rien n'a été écrit (ajoutez --apply pour installer).")
                return
            fiche_import_apply(fiches=fiches, thresholds=thresholds, actor=actor_user, is_example=example)  # type: ignore[arg-type]  # a command acts as the system when no --actor is given
        except OSError as error:
            raise CommandError(f"Fichier illisible ({path}) : {error.strerror or error}.") from error
        except ValidationError as error:
            raise CommandError(refusal_text(error)) from error
        for plan in preview.fiches:
            verb = "installée" if plan.is_creation else ("mise à jour" if plan.has_differences else "inchangée")
            self.stdout.write(f"Fiche {plan.rncp_label} : {verb}.")
