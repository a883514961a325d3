#!/usr/bin/env python
"""Benchmark of the documents (not a test): `make benchmark`.

1. A certificate through the application's view that produces it (Django test client, logged-in staff): POST
   « Émettre » (build the HTML from the signed session, render, SHA-256, store, audit), against WeasyPrint alone
   rendering the same HTML with the same stylesheet and fonts already loaded, runs interleaved, medians; target:
   view ≤ 1.15 × WeasyPrint. Also: the download view (stored bytes) and WeasyPrint called cold.
2. A session of 100 certified candidates: every document (minutes, 100 results statements, 100 certificates)
   through the real task path — `batch_request` enqueues on the database queue, `db_worker --batch` runs it,
   rendering on a process pool (one process per core).

Runs on a throwaway test database created for the run and dropped after (`test_<name>` of DATABASE_URL, or an
in-memory SQLite database by default): never on the application's own data.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RUNS = int(os.environ.get("BENCHMARK_RUNS", "15"))
CANDIDATES = int(os.environ.get("BENCHMARK_CANDIDATES", "100"))
TARGET = 1.15


def median_time(function, runs=RUNS, before=None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def certified_session(staff, trainer, president, count: int, name: str):
    """`count` candidates validating blocks 1 and 2 at a signed jury, holding 3 and 4 from history: all certified."""
    import datetime

    from candidates.services import acquired_block_import
    from certif.models import Block
    from juries import services
    from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

    _, enrolments, _ = evaluated_cohort(staff, trainer, count=count, codes="A", name=name)
    blocks = {b.number: b for b in Block.objects.filter(certification__rncp_code="16204")}
    for enrolment in enrolments:
        for number in (3, 4):
            acquired_block_import(
                candidate=enrolment.candidate,
                block=blocks[number],
                acquired_on=datetime.date(2021, 6, 17),
                import_source="Procès-verbal du jury du 17 juin 2021",
                actor=staff,
            )
    session = make_jury(staff, president, place=f"IRUP, Saint-Étienne — {name}")
    present_all(session, enrolments, staff)
    decide_all(session, president)
    services.jury_session_sign_off(session=session, signed_by=president)
    session.refresh_from_db()
    return session, [e.candidate for e in enrolments]


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.urls import reverse

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration

        from certif.roles import Role
        from documents import pdf
        from documents.content import SessionData, find_slot, prepare
        from documents.models import DocumentKind, IssuedDocument
        from documents.services import batch_request, document_revoke
        from tests.conftest import make_user

        staff = make_user("gestion", Role.STAFF, is_staff=True)
        trainer = make_user("formatrice", Role.TRAINER)
        president = make_user("presidente", Role.PRESIDENT)
        print(f"Base jetable : {connection.vendor} ({connection.settings_dict['NAME']})")
        print(f"Cœurs : {os.cpu_count()} ; {RUNS} mesures par temps (médiane)\n")

        # — 1. One certificate: the view against WeasyPrint alone —
        session, candidates = certified_session(staff, trainer, president, 1, "Banc d'essai vue")
        holder = candidates[0]
        client = Client()
        client.force_login(staff)
        issue_url = reverse("documents:issue", args=[session.pk])

        def view():
            """The view that produces the PDF: « Émettre » (HTML from the signed session, render, store, audit)."""
            response = client.post(issue_url, {"kind": DocumentKind.CERTIFICATE, "candidate": holder.pk})
            assert response.status_code == 302, response.status_code

        def reset():
            """Outside the timing: revoke the certificate issued by the previous run (an issued document is never
            deleted), so that « Émettre » produces a new one each run."""
            for document in IssuedDocument.objects.filter(kind=DocumentKind.CERTIFICATE, status="valid"):
                document_revoke(document=document, reason="Banc d'essai : nouvelle émission", actor=staff)

        html = prepare(SessionData(session), find_slot(session, DocumentKind.CERTIFICATE, holder.pk)).html
        _, _, fetcher = pdf.renderer_state()

        def weasyprint_alone():
            """Like for like: the same HTML and the very write_pdf options of the view (PDF/A variant, tags, XMP)."""
            pdf.html_document(html).write_pdf(**pdf.write_options())

        def weasyprint_cold():
            cold_config = FontConfiguration()
            cold_css = CSS(
                string=pdf.font_face_css() + pdf.STYLESHEET.read_text(encoding="utf-8"),
                font_config=cold_config,
                url_fetcher=fetcher,
            )
            options = pdf.write_options() | {"stylesheets": [cold_css], "font_config": cold_config}
            HTML(string=html, base_url=pdf.FONTS_DIR.as_uri() + "/", url_fetcher=fetcher).write_pdf(**options)

        reset()
        view()  # warm-up: fonts and stylesheet loaded once per process, templates compiled
        weasyprint_alone()
        # Interleaved runs (view, WeasyPrint, view, …): a load on the machine weighs on both alike.
        view_times, weasy_times = [], []
        for _ in range(RUNS):
            reset()
            view_times.append(median_time(view, runs=1))
            weasy_times.append(median_time(weasyprint_alone, runs=1))
        view_time, weasy_time = statistics.median(view_times), statistics.median(weasy_times)
        paired = statistics.median(v / w for v, w in zip(view_times, weasy_times, strict=True))
        cold_time = median_time(weasyprint_cold, runs=max(3, RUNS // 3))
        download_url = reverse(
            "documents:download",
            args=[IssuedDocument.objects.filter(kind=DocumentKind.CERTIFICATE, status="valid").get().pk],
        )

        def download():
            response = client.get(download_url)
            assert response.status_code == 200 and response.content.startswith(b"%PDF")

        download_time = median_time(download)
        ratio = view_time / weasy_time
        print("Certificat :")
        print(
            f"  vue « Émettre » (produit le PDF)        {view_time * 1000:8.1f} ms  (HTML, rendu, empreinte, stockage, audit)"
        )
        print(
            f"  WeasyPrint seul, même HTML             {weasy_time * 1000:8.1f} ms  (mêmes styles et polices, déjà chargés)"
        )
        print(
            f"  WeasyPrint seul, à froid               {cold_time * 1000:8.1f} ms  (styles et polices relus à chaque appel)"
        )
        print(f"  vue « Télécharger » (octets gardés)    {download_time * 1000:8.1f} ms")
        verdict = "atteint" if ratio <= TARGET else "MANQUÉ"
        print(f"  vue / WeasyPrint seul                  {ratio:8.2f} ×  (objectif ≤ {TARGET} × : {verdict})")
        print(f"  même rapport, médiane des paires       {paired:8.2f} ×")
        print(f"  émettre + télécharger / WeasyPrint     {(view_time + download_time) / weasy_time:8.2f} ×")
        print(f"  vue / WeasyPrint à froid               {view_time / cold_time:8.2f} ×\n")

        # The results statement (2 pages, 4 tables): most of a batch's rendering time.
        statement = prepare(SessionData(session), find_slot(session, DocumentKind.RESULTS, holder.pk)).html
        pdf.html_to_pdf(statement)
        statement_time = median_time(lambda: pdf.html_to_pdf(statement))
        verdict = "atteint" if statement_time <= 0.080 else "MANQUÉ"
        print(f"Relevé de résultats : rendu {statement_time * 1000:8.1f} ms  (objectif ≤ 80 ms : {verdict})\n")

        # — 2. A batch of 100 certificates through the task queue and the worker —
        session, candidates = certified_session(staff, trainer, president, CANDIDATES, "Banc d'essai lot")
        batch = batch_request(session=session, actor=staff)
        workers = pdf.worker_count(batch.total)
        cpu_before, start = os.times(), time.perf_counter()
        call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
        batch_time, cpu_after = time.perf_counter() - start, os.times()
        cpu = sum(cpu_after[:4]) - sum(cpu_before[:4])  # this process and its worker processes, user + system
        batch.refresh_from_db()
        assert batch.status == "done", batch.error
        certificates = IssuedDocument.objects.filter(session=session, kind=DocumentKind.CERTIFICATE).count()
        print(
            f"Lot d'une session de {CANDIDATES} candidats certifiés (file de tâches + db_worker + {workers} processus) :"
        )
        print(
            f"  {batch.total} documents dont {certificates} certificats, ZIP et PDF à imprimer : {batch_time:6.1f} s "
            f"({batch_time / batch.total * 1000:.0f} ms par document)"
        )
        print(
            f"  temps processeur {cpu:5.1f} s pour {batch_time:5.1f} s écoulées : {cpu / batch_time:.2f} cœurs occupés en moyenne"
        )

        # The same 100 certificate HTMLs rendered in one process, then on the pool: what the second core brings.
        data = SessionData(session)
        htmls = [
            prepare(data, find_slot(session, DocumentKind.CERTIFICATE, candidate.pk)).html
            for candidate in candidates[:CANDIDATES]
        ]
        start = time.perf_counter()
        for item in htmls:
            pdf.html_to_pdf(item)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        with pdf.pool(len(htmls)) as executor:
            list(executor.map(pdf.warm_up_and_wait, range(pdf.worker_count(len(htmls)))))
            started = time.perf_counter()
            list(executor.map(pdf.html_to_pdf, htmls, chunksize=4))
        parallel, startup = time.perf_counter() - started, started - start
        print(
            f"  rendu seul de {len(htmls)} certificats : 1 processus {sequential:5.1f} s ; "
            f"{pdf.worker_count(len(htmls))} processus {parallel:5.1f} s (accélération {sequential / parallel:.2f} ×), "
            f"plus {startup:.1f} s de démarrage des processus"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
