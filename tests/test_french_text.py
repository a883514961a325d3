from django.template import Context, Template

from certif.text import counted, plural, plural_suffix


def test_zero_and_one_take_the_singular_in_french():
    assert [counted(n, "écart", "écarts") for n in (0, 1, 2)] == ["0 écart", "1 écart", "2 écarts"]
    assert plural(3, "décision manque", "décisions manquent") == "décisions manquent"


def test_the_filter_agrees_with_the_count_and_takes_two_endings():
    template = Template(
        '{% load french %}{{ n }} candidat{{ n|fr_plural }} ser{{ n|fr_plural:"a,ont" }} créé{{ n|fr_plural }}'
    )
    assert [template.render(Context({"n": n})) for n in (0, 1, 2)] == [
        "0 candidat sera créé",
        "1 candidat sera créé",
        "2 candidats seront créés",
    ]
    assert plural_suffix("", "s") == "" and plural_suffix(None, "a,ont") == "a"
