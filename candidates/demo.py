"""Demo promotions and candidates for `make run` (called by `seed_demo`): never in production.

Every identity, employer, tutor and accompanist below is fictitious; birth communes and their INSEE codes are
real so that the data looks like what staff will type. The list is written out (no random draw), and every
write goes through `candidates.services`, so each demo object has its audit trace like a real one.

Two promotions belong to the past of RNCP 16204, the history the demo juries tell (juries/demo.py): « MPES
2021-2023 — Saint-Étienne, apprentissage » and « MPES 2022-2023 — Fort-de-France, contrat de professionnalisation ».
The others belong to its successor, the example fiche RNCP99901 (certif/demo.py): « MPES 2025 — Saint-Étienne,
apprentissage, fin de parcours », where apprentices who lacked a block finish under the new fiche, and today's « MPES
2026-2027 — Saint-Étienne, formation continue » and « VAE 2026 ». Each write is dated when it
happened (certif.demo.history_at): a promotion a few months before it starts, a candidate on their enrolment day,
a VAE admissibility on its decision day. Blocks held from before the application (juries of 2019 and 2021) are
history imports, with their source.

Idempotent: a promotion is found again by its name, a candidate by birth name + first name + birth date, an
enrolment by (candidate, promotion), an acquired block by (candidate, block). Running it twice creates nothing
more and records no further audit event.
"""

import datetime
import unicodedata

from candidates import services
from candidates.models import AcquiredBlock, Candidate, Cohort, EmployerKind, Enrolment, EnrolmentStatus, Sex
from certif.demo import DEMO_FICHE, DEMO_SUCCESSOR, history_at
from certif.models import AccessPathway, Block, Certification, PreparationPlace

D = datetime.date

IRUP = "IRUP"
GRETA = "GRETA de la Martinique/GIP-FCIP"

# Juries held before the application: their blocks are history imports.
PV_2019 = "Procès-verbal du jury du 20 juin 2019 (reprise d'historique)"
PV_2021 = "Procès-verbal du jury du 17 juin 2021 (reprise d'historique)"
COHORT_OPENED_DAYS_BEFORE_START = 120

# Left the apprenticeship promotion after the jury of June 2022 (juries/demo.py records it then), enrolled again
# in 2026: the blocks 1 and 2 that jury gave stay theirs.
LEAVES_AFTER_FIRST_JURY = ("Haddad", "Yanis")

# key: (name, fiche, pathway code, preparation place, start, end, the demo trainer teaches it)
DEMO_COHORTS = {
    "fc": (
        "MPES 2026-2027 — Saint-Étienne, formation continue",
        DEMO_SUCCESSOR,
        "formation-continue",
        IRUP,
        D(2026, 9, 14),
        D(2027, 6, 25),
        True,
    ),
    "app": (
        "MPES 2021-2023 — Saint-Étienne, apprentissage",
        DEMO_FICHE,
        "apprentissage",
        IRUP,
        D(2021, 9, 13),
        D(2023, 6, 30),
        True,
    ),
    "pro": (
        "MPES 2022-2023 — Fort-de-France, contrat de professionnalisation",
        DEMO_FICHE,
        "professionnalisation",
        GRETA,
        D(2022, 1, 17),
        D(2023, 3, 31),
        False,
    ),
    "reprise": (
        "MPES 2025 — Saint-Étienne, apprentissage, fin de parcours",
        DEMO_SUCCESSOR,
        "apprentissage",
        IRUP,
        D(2025, 2, 3),
        D(2025, 6, 27),
        True,
    ),
    "vae": (
        "VAE 2026 — Saint-Étienne",
        DEMO_SUCCESSOR,
        "vae",
        IRUP,
        D(2026, 2, 2),
        D(2026, 12, 11),
        False,
    ),
}
# A promotion is opened a few months before it starts, but never before its fiche is installed here.
SUCCESSOR_PLACES_ADDED_ON = D(2025, 1, 7)

UNFAVOURABLE_REASON = (
    "Les activités décrites dans le livret de recevabilité (livret 1) ne sont pas en rapport direct avec le "
    "référentiel : aucune fonction d'encadrement d'équipe ni de pilotage de projet n'est justifiée. "
    "Le candidat peut présenter une nouvelle demande après une expérience d'encadrement."
)


def _enrolment(cohort, enrolled_on, *, tutor="", accompanist="", status=EnrolmentStatus.IN_PROGRESS, decision=None):
    """decision: None (no decision yet), or (decided on, favourable, reason)."""
    return {
        "cohort": cohort,
        "enrolled_on": enrolled_on,
        "tutor_name": tutor,
        "vae_accompanist": accompanist,
        "status": status,
        "decision": decision,
    }


def _person(
    birth_name,
    first_name,
    sex,
    birth_date,
    birth_commune,
    birth_insee_code,
    city,
    postal_code,
    address,
    employer_name,
    employer_kind,
    job_title,
    enrolments,
    *,
    usage_name="",
    second_first_name="",
    birth_country="France",
    acquired=(),
):
    return {
        "identity": {
            "birth_name": birth_name,
            "usage_name": usage_name,
            "first_name": first_name,
            "second_first_name": second_first_name,
            "sex": sex,
            "birth_date": birth_date,
            "birth_commune": birth_commune,
            "birth_insee_code": birth_insee_code,
            "birth_country": birth_country,
            "address": address,
            "postal_code": postal_code,
            "city": city,
            "employer_name": employer_name,
            "employer_kind": employer_kind,
            "job_title": job_title,
        },
        "enrolments": enrolments,
        # (block number, acquired on, source)
        "acquired": list(acquired),
    }


F, M = Sex.FEMALE, Sex.MALE
ASSO, FOND, COOP, MUT = EmployerKind.ASSOCIATION, EmployerKind.FOUNDATION, EmployerKind.COOPERATIVE, EmployerKind.MUTUAL
FAVOURABLE_JAN = (D(2026, 1, 20), True, "")

# fmt: off
DEMO_CANDIDATES = [
    # — Saint-Étienne, formation continue (the demo trainer's promotion) —
    _person(
        "Perrin", "Nathalie", F, D(1978, 3, 14), "Saint-Étienne", "42218", "Saint-Étienne", "42100",
        "18 rue Michelet", "Association Trait d'Union Forézien", ASSO, "Cheffe de service",
        [_enrolment("fc", D(2026, 6, 29))],
        usage_name="Chauvet", second_first_name="Marie",
    ),
    _person(
        "Bonnefoy", "Julien", M, D(1986, 11, 2), "Lyon", "69123", "Saint-Chamond", "42400",
        "5 place de la Liberté", "Coopérative Habitat & Partage du Gier", COOP, "Responsable de secteur",
        [_enrolment("fc", D(2026, 7, 6))],
    ),
    _person(
        "Faure", "Sandrine", F, D(1981, 6, 27), "Roanne", "42187", "Roanne", "42300",
        "27 rue Jean Jaurès", "Mutuelle Solidarité Loire-Forez", MUT, "Responsable de centre de gestion",
        [_enrolment("fc", D(2026, 7, 8))],
        acquired=[(1, D(2021, 6, 17), PV_2021)],
    ),
    _person(
        "Mazet", "Olivier", M, D(1975, 1, 19), "Firminy", "42095", "Firminy", "42700",
        "9 rue des Noyers", "Fondation Les Hauts du Pilat", FOND, "Directeur adjoint",
        [_enrolment("fc", D(2026, 7, 13))],
        second_first_name="Jean",
    ),
    _person(
        "Chambon", "Élodie", F, D(1990, 9, 8), "Clermont-Ferrand", "63113", "Saint-Étienne", "42000",
        "41 cours Fauriel", "Association Le Relais des Monts", ASSO, "Coordinatrice d'activité",
        [_enrolment("fc", D(2026, 8, 27))],
    ),
    _person(
        "Roux", "Mathieu", M, D(1983, 4, 30), "Saint-Étienne", "42218", "Saint-Étienne", "42000",
        "3 rue de la Résistance", "Coopérative Les Jardins du Furan", COOP, "Responsable d'équipement",
        [_enrolment("fc", D(2026, 8, 31))],
        acquired=[(3, D(2021, 6, 17), PV_2021)],
    ),
    _person(
        "Vial", "Camille", F, D(1992, 12, 5), "Annonay", "07010", "Montbrison", "42600",
        "12 boulevard Lachèze", "Association Vivre Ensemble en Haut-Forez", ASSO, "Chargée de développement",
        [_enrolment("fc", D(2026, 9, 1))],
    ),
    # — Saint-Étienne, apprentissage 2021-2023 (the demo trainer's promotion; juries of 2022 and 2023) —
    _person(
        "Giraud", "Thomas", M, D(2001, 2, 11), "Saint-Étienne", "42218", "Saint-Étienne", "42100",
        "7 rue Balay", "Association Loire Insertion Jeunesse", ASSO, "Chargé de mission",
        [_enrolment("app", D(2021, 9, 6), tutor="Mme Sylvie Rochette")],
    ),
    _person(
        "Barbier", "Manon", F, D(2000, 8, 17), "Lyon", "69123", "Lyon", "69007",
        "54 avenue Jean Jaurès", "Coopérative Cycl'Avenir", COOP, "Coordinatrice d'activité",
        [_enrolment("app", D(2021, 9, 6), tutor="M. Denis Vacher")],
    ),
    # Left the apprenticeship in September 2022 holding blocks 1 and 2 (jury of 14 June 2022), back in 2026 in
    # formation continue to complete: the blocks stay his.
    _person(
        "Haddad", "Yanis", M, D(1999, 5, 3), "Villeurbanne", "69266", "Villeurbanne", "69100",
        "16 rue Francis de Pressensé", "Fondation Abri Solidaire", FOND, "Responsable de planning, d'hébergement",
        [_enrolment("app", D(2021, 9, 7), tutor="Mme Christine Fayolle"), _enrolment("fc", D(2026, 7, 3))],
    ),
    _person(
        "Poncet", "Léa", F, D(2002, 10, 29), "Le Puy-en-Velay", "43157", "Le Puy-en-Velay", "43000",
        "2 rue Pannessac", "Mutuelle des Artisans Solidaires", MUT, "Chargée de développement",
        [_enrolment("app", D(2021, 9, 7), tutor="M. Patrick Souvignet")],
        second_first_name="Anne",
    ),
    _person(
        "Santini", "Lucas", M, D(1998, 1, 24), "Ajaccio", "2A004", "Saint-Étienne", "42000",
        "33 rue de la Montat", "Association Prévention Sport Santé Loire", ASSO, "Coordinateur d'activité",
        [_enrolment("app", D(2021, 9, 8), tutor="M. Gilles Peyron")],
    ),
    _person(
        "Ferrand", "Inès", F, D(2003, 3, 9), "Saint-Chamond", "42207", "Saint-Chamond", "42400",
        "11 rue de la République", "Coopérative Bio Pilat Services", COOP, "Chargée de mission",
        [_enrolment("app", D(2021, 9, 9), tutor="Mme Agnès Thiollière")],
    ),
    _person(
        "Guillot", "Antoine", M, D(1997, 12, 12), "Grenoble", "38185", "Saint-Étienne", "42100",
        "8 rue Bergson", "Association Les Amis du Crêt de Roc", ASSO, "Responsable d'équipement",
        [_enrolment("app", D(2021, 9, 9), tutor="M. Bernard Coste")],
    ),
    _person(
        "Nguyen", "Sarah", F, D(2001, 6, 6), "Vienne", "38544", "Rive-de-Gier", "42800",
        "21 rue Jules Guesde", "Fondation Enfance et Familles du Forez", FOND, "Responsable de secteur",
        [_enrolment("app", D(2021, 9, 10), tutor="Mme Françoise Dury")],
    ),
    # — Fort-de-France, contrat de professionnalisation 2022-2023 (GRETA de la Martinique; jury of 4 April 2023) —
    # Blocks 1 and 2 from IRUP's jury of June 2021 in Saint-Étienne, before the application (history import);
    # back in Martinique she completes the certification in Fort-de-France.
    _person(
        "Célestin", "Laetitia", F, D(1984, 7, 22), "Fort-de-France", "97209", "Le Lamentin", "97232",
        "Résidence Les Flamboyants, bât. C", "Association Kaz'Entraide", ASSO, "Responsable de service",
        [_enrolment("pro", D(2022, 1, 10), tutor="Mme Josiane Florentin")],
        acquired=[(1, D(2021, 6, 17), PV_2021), (2, D(2021, 6, 17), PV_2021)],
    ),
    _person(
        "Désiré", "Kévin", M, D(1994, 9, 14), "Fort-de-France", "97209", "Fort-de-France", "97200",
        "14 rue Victor Hugo", "Association Lakou Solidarité", ASSO, "Chargé de développement",
        [_enrolment("pro", D(2022, 1, 3), tutor="M. Rodolphe Lucien")],
    ),
    _person(
        "Augustin", "Maëva", F, D(1996, 2, 28), "Le Lamentin", "97213", "Le Lamentin", "97232",
        "Quartier Bois Rouge", "Coopérative agricole Bèl Jaden", COOP, "Coordinatrice d'activité",
        [_enrolment("pro", D(2022, 1, 4), tutor="Mme Line Palmier")],
    ),
    _person(
        "Éloi", "Murielle", F, D(1979, 5, 21), "Schœlcher", "97229", "Schœlcher", "97233",
        "Route de Fond Lahaye", "Mutuelle Entraide Caraïbe", MUT, "Responsable de centre de gestion",
        [_enrolment("pro", D(2022, 1, 5), tutor="M. Max Rosier")],
        usage_name="Sainville",
    ),
    _person(
        "Lapierre", "Jérôme", M, D(1988, 12, 1), "Le Robert", "97222", "Le Robert", "97231",
        "Cité Lestrade", "Association Sport et Quartiers du Robert", ASSO, "Responsable d'équipement",
        [_enrolment("pro", D(2022, 1, 6), tutor="Mme Édith Bellerose")],
    ),
    _person(
        "Médard", "Stéphanie", F, D(1985, 8, 9), "Pointe-à-Pitre", "97120", "Fort-de-France", "97200",
        "6 boulevard du Général de Gaulle", "Fondation Kaz Lespwa", FOND, "Cheffe de service",
        [_enrolment("pro", D(2022, 1, 7), tutor="M. Hugues Sainte-Rose")],
    ),
    _person(
        "Bellance", "Cédric", M, D(1991, 3, 16), "Le François", "97210", "Le François", "97240",
        "Morne Pitault", "Association Mouvman Jenn", ASSO, "Chargé de mission",
        [_enrolment("pro", D(2022, 1, 10), tutor="Mme Ginette Alexis")],
        second_first_name="Louis",
    ),
    _person(
        "Marie-Luce", "Audrey", F, D(1993, 11, 27), "Sainte-Marie", "97228", "Sainte-Marie", "97230",
        "Quartier Fond Saint-Jacques", "Coopérative Pêche et Partage du Nord", COOP, "Responsable de secteur",
        [_enrolment("pro", D(2022, 1, 11), tutor="M. Félix Gabourg")],
    ),
    # — VAE 2026, Saint-Étienne: admissibility (recevabilité) first —
    _person(
        "Morel", "Valérie", F, D(1971, 4, 2), "Saint-Étienne", "42218", "Saint-Étienne", "42000",
        "25 rue Gambetta", "Association Loire Service Familles", ASSO, "Responsable de secteur",
        [_enrolment("vae", D(2025, 11, 17), accompanist="Sophie Marchand (IRUP)", decision=FAVOURABLE_JAN)],
        usage_name="Besson",
        acquired=[(2, D(2019, 6, 20), PV_2019)],
    ),
    _person(
        "Lacroix", "Philippe", M, D(1972, 10, 18), "Marseille", "13055", "Saint-Genest-Lerpt", "42530",
        "4 allée des Cèdres", "Fondation Maison d'Accueil du Pilat", FOND, "Directeur adjoint",
        [_enrolment("vae", D(2025, 11, 18), accompanist="Sophie Marchand (IRUP)", decision=FAVOURABLE_JAN)],
        second_first_name="André",
    ),
    _person(
        "Mercier", "Karine", F, D(1976, 1, 30), "Bastia", "2B033", "Roanne", "42300",
        "10 rue Charlieu", "Mutuelle Forez Prévoyance Solidaire", MUT, "Responsable de service",
        [_enrolment("vae", D(2025, 11, 20), accompanist="Bruno Chapuis (IRUP)", decision=FAVOURABLE_JAN)],
        acquired=[(4, D(2019, 6, 20), PV_2019)],
    ),
    _person(
        "El Amrani", "Nadia", F, D(1980, 7, 11), "Casablanca", "", "Saint-Étienne", "42000",
        "2 place de Montreynaud", "Association Femmes Relais de Montreynaud", ASSO, "Coordinatrice d'activité",
        [_enrolment("vae", D(2025, 11, 24), accompanist="Bruno Chapuis (IRUP)", decision=(D(2026, 1, 27), True, ""))],
        birth_country="Maroc",
    ),
    _person(
        "Durand", "Frédéric", M, D(1974, 5, 25), "Paris", "75056", "Firminy", "42700",
        "15 rue Jean Moulin", "Coopérative d'activités Ondaine Initiatives", COOP, "Chargé de développement",
        [_enrolment("vae", D(2025, 12, 1), accompanist="Sophie Marchand (IRUP)", decision=(D(2026, 1, 27), True, ""))],
    ),
    _person(
        "Teyssier", "Christophe", M, D(1982, 2, 14), "Le Puy-en-Velay", "43157", "Unieux", "42240",
        "6 chemin de la Loire", "Association Sport Nature Loire", ASSO, "Chef de service",
        [_enrolment("vae", D(2026, 9, 28), accompanist="Bruno Chapuis (IRUP)")],
    ),
    _person(
        "Rivat", "Aurélie", F, D(1989, 9, 3), "Montbrison", "42147", "Montbrison", "42600",
        "19 rue Tupinerie", "Coopérative Les Paniers du Forez", COOP, "Chargée de mission",
        [
            _enrolment(
                "vae",
                D(2025, 12, 3),
                accompanist="Sophie Marchand (IRUP)",
                decision=(D(2026, 1, 20), False, UNFAVOURABLE_REASON),
            )
        ],
    ),
]
# fmt: on


def _ascii(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "Oe")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def demo_email(identity: dict) -> str:
    last = identity["usage_name"] or identity["birth_name"]
    local = f"{identity['first_name']}.{last}".lower().replace(" ", "-").replace("'", "")
    return f"{_ascii(local)}@example.org"


def demo_phone(index: int, postal_code: str) -> str:
    """A mobile number (06…) drawn from the row number: the same on every run; 06 96 in Martinique."""
    digits = f"{(index * 7_919_371 + 12_345_678) % 10**8:08d}"
    pairs = [digits[i : i + 2] for i in range(0, 8, 2)]
    if postal_code.startswith("972"):
        pairs = ["96", *pairs[1:]]
    return "06 " + " ".join(pairs)


def _get_or_create_cohort(spec, *, certification, staff, trainer):
    name, _, pathway_code, place_name, start, end, taught = spec
    existing = Cohort.objects.filter(certification=certification, name=name).first()
    if existing:
        return existing, False
    cohort = Cohort(
        certification=certification,
        name=name,
        pathway=AccessPathway.objects.get(certification=certification, code=pathway_code),
        preparation_place=PreparationPlace.objects.get(certification=certification, name=place_name),
        start_date=start,
        end_date=end,
    )
    return services.cohort_save(cohort=cohort, trainers=[trainer] if taught else [], actor=staff), True


def _get_or_create_candidate(index: int, identity: dict, *, staff):
    existing = Candidate.objects.likely_duplicates_of(
        birth_name=identity["birth_name"], first_name=identity["first_name"], birth_date=identity["birth_date"]
    ).first()
    if existing:
        return existing, False
    fields = {
        **identity,
        "email": demo_email(identity),
        "phone": demo_phone(index, identity["postal_code"]),
    }
    return services.candidate_create(actor=staff, **fields), True


def _ensure_enrolment(candidate, spec: dict, cohort, *, staff, minute=0):
    enrolment = Enrolment.objects.filter(candidate=candidate, cohort=cohort).first()
    if enrolment is None:
        with history_at(spec["enrolled_on"], 9, minute + 1):
            enrolment = _new_enrolment(candidate, spec, cohort, staff=staff)
    if spec["decision"] and enrolment.admissibility_favourable is None and enrolment.admissibility_date is None:
        decided_on, favourable, reason = spec["decision"]
        with history_at(decided_on, 14, minute):
            services.admissibility_record(
                enrolment=enrolment, decided_on=decided_on, favourable=favourable, reason=reason, actor=staff
            )


def _new_enrolment(candidate, spec: dict, cohort, *, staff):
    enrolment = services.enrolment_create(
        candidate=candidate,
        cohort=cohort,
        actor=staff,
        enrolled_on=spec["enrolled_on"],
        tutor_name=spec["tutor_name"],
        vae_accompanist=spec["vae_accompanist"],
    )
    if spec["status"] != enrolment.status:
        enrolment = services.enrolment_update(
            enrolment=enrolment,
            actor=staff,
            status=spec["status"],
            tutor_name=enrolment.tutor_name,
            vae_accompanist=enrolment.vae_accompanist,
        )
    return enrolment


def _copy_preparation_places(previous, successor, *, staff) -> None:
    """The successor is prepared where its predecessor was (the France Compétences export lists no places)."""
    present = set(PreparationPlace.objects.filter(certification=successor).values_list("name", flat=True))
    with history_at(SUCCESSOR_PLACES_ADDED_ON, 9):
        for place in PreparationPlace.objects.filter(certification=previous).order_by("pk"):
            if place.name not in present:
                services.preparation_place_create(
                    place=PreparationPlace(certification=successor, name=place.name, address=place.address),
                    actor=staff,
                )


def create_demo_candidates(*, staff, trainer) -> dict:
    """Create the demo promotions, candidates, enrolments and imported blocks that are missing.

    Returns the counts of demo promotions and candidates, and how many of each this run created.
    """
    certifications = {c.rncp_code: c for c in Certification.objects.filter(rncp_code__in=[DEMO_FICHE, DEMO_SUCCESSOR])}
    blocks = {block.number: block for block in Block.objects.filter(certification=certifications[DEMO_FICHE])}
    successor = certifications.get(DEMO_SUCCESSOR)
    if successor is not None:
        _copy_preparation_places(certifications[DEMO_FICHE], successor, staff=staff)
    cohorts, created_cohorts = {}, 0
    for key, spec in DEMO_COHORTS.items():
        certification = certifications.get(spec[1])
        if certification is None:
            continue
        opened_on = spec[4] - datetime.timedelta(days=COHORT_OPENED_DAYS_BEFORE_START)
        if spec[1] == DEMO_SUCCESSOR:
            opened_on = max(opened_on, SUCCESSOR_PLACES_ADDED_ON)
        with history_at(opened_on, 10):
            cohorts[key], created = _get_or_create_cohort(
                spec, certification=certification, staff=staff, trainer=trainer
            )
        created_cohorts += created

    created_candidates = 0
    for index, person in enumerate(DEMO_CANDIDATES):
        first_enrolled_on = min(spec["enrolled_on"] for spec in person["enrolments"])
        with history_at(first_enrolled_on, 9, index):
            candidate, created = _get_or_create_candidate(index, person["identity"], staff=staff)
            held = set(AcquiredBlock.objects.filter(candidate=candidate).values_list("block__number", flat=True))
            for number, acquired_on, source in person["acquired"]:
                if number not in held:
                    services.acquired_block_import(
                        candidate=candidate,
                        block=blocks[number],
                        acquired_on=acquired_on,
                        import_source=source,
                        actor=staff,
                    )
        created_candidates += created
        for spec in person["enrolments"]:
            if spec["cohort"] in cohorts:
                _ensure_enrolment(candidate, spec, cohorts[spec["cohort"]], staff=staff, minute=index)

    return {
        "cohorts": len(cohorts),
        "candidates": len(DEMO_CANDIDATES),
        "created_cohorts": created_cohorts,
        "created_candidates": created_candidates,
    }
