# The birth places typed before the code lists are mapped to them (candidates.cog.map_typed_place); a file
# that does not match keeps its text, with an empty country code, and is listed for staff (« fiches à vérifier »).

import candidates.models
import django.core.validators
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models
from django.db.models.functions import Greatest, Length


def map_birth_places(apps, schema_editor):
    from candidates.cog import map_typed_place

    Candidate = apps.get_model("candidates", "Candidate")
    # The schema's limits become the columns' (60 characters): a longer name cannot be cut without the person's
    # say, so the migration stops and names the files to shorten first.
    too_long = Candidate.objects.annotate(
        longest=Greatest(Length("birth_name"), Length("usage_name"), Length("birth_commune"), Length("birth_country"))
    ).filter(longest__gt=60)
    if too_long.exists():
        names = ", ".join(f"n° {pk}" for pk in too_long.values_list("pk", flat=True)[:20])
        raise RuntimeError(
            f"Fiches de candidat dont un nom, une commune ou un pays dépasse 60 caractères : {names}. "
            "Raccourcissez-les (limite du schéma de la Caisse des Dépôts), puis relancez la migration."
        )
    rows = Candidate.objects.values_list("pk", "birth_country", "birth_commune", "birth_insee_code", "birth_postal_code")
    for pk, country, commune, insee, postal in rows.iterator():
        place = map_typed_place(country_text=country, commune=commune, insee_code=insee, postal_code=postal)
        Candidate.objects.filter(pk=pk).update(
            birth_country_code=place.country_code,
            birth_country=place.country_name,
            birth_insee_code=place.insee_code,
            birth_postal_code=place.postal_code,
            birth_commune=place.commune,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0002_acquired_block_origins'),
    ]

    operations = [
        # Existing rows start without a code: the mapping below gives them one, or lists them.
        migrations.AddField(
            model_name='candidate',
            name='birth_country_code',
            field=models.CharField(blank=True, default='', max_length=5),
            preserve_default=False,
        ),
        migrations.RunPython(map_birth_places, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='candidate',
            name='birth_country_code',
            field=models.CharField(blank=True, default='99100', help_text="Code du Code officiel géographique : 99100 pour la France (outre-mer compris), 99109 pour l'Allemagne… Tapez le nom du pays et choisissez-le.", max_length=5, verbose_name='pays de naissance (code INSEE)'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='birth_commune',
            field=models.CharField(blank=True, help_text="Né(e) en France : le nom que donne le Code officiel géographique pour le code INSEE choisi. Né(e) à l’étranger : la ville, telle qu'écrite sur l'acte de naissance.", max_length=60, verbose_name='commune de naissance'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='birth_country',
            field=models.CharField(default='France', max_length=60, verbose_name='pays de naissance'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='birth_insee_code',
            field=models.CharField(blank=True, help_text='Pour une naissance en France, outre-mer compris : tapez le nom de la commune et choisissez-la (5 caractères ; 2A ou 2B pour la Corse). Les communes fusionnées depuis sont dans la liste.', max_length=5, validators=[django.core.validators.RegexValidator('^(?:\\d{5}|2[AB]\\d{3})$', 'Le code INSEE compte 5 caractères : 5 chiffres, ou 2A / 2B suivis de 3 chiffres pour la Corse.'), candidates.models.validate_department_number], verbose_name='code INSEE de la commune de naissance'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='birth_name',
            field=models.CharField(max_length=60, verbose_name='nom de naissance'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='birth_postal_code',
            field=models.CharField(blank=True, help_text="Déduit du code INSEE quand la commune n'en a qu'un ; à indiquer seul quand le code INSEE n'est pas connu (5 chiffres) : la déclaration à la Caisse des Dépôts l'accepte à sa place.", max_length=5, validators=[django.core.validators.RegexValidator('^\\d{5}$', 'Le code postal compte 5 chiffres.'), candidates.models.validate_department_number], verbose_name='code postal de la commune de naissance'),
        ),
        migrations.AlterField(
            model_name='candidate',
            name='usage_name',
            field=models.CharField(blank=True, max_length=60, verbose_name="nom d'usage"),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_name'), 60), name='candidate_birth_name_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('usage_name'), 60), name='candidate_usage_name_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('first_name'), 60), name='candidate_first_name_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('second_first_name'), 60), name='candidate_second_first_name_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('third_first_name'), 60), name='candidate_third_first_name_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_commune'), 60), name='candidate_birth_commune_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_country'), 60), name='candidate_birth_country_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_insee_code'), 5), name='candidate_birth_insee_code_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_postal_code'), 5), name='candidate_birth_postal_code_max_length'),
        ),
        migrations.AddConstraint(
            model_name='candidate',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('birth_country_code'), 5), name='candidate_birth_country_code_max_length'),
        ),
    ]
