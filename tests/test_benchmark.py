"""`make benchmark` at a tiny scale: every goal of the README gets its line, measured, in one run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LINES = (
    "liste des candidats (gestion) sous gunicorn",
    "liste des candidats (gestion) / cadre vide connecté",
    "cadre vide connecté (gabarit de base seul) / vue nue",
    "page publique /v/<code>/ sous gunicorn",
    "page publique /v/<code>/ / cadre vide public",
    "cadre vide public (gabarit de base seul) / vue nue",
    "grille 30 × 9, page entière",
    "certificat : vue « Émettre » / WeasyPrint seul",
    "relevé de résultats",
    "lot d'une session de 3 candidats",
    "signature de 30 candidats",
    "délibération, 60 décisions modifiées",
    "présenter : page à 3 candidats",
    "présenter tous les éligibles",
    "export CSV des résultats",
    "export XLSX des résultats",
    "déclaration CDC",
    "tableau de bord statistique",
)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk absent")
def test_the_benchmark_prints_every_goal_beside_a_figure():
    # SQLite in a temporary file: the script's throwaway database must never be the one this test run uses.
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["BENCHMARK_CANDIDATES"] = "3"
    result = subprocess.run(
        [sys.executable, "scripts/benchmark.py", "--candidates", "3", "--runs", "1", "--wrk-seconds", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout.split("Résultats (objectifs de performance du README) :")[1]
    rows = [line.strip() for line in table.strip().splitlines()]
    assert len(rows) == len(LINES), table
    for row, label in zip(rows, LINES, strict=True):
        assert row.startswith(label), (row, label)
        assert "objectif" in row and row.endswith(("atteint", "MANQUÉ", "non mesuré", "repère")), row
    assert "Machine :" in result.stdout and "cœurs" in result.stdout
