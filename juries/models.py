from django.db import models

from certif.models import Certification


class JuryCompositionRule(models.Model):
    """The fiche's jury composition, the same for every open pathway of RNCP 16204:
    « 50% professionnels, 50% formateurs — Président : un professionnel — Les professionnels composant
    ce jury seront des salariés et des employeurs, à parts égales »."""

    certification = models.OneToOneField(Certification, on_delete=models.CASCADE, related_name="jury_rule")
    pathways = models.ManyToManyField("candidates.AccessPathway", related_name="jury_rules", blank=True)
    professionals_percent = models.PositiveSmallIntegerField("part de professionnels (%)", default=50)
    trainers_percent = models.PositiveSmallIntegerField("part de formateurs (%)", default=50)
    president_is_professional = models.BooleanField("le président est un professionnel", default=True)
    professionals_split_equally = models.BooleanField(
        "professionnels salariés et employeurs à parts égales", default=True
    )
    text = models.TextField("composition telle que la fiche l'écrit")

    class Meta:
        verbose_name = "règle de composition des jurys"
        verbose_name_plural = "règles de composition des jurys"

    def __str__(self):
        return f"Composition des jurys — RNCP {self.certification.rncp_code}"

    @property
    def minimum_members(self) -> int:
        """50/50 with professionals split in two equal halves: 2 professionals (1 + 1) and 2 trainers."""
        return 4 if self.professionals_split_equally else 2
