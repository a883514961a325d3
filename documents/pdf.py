"""HTML → archival and accessible PDF (PDF/A-2u, tagged as PDF/UA-1) with WeasyPrint: A4, fonts vendored in
static/vendor/fonts, no network.

This module imports no Django model: the batch's worker processes import it alone (`render_many`) and render
HTML strings built by the main process. The font configuration and the stylesheet are parsed once per process and
reused by every render (parsing the @font-face rules and the fonts is most of a cold render's cost).
"""

import functools
import io
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

BASE_DIR = Path(__file__).resolve().parent.parent
FONTS_DIR = BASE_DIR / "static" / "vendor" / "fonts"
STYLESHEET = BASE_DIR / "templates" / "documents" / "documents.css"
# PDF/A-2, level U: fonts embedded, an sRGB output intent, XMP metadata, and every glyph mapped to Unicode (the text
# can be searched and copied, as an archive needs). PDF/A-2 rather than 3: no arbitrary file may be attached.
PDF_VARIANT = "pdf/a-2u"
PDFA_PART, PDFA_CONFORMANCE = "2", "U"
# Tagged as well (PDF/UA-1): a structure tree (headings, paragraphs, tables with their header cells, figures with
# their text alternative), the language, the title shown by the reader. A screen reader follows the document in
# reading order; WeasyPrint builds the tree from the HTML, so the templates keep headings in order, `th` cells with
# a scope and an alternative on every image (templates/documents/). The XMP metadata declares both standards.
PDFUA_PART = "1"
PDFUA_IDENTIFICATION = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    f'<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="{PDFUA_PART}"/>'
    "</rdf:RDF>"
).encode()

FONT_FACES = [
    # (family, weight, style, file)
    ("MPES Sans", "normal", "normal", "DejaVuSans.ttf"),
    ("MPES Sans", "bold", "normal", "DejaVuSans-Bold.ttf"),
    ("MPES Serif", "normal", "normal", "DejaVuSerif.ttf"),
    ("MPES Serif", "bold", "normal", "DejaVuSerif-Bold.ttf"),
    ("MPES Serif", "normal", "italic", "DejaVuSerif-Italic.ttf"),
    ("MPES Mono", "normal", "normal", "DejaVuSansMono.ttf"),
]


class LocalFontsOnly(URLFetcher):
    """Fetches the vendored fonts and nothing else: a document never depends on the network or the system."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):  # an image embedded in the document itself (the issuer's logo)
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(url.removeprefix("file://").split("?")[0]).resolve()
            if path.parent == FONTS_DIR.resolve() and path.is_file():
                return super().fetch(url, headers)
        raise FatalURLFetchingError(f"Ressource refusée dans un document : {url}")


def font_face_css() -> str:
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: {style}; '
        f'src: url("{(FONTS_DIR / name).as_uri()}") format("truetype"); }}'
        for family, weight, style, name in FONT_FACES
    )


@functools.cache
def renderer_state() -> tuple[FontConfiguration, CSS, URLFetcher]:
    """One font configuration and one parsed stylesheet per process (thread-safe enough: built once, then read)."""
    fetcher = LocalFontsOnly()
    font_config = FontConfiguration()
    css = CSS(
        string=font_face_css() + "\n" + STYLESHEET.read_text(encoding="utf-8"),
        font_config=font_config,
        url_fetcher=fetcher,
    )
    return font_config, css, fetcher


def write_options() -> dict:
    """The options of every render: the benchmark's « WeasyPrint alone » baseline uses these very ones."""
    font_config, css, _ = renderer_state()
    return {
        "stylesheets": [css],
        "font_config": font_config,
        "pdf_variant": PDF_VARIANT,
        "pdf_tags": True,
        "xmp_metadata": [io.BytesIO(PDFUA_IDENTIFICATION)],  # read as a file, once per render: a new one each time
        "uncompressed_pdf": False,
    }


def html_document(html: str) -> HTML:
    _, _, fetcher = renderer_state()
    return HTML(string=html, base_url=FONTS_DIR.as_uri() + "/", url_fetcher=fetcher)


def html_to_pdf(html: str) -> bytes:
    """Render one HTML document (title, author and lang come from its <title>, <meta name=author>, <html lang>)."""
    return html_document(html).write_pdf(**write_options())


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _renderer_start() -> None:
    """A renderer's first moments: deaf to the stop signals, gone with its parent, fonts loaded.

    Ctrl+C in a terminal and systemd's stop send the signal to the whole process group: the renderers ignore it and
    the worker, their parent, decides (it finishes the documents in hand, see services_documents.batch_run). They
    were started with these signals blocked (RendererPool.submit): none slips in before they are ignored here.
    A renderer whose parent was killed (SIGKILL, out of memory) leaves at once rather than wait forever for work.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_leave_with, args=(parent,), name="renderer-parent-watch", daemon=True).start()
    renderer_state()


def _leave_with(parent) -> None:
    parent.join()
    os._exit(0)


class RendererPool(ProcessPoolExecutor):
    def submit(self, fn, /, *args, **kwargs):
        # This call may start a renderer, which inherits the calling thread's signal mask: blocked here, the stop
        # signals stay pending in the renderer until it ignores them, and reach this process as soon as it returns.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def warm_up_and_wait(_index) -> None:
    """A pool task that returns once its worker is warm (the benchmark times the processes' start on its own)."""
    renderer_state()
    time.sleep(0.2)


def worker_count(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes for a batch: spawned (they inherit no database connection), fonts loaded once each."""
    return RendererPool(max_workers=worker_count(jobs), mp_context=get_context("spawn"), initializer=_renderer_start)
