"""The whole database's integrity: the signed sessions and their documents (documents.integrity) and the CDC holder
declarations (declarations.integrity), read by `manage.py verify_integrity`."""

from dataclasses import dataclass, field

from declarations.integrity import declarations_integrity
from documents.integrity import IntegrityReport
from documents.integrity import integrity_report as sessions_integrity_report


@dataclass
class DatabaseIntegrityReport(IntegrityReport):
    declarations_checked: int = 0
    declaration_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return super().problems + self.declaration_problems


def integrity_report() -> DatabaseIntegrityReport:
    """Every signed session, its documents, and every CDC holder declaration."""
    declarations = declarations_integrity()
    return DatabaseIntegrityReport(
        sessions=sessions_integrity_report().sessions,
        declarations_checked=declarations.checked,
        declaration_problems=declarations.problems,
    )
