"""Does each CDC holder declaration still say what was sent? Its XML is hashed again and compared with the SHA-256
kept beside it (read by `manage.py verify_integrity`, through config.integrity)."""

from dataclasses import dataclass, field

from certif.digests import short_digest, with_digest
from declarations.models import HolderDeclaration


@dataclass
class DeclarationsIntegrity:
    checked: int = 0
    problems: list[str] = field(default_factory=list)


def declarations_integrity() -> DeclarationsIntegrity:
    result = DeclarationsIntegrity()
    for declaration, computed in with_digest(HolderDeclaration.objects.only("pk", "flux_id", "sha256", "xml"), "xml"):
        result.checked += 1
        if computed != declaration.sha256:
            result.problems.append(
                f"Déclaration à la Caisse des Dépôts « {declaration.flux_id} » : le fichier XML ne correspond plus à "
                f"son empreinte SHA-256 (enregistrée {short_digest(declaration.sha256)}, recalculée "
                f"{short_digest(computed)})."
            )
    return result
