"""The holders' declaration to the Caisse des Dépôts: the certifier's identifiers and every flux declared.

Tables keep the names they had when these models lived in certif (`db_table`).
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from candidates.models import CertificationAward
from certif.guards import WriteOnceModel, write_once_trigger
from certif.models import Certification
from certif.validation import InputRulesMixin

DECLARATION_REFUSED = (
    "Une déclaration des titulaires à la Caisse des Dépôts est conservée telle qu'elle a été produite : "
    "elle ne peut être ni modifiée ni supprimée."
)


# — Holder declaration to the Caisse des Dépôts (flux XML cpf-1.1.2.xsd, article L.6113-8 du Code du travail) —

CDC_ID_CLIENT_VALIDATOR = RegexValidator(
    r"^\S{8}$",
    "L'identifiant client compte exactement 8 caractères, sans espace (celui que la Caisse des Dépôts a communiqué).",
)
CDC_CONTRACT_ID_VALIDATOR = RegexValidator(
    r"^\S(?:.{0,18}\S)?$",
    "Le numéro de contrat compte de 1 à 20 caractères, sans espace au début ni à la fin.",
)


class CdcDeclarantSettings(InputRulesMixin, models.Model):
    """The certifier's identifiers at the Caisse des Dépôts, recorded once by staff."""

    certification = models.OneToOneField(
        Certification, on_delete=models.CASCADE, related_name="cdc_settings", verbose_name="certification"
    )
    sender_id_client = models.CharField(
        "identifiant client de l'émetteur",
        max_length=8,
        validators=[CDC_ID_CLIENT_VALIDATOR],
        help_text="8 caractères (emetteur/idClient) : l'organisme qui dépose le fichier.",
    )
    certifier_id_client = models.CharField(
        "identifiant client du certificateur",
        max_length=8,
        validators=[CDC_ID_CLIENT_VALIDATOR],
        help_text="8 caractères (certificateur/idClient) : souvent le même que celui de l'émetteur.",
    )
    contract_id = models.CharField(
        "numéro de contrat",
        max_length=20,
        validators=[CDC_CONTRACT_ID_VALIDATOR],
        help_text="1 à 20 caractères (certificateur/idContrat), tel qu'il figure dans la convention avec la CDC.",
    )

    class Meta:
        db_table = "certif_cdcdeclarantsettings"
        verbose_name = "identifiants auprès de la Caisse des Dépôts"
        verbose_name_plural = "identifiants auprès de la Caisse des Dépôts"

    def __str__(self):
        return f"Identifiants CDC — {self.certification.rncp_label}"


class HolderDeclaration(WriteOnceModel):
    """One flux file declared to the CDC: kept byte for byte, never changed nor deleted."""

    change_refused = delete_refused = DECLARATION_REFUSED

    flux_id = models.CharField("identifiant du flux", max_length=50, unique=True)
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="holder_declarations", verbose_name="certification"
    )
    created_at = models.DateTimeField("produit le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="produit par"
    )
    xml = models.BinaryField("fichier XML")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    awards = models.ManyToManyField(
        CertificationAward,
        through="HolderDeclarationLine",
        related_name="holder_declarations",
        verbose_name="titulaires déclarés",
    )

    class Meta:
        db_table = "certif_holderdeclaration"
        verbose_name = "déclaration des titulaires"
        verbose_name_plural = "déclarations des titulaires"
        ordering = ["-created_at", "-pk"]
        permissions = [("declare_holders", "Peut déclarer les titulaires à la Caisse des Dépôts")]
        triggers = [write_once_trigger(change=DECLARATION_REFUSED, delete=DECLARATION_REFUSED)]

    def __str__(self):
        return f"Flux {self.flux_id}"


class HolderDeclarationLine(WriteOnceModel):
    """One holder (certificate) in a declared flux; `is_resend` when it had been declared before."""

    change_refused = delete_refused = DECLARATION_REFUSED

    declaration = models.ForeignKey(HolderDeclaration, on_delete=models.PROTECT, related_name="lines")
    award = models.ForeignKey(
        CertificationAward,
        on_delete=models.PROTECT,
        related_name="declaration_lines",
        verbose_name="certification délivrée",
    )
    is_resend = models.BooleanField("nouvel envoi", default=False)

    class Meta:
        db_table = "certif_holderdeclarationline"
        verbose_name = "titulaire déclaré"
        verbose_name_plural = "titulaires déclarés"
        ordering = ["declaration", "award__number"]
        constraints = [models.UniqueConstraint(fields=["declaration", "award"], name="unique_declaration_award")]
        triggers = [write_once_trigger(change=DECLARATION_REFUSED, delete=DECLARATION_REFUSED)]

    def __str__(self):
        return f"{self.declaration.flux_id} — {self.award.number}"
