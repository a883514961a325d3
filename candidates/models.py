from django.db import models

from certif.models import Certification


class AccessPathway(models.Model):
    """A voie d'accès of the fiche's table "Conditions d'inscription à la certification" (OUI / NON)."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="pathways")
    code = models.SlugField("code", max_length=40)
    label = models.CharField("libellé", max_length=255)
    is_open = models.BooleanField("ouverte", default=False)
    position = models.PositiveSmallIntegerField("rang", default=0)

    class Meta:
        verbose_name = "voie d'accès"
        verbose_name_plural = "voies d'accès"
        ordering = ["certification", "position"]
        constraints = [models.UniqueConstraint(fields=["certification", "code"], name="unique_pathway_code")]

    def __str__(self):
        return self.label

    @property
    def closed_reason(self) -> str:
        return (
            f"La fiche RNCP {self.certification.rncp_code} n'ouvre pas la certification "
            f"à cette voie d'accès (« {self.label} » : NON)."
        )
