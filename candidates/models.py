from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from candidates import cog
from candidates.cog import FRANCE_CODE, FRANCE_LABEL
from certif.collation import french, person_order
from certif.guards import FrozenRowsQuerySet, WriteOnceModel, write_once_trigger
from certif.models import AccessPathway, Block, BlockCorrespondence, Certification, PreparationPlace
from certif.permissions import is_staff, is_trainer
from certif.validation import InputRulesMixin

ACQUIRED_BLOCK_REFUSED = "Un bloc acquis l'est sans limite de durée : il ne peut être ni modifié ni supprimé."
AWARD_REFUSED = (
    "Une certification délivrée ne peut être ni modifiée ni supprimée : son numéro et sa date sont définitifs."
)

VAE_PATHWAY_CODE = "vae"


class Sex(models.TextChoices):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class EmployerKind(models.TextChoices):
    ASSOCIATION = "association", "Association"
    FOUNDATION = "fondation", "Fondation"
    COOPERATIVE = "cooperative", "Coopérative"
    MUTUAL = "mutuelle", "Mutuelle"
    OTHER = "autre", "Autre"


INSEE_CODE_VALIDATOR = RegexValidator(
    r"^(?:\d{5}|2[AB]\d{3})$",
    "Le code INSEE compte 5 caractères : 5 chiffres, ou 2A / 2B suivis de 3 chiffres pour la Corse.",
)
PHONE_VALIDATOR = RegexValidator(
    r"^(?:0[1-9](?:[ .-]?\d{2}){4}|\+\d{1,3}(?:[ .-]?\d{1,4}){2,6})$",
    "Numéro de téléphone invalide : 10 chiffres commençant par 0 (06 12 34 56 78) ou format international (+33 6 12 34 56 78).",
)
POSTAL_CODE_VALIDATOR = RegexValidator(r"^\d{5}$", "Le code postal compte 5 chiffres.")


# The candidate's texts the CDC schema bounds, with the schema's limits (`titulaire` of cpf-1.1.2.xsd).
SCHEMA_BOUNDED_FIELDS = {
    "birth_name": 60,
    "usage_name": 60,
    "first_name": 60,
    "second_first_name": 60,
    "third_first_name": 60,
    "birth_commune": 60,
    "birth_country": 60,
    "birth_insee_code": 5,
    "birth_postal_code": 5,  # the schema allows 9; a French postal code has 5
    "birth_country_code": 5,
}


LENGTH_BOUND_CONSTRAINTS = frozenset(f"candidate_{name}_max_length" for name in SCHEMA_BOUNDED_FIELDS)


def _well_formed(validator, value: str) -> bool:
    try:
        if value:
            validator(value)
            validate_department_number(value)
    except ValidationError:
        return False
    return True


COMMUNE_REQUIRED = "Indiquez la commune (ou la ville) de naissance."


def birth_country_problem(name: str) -> str:
    """Why a typed country is refused, in French."""
    folded = cog.fold(name)
    if folded in cog.FRENCH_ISO_CODES:
        return (
            f"« {name.strip()} » n'est pas un pays du Code officiel géographique : pour une naissance en France "
            "(outre-mer compris), choisissez France et la commune de naissance."
        )
    if cog.french_region_named(name):
        return (
            f"{name.strip()} est en France : choisissez le pays France et la commune de naissance "
            "(les communes d'outre-mer ont un code INSEE : 972xx pour la Martinique…)."
        )
    return f"« {name.strip()} » n'est pas un pays du Code officiel géographique : choisissez le pays dans la liste."


def validate_department_number(value: str) -> None:
    """INSEE codes and postal codes both begin with the department's number (01, 2A, 42, 974…): never « 00 »."""
    if value.startswith("00"):
        raise ValidationError(
            f"« {value} » ne peut pas être un code de commune : il commence par le numéro du département "
            "(01 à 95, 2A ou 2B pour la Corse, 97 ou 98 outre-mer), jamais par 00."
        )


class CandidateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every candidate; a trainer those of their own cohorts; anyone else nobody."""
        if is_staff(user):
            return self
        if is_trainer(user):
            return self.filter(pk__in=Enrolment.objects.filter(cohort__trainers=user).values("candidate_id"))
        return self.none()

    def likely_duplicates_of(self, *, birth_name: str, first_name: str, birth_date, exclude_pk=None):
        queryset = self.filter(
            birth_name__iexact=birth_name.strip(), first_name__iexact=first_name.strip(), birth_date=birth_date
        )
        return queryset.exclude(pk=exclude_pk) if exclude_pk else queryset


def joined_first_names(*names: str) -> str:
    """Every first name given, in order, one space apart."""
    return " ".join(name for name in names if name)


class Candidate(InputRulesMixin, models.Model):
    """A natural person who seeks the certification; identity as a certificate and the CDC declaration need it."""

    # Every limit below is the CDC schema's (cpf-1.1.2.xsd, `titulaire`): a holder the form accepts is a holder the
    # flux can carry. tests/candidates/test_birth_places.py reads them from the XSD.
    birth_name = models.CharField("nom de naissance", max_length=60)
    usage_name = models.CharField("nom d'usage", max_length=60, blank=True)
    first_name = models.CharField("prénom", max_length=60)
    second_first_name = models.CharField("deuxième prénom", max_length=60, blank=True)
    third_first_name = models.CharField("troisième prénom", max_length=60, blank=True)
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("date de naissance")
    birth_commune = models.CharField(
        "commune de naissance",
        max_length=60,
        blank=True,
        help_text="Né(e) en France : le nom que donne le Code officiel géographique pour le code INSEE choisi. "
        "Né(e) à l’étranger : la ville, telle qu'écrite sur l'acte de naissance.",
    )
    birth_insee_code = models.CharField(
        "code INSEE de la commune de naissance",
        max_length=5,
        blank=True,
        validators=[INSEE_CODE_VALIDATOR, validate_department_number],
        help_text="Pour une naissance en France, outre-mer compris : tapez le nom de la commune et choisissez-la "
        "(5 caractères ; 2A ou 2B pour la Corse). Les communes fusionnées depuis sont dans la liste.",
    )
    birth_postal_code = models.CharField(
        "code postal de la commune de naissance",
        max_length=5,
        blank=True,
        validators=[POSTAL_CODE_VALIDATOR, validate_department_number],
        help_text="Déduit du code INSEE quand la commune n'en a qu'un ; à indiquer seul quand le code INSEE n'est pas "
        "connu (5 chiffres) : la déclaration à la Caisse des Dépôts l'accepte à sa place.",
    )
    birth_country_code = models.CharField(
        "pays de naissance (code INSEE)",
        max_length=5,
        default=FRANCE_CODE,
        blank=True,
        help_text="Code du Code officiel géographique : 99100 pour la France (outre-mer compris), 99109 pour "
        "l'Allemagne… Tapez le nom du pays et choisissez-le.",
    )
    birth_country = models.CharField("pays de naissance", max_length=60, default=FRANCE_LABEL)
    email = models.EmailField("courriel", blank=True)
    phone = models.CharField("téléphone", max_length=25, blank=True, validators=[PHONE_VALIDATOR])
    address = models.CharField("adresse", max_length=255, blank=True)
    postal_code = models.CharField(
        "code postal", max_length=5, blank=True, validators=[POSTAL_CODE_VALIDATOR, validate_department_number]
    )
    city = models.CharField("ville", max_length=100, blank=True)
    employer_name = models.CharField("employeur (entreprise de l'ESS)", max_length=255, blank=True)
    employer_kind = models.CharField("type d'employeur", max_length=20, choices=EmployerKind.choices, blank=True)
    job_title = models.CharField("emploi occupé", max_length=255, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = "candidat"
        ordering = [*person_order(), "pk"]
        indexes = [models.Index(fields=["birth_name", "first_name", "birth_date"], name="candidate_identity_idx")]
        # PostgreSQL bounds a varchar; SQLite does not: the schema's limits hold there too, whatever writes the row.
        constraints = [
            models.CheckConstraint(condition=LessThanOrEqual(Length(name), limit), name=f"candidate_{name}_max_length")
            for name, limit in SCHEMA_BOUNDED_FIELDS.items()
        ]

    def __str__(self):
        return self.full_name

    def get_constraints(self):
        # The length bounds repeat each field's max_length, which clean_fields already checks with a French message
        # and no query: validating them again would cost one query per bound and per row (an import of 500 rows,
        # 5,000 queries). They stay in the database for whatever writes a row without validating it.
        return [
            (model, [constraint for constraint in constraints if constraint.name not in LENGTH_BOUND_CONSTRAINTS])
            for model, constraints in super().get_constraints()
        ]

    @property
    def first_names(self) -> str:
        return joined_first_names(self.first_name, self.second_first_name, self.third_first_name)

    @property
    def full_name(self) -> str:
        usage = f" ({self.usage_name})" if self.usage_name and self.usage_name != self.birth_name else ""
        return f"{self.first_name} {self.birth_name.upper()}{usage}"

    @property
    def held_acquisitions(self) -> list["AcquiredBlock"]:
        """The blocks held, withdrawn ones left out (reads prefetched `acquired_blocks` with `withdrawn`)."""
        return [item for item in self.acquired_blocks.all() if not item.is_withdrawn]

    @property
    def award_in_force(self) -> "CertificationAward | None":
        """The certification held, a withdrawn one left out (reads prefetched `awards` with `withdrawal`)."""
        return next((award for award in self.awards.all() if not award.is_withdrawn), None)

    def clean(self):
        if self.birth_date:
            today = timezone.localdate()
            age = (
                today.year
                - self.birth_date.year
                - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
            )
            if age < 16 or age > 100:
                raise ValidationError(
                    {
                        "birth_date": f"Date de naissance peu plausible : le candidat aurait {age} ans (16 à 100 ans attendus)."
                    }
                )
        if errors := self._birth_place_errors():
            raise ValidationError(errors)

    def _birth_place_errors(self) -> dict[str, str]:
        """The birth place from the COG's lists: in France a commune (INSEE code, its postal code derived), or a
        postal code alone when the commune is unknown; abroad a country and no French code."""
        self.birth_insee_code = (self.birth_insee_code or "").strip().upper()
        self.birth_postal_code = (self.birth_postal_code or "").strip()
        if not _well_formed(INSEE_CODE_VALIDATOR, self.birth_insee_code) or not _well_formed(
            POSTAL_CODE_VALIDATOR, self.birth_postal_code
        ):
            return {}  # the field's own validator says what is wrong
        code = (self.birth_country_code or "").strip()
        if not code and self.birth_country:
            found = cog.country_named(self.birth_country)
            if found is None:
                return {"birth_country_code": birth_country_problem(self.birth_country)}
            code = found.code
        country = cog.country(code)
        if country is None:
            return {
                "birth_country_code": f"« {code} » n'est pas un code de pays du Code officiel géographique : "
                "choisissez le pays dans la liste (99100 pour la France, 99109 pour l'Allemagne…)."
                if code
                else "Choisissez le pays de naissance dans la liste."
            }
        self.birth_country_code, self.birth_country = country.code, country.name
        if country.code != cog.FRANCE_CODE:
            if self.birth_insee_code or self.birth_postal_code:
                return {
                    "birth_country_code": f"Né à l'étranger ({country.name}) ou en France ? Un code de commune "
                    "française est indiqué : retirez-le, ou choisissez la France (outre-mer compris)."
                }
            return {} if self.birth_commune.strip() else {"birth_commune": COMMUNE_REQUIRED}
        if not self.birth_insee_code and self.birth_commune.strip():
            # A name typed (an import, a script) is enough when one commune alone bears it.
            matches = cog.communes_named(self.birth_commune, postal_code=self.birth_postal_code)
            if len(matches) == 1:
                self.birth_insee_code = matches[0].code
            elif len(matches) > 1 and not self.birth_postal_code:
                return {
                    "birth_insee_code": f"{len(matches)} communes s'appellent « {self.birth_commune.strip()} » "
                    f"({', '.join(item.code for item in matches[:5])}…) : choisissez la commune dans la liste "
                    "(son code INSEE)."
                }
        if self.birth_insee_code:
            return self._french_commune_errors()
        if self.birth_postal_code:
            if not cog.postal_code_exists(self.birth_postal_code):
                return {"birth_postal_code": f"Le code postal « {self.birth_postal_code} » n'existe pas."}
            return {} if self.birth_commune.strip() else {"birth_commune": COMMUNE_REQUIRED}
        return {
            "birth_insee_code": "Né en France : choisissez la commune de naissance dans la liste (son code INSEE), "
            "ou, si elle est inconnue, indiquez le code postal."
        }

    def _french_commune_errors(self) -> dict[str, str]:
        communes = cog.communes_with_code(self.birth_insee_code)
        if not communes:
            return {
                "birth_insee_code": f"Le code INSEE « {self.birth_insee_code} » n'est pas celui d'une commune du "
                "Code officiel géographique : choisissez la commune dans la liste."
            }
        named = [item for item in communes if cog.fold(item.name) == cog.fold(self.birth_commune)]
        if self.birth_commune.strip() and not named:
            names = " ou ".join(f"« {item.name} »" for item in communes)
            return {
                "birth_commune": f"Le code INSEE {self.birth_insee_code} est celui de {names}, pas de "
                f"« {self.birth_commune.strip()} » : choisissez la commune dans la liste."
            }
        commune = (named or list(communes))[0]
        self.birth_commune = commune.name
        if self.birth_postal_code and commune.postal_codes and self.birth_postal_code not in commune.postal_codes:
            return {
                "birth_postal_code": f"Le code postal {self.birth_postal_code} n'est pas celui de {commune.name} "
                f"({', '.join(commune.postal_codes)}) : corrigez l'un des deux codes."
            }
        if not self.birth_postal_code and len(commune.postal_codes) == 1:
            self.birth_postal_code = commune.postal_codes[0]
        return {}


class Cohort(InputRulesMixin, models.Model):
    """A promotion: one pathway, one preparation place, its dates and its trainers."""

    planned_event_dates = ("start_date", "end_date")

    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField("nom", max_length=150)
    pathway = models.ForeignKey(
        AccessPathway, on_delete=models.PROTECT, related_name="cohorts", verbose_name="voie d'accès"
    )
    preparation_place = models.ForeignKey(
        PreparationPlace, on_delete=models.PROTECT, related_name="cohorts", verbose_name="lieu de préparation"
    )
    start_date = models.DateField("début")
    end_date = models.DateField("fin")
    trainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="trained_cohorts", blank=True, verbose_name="formateurs"
    )

    class Meta:
        verbose_name = "promotion"
        ordering = ["-start_date", french("name")]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "name"],
                name="unique_cohort_name",
                violation_error_message="Une promotion porte déjà ce nom : choisissez-en un autre.",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "La fin de la promotion doit suivre son début."
        if self.pathway_id and not self.pathway.is_open:
            errors["pathway"] = self.pathway.closed_reason
        if self.certification_id and self.pathway_id and self.pathway.certification_id != self.certification_id:
            errors["pathway"] = (
                f"Cette voie d'accès est celle d'une autre certification ({self.pathway.certification.rncp_label}) : "
                f"choisissez une voie d'accès de la certification {self.certification.rncp_label}."
            )
        if (
            self.certification_id
            and self.preparation_place_id
            and self.preparation_place.certification_id != self.certification_id
        ):
            errors["preparation_place"] = (
                f"Ce lieu prépare une autre certification ({self.preparation_place.certification.rncp_label}) : "
                f"choisissez un lieu de préparation de la certification {self.certification.rncp_label}."
            )
        if errors:
            raise ValidationError(errors)


class EnrolmentStatus(models.TextChoices):
    IN_PROGRESS = "en_cours", "En cours"
    COMPLETED = "termine", "Parcours terminé"
    WITHDRAWN = "abandon", "Abandon"


class Enrolment(InputRulesMixin, models.Model):
    """A candidate's place in a cohort. A candidate may enrol again later; acquired blocks stay theirs."""

    past_event_dates = ("admissibility_date",)
    planned_event_dates = ("enrolled_on",)

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="enrolments")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrolments", verbose_name="promotion")
    enrolled_on = models.DateField("inscrit le", default=timezone.localdate)
    status = models.CharField(
        "statut", max_length=20, choices=EnrolmentStatus.choices, default=EnrolmentStatus.IN_PROGRESS
    )
    tutor_name = models.CharField("tuteur", max_length=150, blank=True)
    vae_accompanist = models.CharField("accompagnateur VAE", max_length=150, blank=True)
    admissibility_date = models.DateField("date de la décision de recevabilité", null=True, blank=True)
    admissibility_favourable = models.BooleanField("recevabilité favorable", null=True, blank=True)
    admissibility_reason = models.TextField("motif de la décision de recevabilité", blank=True)

    class Meta:
        verbose_name = "inscription"
        ordering = ["-enrolled_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "cohort"],
                name="unique_enrolment",
                violation_error_message="Ce candidat est déjà inscrit dans cette promotion.",
            )
        ]

    def __str__(self):
        return f"{self.candidate} — {self.cohort}"

    @property
    def is_vae(self) -> bool:
        return self.cohort.pathway.code == VAE_PATHWAY_CODE

    @property
    def can_be_evaluated(self) -> bool:
        """Not withdrawn, and for VAE only once the admissibility (recevabilité) is favourable."""
        if self.status == EnrolmentStatus.WITHDRAWN:
            return False
        return not self.is_vae or self.admissibility_favourable is True

    @property
    def not_evaluated_reason(self) -> str:
        if self.status == EnrolmentStatus.WITHDRAWN:
            return "abandon du parcours"
        if not self.can_be_evaluated:
            return (
                f"VAE, {self.admissibility_label.lower()} : un candidat en VAE n'est évalué qu'après une décision "
                "de recevabilité favorable"
            )
        return ""

    @property
    def admissibility_label(self) -> str:
        return admissibility_label(self.cohort.pathway.code, self.admissibility_favourable)


def admissibility_label(pathway_code: str, favourable: bool | None) -> str:
    """The admissibility (recevabilité) decision of an enrolment on that pathway: empty outside VAE."""
    if pathway_code != VAE_PATHWAY_CODE:
        return ""
    if favourable is None:
        return "Recevabilité en attente"
    return "Recevable" if favourable else "Non recevable"


class AcquiredBlockSource(models.TextChoices):
    JURY = "jury", "Décision de jury"
    IMPORT = "import", "Reprise d'historique"
    CORRESPONDENCE = "correspondence", "Correspondance avec une fiche précédente"


class AcquiredBlockQuerySet(FrozenRowsQuerySet):
    def held(self):
        """The acquisitions in force: a withdrawn block is no longer held, anywhere the application reads it."""
        return self.filter(withdrawn__isnull=True)


class AcquiredBlock(InputRulesMixin, WriteOnceModel):
    """The ledger of blocks a candidate holds, for good: « Validité des composantes acquises : illimitée ».

    A row is never changed. A block obtained by fraud is withdrawn by a separate act (`WithdrawnBlock`); re-earned
    later, it is a new row that `replaces` the withdrawn one: per candidate and block, the acquisitions form one
    chain (one first acquisition, each followed by at most one other), and only its last link can be in force.
    """

    past_event_dates = ("acquired_on",)

    change_refused = delete_refused = ACQUIRED_BLOCK_REFUSED

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="acquired_blocks")
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="acquisitions", verbose_name="bloc")
    acquired_on = models.DateField("acquis le")
    source = models.CharField("origine", max_length=20, choices=AcquiredBlockSource.choices)
    import_source = models.CharField(
        "source de la reprise", max_length=255, blank=True, help_text="Par exemple « PV du jury du 12 juin 2019 »."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistré par"
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name="acquis de nouveau après le retrait de",
    )

    objects = AcquiredBlockQuerySet.as_manager()

    class Meta:
        verbose_name = "bloc acquis"
        verbose_name_plural = "blocs acquis"
        ordering = ["block__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "block"],
                condition=models.Q(replaces__isnull=True),
                name="unique_acquired_block",
                violation_error_message="Ce bloc est déjà acquis par ce candidat.",
            )
        ]
        triggers = [write_once_trigger(change=ACQUIRED_BLOCK_REFUSED, delete=ACQUIRED_BLOCK_REFUSED)]

    def __str__(self):
        return f"{self.candidate} — bloc {self.block.number}"

    @property
    def withdrawal_act(self) -> "Withdrawal | None":
        """The act that withdrew this block, or None (reads `withdrawn__withdrawal` when selected)."""
        try:
            return self.withdrawn.withdrawal
        except WithdrawnBlock.DoesNotExist:
            return None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawal_act is not None


class CertificationAwardQuerySet(FrozenRowsQuerySet):
    def in_force(self):
        """The certifications delivered and not withdrawn: only those make a holder."""
        return self.filter(withdrawal__isnull=True)


class CertificationAward(InputRulesMixin, WriteOnceModel):
    """The certification awarded to a candidate holding all four blocks, with its certificate number.

    Never changed: a withdrawal is a separate act (`Withdrawal.award`). A candidate certified again after a
    withdrawal (every block held again) receives a new award, with a new number, that `replaces` the withdrawn one.
    """

    past_event_dates = ("awarded_on",)

    change_refused = delete_refused = AWARD_REFUSED

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="awards")
    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="awards")
    number = models.CharField("numéro de certificat", max_length=30, unique=True)
    awarded_on = models.DateField("délivrée le")
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name="délivrée de nouveau après le retrait de",
    )

    objects = CertificationAwardQuerySet.as_manager()

    class Meta:
        verbose_name = "certification délivrée"
        verbose_name_plural = "certifications délivrées"
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "certification"],
                condition=models.Q(replaces__isnull=True),
                name="unique_award_per_candidate",
                violation_error_message="Ce candidat a déjà reçu cette certification.",
            )
        ]
        triggers = [write_once_trigger(change=AWARD_REFUSED, delete=AWARD_REFUSED)]

    def __str__(self):
        return f"{self.number} — {self.candidate}"

    @property
    def withdrawal_act(self) -> "Withdrawal | None":
        try:
            return self.withdrawal
        except Withdrawal.DoesNotExist:
            return None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawal_act is not None


# — Withdrawal (retrait) of a result obtained by fraud —

WITHDRAWAL_CHANGE_REFUSED = "Un retrait enregistré ne peut pas être modifié."
WITHDRAWAL_DELETE_REFUSED = "Un retrait enregistré ne peut pas être supprimé."


class Withdrawal(InputRulesMixin, WriteOnceModel):
    """The certifier's reasoned act withdrawing a candidate's certificate and/or blocks obtained by fraud.

    Nothing is deleted nor changed: the award and the acquired blocks stay as they were and are read as withdrawn
    from the existence of this act (`award`, `blocks`); the documents it revoked are listed in `documents`.
    """

    past_event_dates = ("decided_on",)
    change_refused = WITHDRAWAL_CHANGE_REFUSED
    delete_refused = WITHDRAWAL_DELETE_REFUSED

    candidate = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="withdrawals", verbose_name="candidat"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="withdrawals", verbose_name="certification"
    )
    award = models.OneToOneField(
        CertificationAward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawal",
        verbose_name="certificat retiré",
    )
    reference = models.CharField(
        "référence de la décision",
        max_length=255,
        help_text="Par exemple « Décision du directeur général n° 2026-14 du 20 novembre 2026 ».",
    )
    decided_on = models.DateField("date de la décision")
    reason = models.TextField("motif")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistré par"
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "retrait"
        # On PostgreSQL, raw SQL too: UPDATE and DELETE are refused by the database.
        triggers = [write_once_trigger(change=WITHDRAWAL_CHANGE_REFUSED, delete=WITHDRAWAL_DELETE_REFUSED)]
        verbose_name_plural = "retraits"
        ordering = ["-decided_on", "-recorded_at", "-pk"]

    def __str__(self):
        return f"Retrait du {self.decided_on:%d/%m/%Y} — {self.candidate} ({self.reference})"


class WithdrawnBlock(WriteOnceModel):
    """One acquired block a withdrawal withdrew (a block is withdrawn at most once)."""

    change_refused = Withdrawal.change_refused
    delete_refused = Withdrawal.delete_refused

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="blocks", verbose_name="retrait")
    acquired_block = models.OneToOneField(
        AcquiredBlock, on_delete=models.PROTECT, related_name="withdrawn", verbose_name="bloc acquis retiré"
    )

    class Meta:
        verbose_name = "bloc retiré"
        # On PostgreSQL, raw SQL too: UPDATE and DELETE are refused by the database.
        triggers = [write_once_trigger(change=WITHDRAWAL_CHANGE_REFUSED, delete=WITHDRAWAL_DELETE_REFUSED)]
        verbose_name_plural = "blocs retirés"
        ordering = ["acquired_block__block__number", "pk"]

    def __str__(self):
        return f"{self.acquired_block} (retiré)"


ORIGIN_REFUSED = (
    "L'origine d'un bloc acquis par correspondance est définitive : elle ne peut être ni modifiée ni supprimée."
)


class AcquiredBlockOrigin(WriteOnceModel):
    """What a block held by correspondence rests on: one acquisition of the previous fiche, through one row of the
    correspondence table (a block given by several previous blocks has one origin per previous block)."""

    change_refused = delete_refused = ORIGIN_REFUSED

    acquired_block = models.ForeignKey(
        AcquiredBlock, on_delete=models.PROTECT, related_name="origins", verbose_name="bloc acquis par correspondance"
    )
    correspondence = models.ForeignKey(
        BlockCorrespondence, on_delete=models.PROTECT, related_name="uses", verbose_name="correspondance"
    )
    previous_acquisition = models.ForeignKey(
        AcquiredBlock, on_delete=models.PROTECT, related_name="carried_into", verbose_name="bloc acquis d'origine"
    )

    class Meta:
        verbose_name = "origine d'un bloc acquis par correspondance"
        verbose_name_plural = "origines des blocs acquis par correspondance"
        ordering = ["acquired_block", "previous_acquisition__block__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["acquired_block", "previous_acquisition"], name="unique_acquired_block_origin"
            )
        ]
        triggers = [write_once_trigger(change=ORIGIN_REFUSED, delete=ORIGIN_REFUSED)]

    def __str__(self):
        return f"{self.acquired_block} ← {self.previous_acquisition.block.code}"
