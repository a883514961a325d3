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
    # Which schema validated the flux: the deployment may replace the XSD when the CDC publishes a new kit.
    schema_name = models.CharField("schéma (fichier)", max_length=255, blank=True, default="")
    schema_version = models.CharField("version du schéma", max_length=50, blank=True, default="")
    schema_sha256 = models.CharField("empreinte SHA-256 du schéma", max_length=64, blank=True, default="")
    # Set when a background job produced it: a job run again after its worker died finds its flux instead of
    # declaring the holders twice.
    background_job = models.OneToOneField(
        "certif.BackgroundJob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="holder_declaration",
        verbose_name="travail en arrière-plan",
    )
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
    # What the flux said of this holder (leaf element → text, None when nil), kept for the holder's history.
    sent = models.JSONField("données déclarées", default=dict, blank=True)

    class Meta:
        db_table = "certif_holderdeclarationline"
        verbose_name = "titulaire déclaré"
        verbose_name_plural = "titulaires déclarés"
        ordering = ["declaration", "award__number"]
        constraints = [models.UniqueConstraint(fields=["declaration", "award"], name="unique_declaration_award")]
        triggers = [write_once_trigger(change=DECLARATION_REFUSED, delete=DECLARATION_REFUSED)]

    def __str__(self):
        return f"{self.declaration.flux_id} — {self.award.number}"


# — What the Caisse des Dépôts answered, and what must be declared again —

RECEIPT_REFUSED = (
    "Un accusé de traitement de la Caisse des Dépôts est conservé tel qu'il a été reçu : "
    "il ne peut être ni modifié ni supprimé."
)
CORRECTION_REFUSED = (
    "Un signalement de correction à déclarer est conservé tel qu'il a été enregistré : "
    "il ne peut être ni modifié ni supprimé."
)


class HolderDeclarationReceipt(WriteOnceModel):
    """The processing report (« accusé de traitement ») the CDC returned for one flux, kept byte for byte."""

    change_refused = delete_refused = RECEIPT_REFUSED

    declaration = models.OneToOneField(
        HolderDeclaration, on_delete=models.PROTECT, related_name="receipt", verbose_name="flux"
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistré par"
    )
    report = models.BinaryField("accusé de traitement (XML)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    processing_id = models.CharField("identifiant du traitement (idTraitement)", max_length=100, blank=True)
    file_errors = models.JSONField("erreurs sur le fichier entier", default=list, blank=True)

    class Meta:
        verbose_name = "accusé de traitement de la Caisse des Dépôts"
        verbose_name_plural = "accusés de traitement de la Caisse des Dépôts"
        ordering = ["-recorded_at", "-pk"]
        triggers = [write_once_trigger(change=RECEIPT_REFUSED, delete=RECEIPT_REFUSED)]

    def __str__(self):
        return f"Accusé de traitement du flux {self.declaration.flux_id}"


class HolderDeclarationOutcome(WriteOnceModel):
    """The CDC's answer for one holder line of a flux: accepted, or rejected with its reason."""

    change_refused = delete_refused = RECEIPT_REFUSED

    receipt = models.ForeignKey(HolderDeclarationReceipt, on_delete=models.PROTECT, related_name="outcomes")
    line = models.OneToOneField(
        HolderDeclarationLine, on_delete=models.PROTECT, related_name="outcome", verbose_name="titulaire déclaré"
    )
    accepted = models.BooleanField("accepté")
    reason = models.TextField("motif donné par la Caisse des Dépôts", blank=True)

    class Meta:
        verbose_name = "réponse de la Caisse des Dépôts pour un titulaire"
        verbose_name_plural = "réponses de la Caisse des Dépôts pour un titulaire"
        ordering = ["receipt", "line"]
        triggers = [write_once_trigger(change=RECEIPT_REFUSED, delete=RECEIPT_REFUSED)]

    def __str__(self):
        return f"{self.line} — {'accepté' if self.accepted else 'rejeté'}"


class CorrectionKind(models.TextChoices):
    RECTIFIED = "rectified", "Décision du jury rectifiée"
    WITHDRAWN = "withdrawn", "Certificat retiré"


class HolderDeclarationCorrection(WriteOnceModel):
    """A declared certificate whose data changed after `after_line` was sent: « à corriger » until a later flux
    carries it (a line of the award newer than `after_line`)."""

    change_refused = delete_refused = CORRECTION_REFUSED

    award = models.ForeignKey(
        CertificationAward,
        on_delete=models.PROTECT,
        related_name="declaration_corrections",
        verbose_name="certification délivrée",
    )
    after_line = models.ForeignKey(
        HolderDeclarationLine, on_delete=models.PROTECT, related_name="+", verbose_name="dernière déclaration"
    )
    kind = models.CharField("motif", max_length=20, choices=CorrectionKind.choices)
    description = models.TextField("ce qui a changé")
    flagged_at = models.DateTimeField("signalé le", default=timezone.now)

    class Meta:
        verbose_name = "correction à déclarer"
        verbose_name_plural = "corrections à déclarer"
        ordering = ["award", "flagged_at", "pk"]
        triggers = [write_once_trigger(change=CORRECTION_REFUSED, delete=CORRECTION_REFUSED)]

    def __str__(self):
        return f"{self.award.number} — {self.get_kind_display()}"
