"""PDF rendering: a real PDF from a template, nothing fetched but our static files, no
document past its page limit."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from django.utils import translation
from pypdf import PdfReader

from core import pdf


@pytest.fixture
def template_dir(tmp_path, settings):
    """A folder of templates the test writes, ahead of the project's own."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]

    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return name

    return write


@pytest.fixture
def web_server():
    """A web server on this machine that records every path asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def unprotected(html: str) -> bytes:
    """The same HTML rendered with WeasyPrint's own fetcher (reads files, the network)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=pdf.BASE_URL).write_pdf()


def test_a_template_renders_a_real_pdf_in_the_active_language(template_dir):
    name = template_dir(
        "simple.html",
        "<style>@page { @bottom-center { content: {{ counter|safe }}; } }</style>"
        "<h1>{{ title }}</h1>",
    )

    with translation.override("es"):
        data = pdf.render_pdf(name, {"title": "Board report", "counter": pdf.page_counter_css()})

    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Board report" in text and "Página 1 de 1" in text


def test_the_fetcher_serves_only_our_static_files():
    fetcher = pdf.static_only_fetcher()
    base = pdf.BASE_URL.rstrip("/")

    assert fetcher.fetch(f"{base}/static/img/trellis.svg").read().startswith(b"<svg")
    for url in (
        "http://example.org/static/img/trellis.svg",
        "https://example.org/static/img/trellis.svg",
        "file:///etc/passwd",
        f"file://{pdf.__file__}",
        "data:text/css,body{color:red}",
        f"{base}/static/../../config/settings.py",
        f"{base}/static/%2e%2e/config/settings.py",
        f"{base}/static/img/",
        f"{base}/media/anything",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_template_that_loads_from_the_network_renders_without_fetching(
    template_dir, web_server, monkeypatch
):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    address, asked = web_server
    html = (
        f'<link rel="stylesheet" href="{address}/style.css">'
        f'<p>Before <img src="{address}/pixel.png"> after</p>'
        f'<p style="background: url(https://127.0.0.1:{address.rsplit(":", 1)[1]}/bg.png)">x</p>'
    )
    name = template_dir("network.html", html)

    data = pdf.render_pdf(name, {})

    assert data.startswith(b"%PDF-") and "Before" in pdf_text(data)
    assert asked == []
    unprotected(html)  # the same markup, unprotected, does ask: the check above can fail
    assert "/pixel.png" in asked


def test_a_template_that_loads_a_file_outside_static_renders_without_it(template_dir, tmp_path):
    from PIL import Image

    secret = tmp_path / "outside" / "secret.png"
    secret.parent.mkdir()
    Image.new("RGB", (8, 8), "red").save(secret)
    html = f'<p>Before <img src="file://{secret}"> after</p>'
    name = template_dir("file.html", html)

    data = pdf.render_pdf(name, {})

    assert "Before" in pdf_text(data)
    assert images(data) == 0
    assert images(unprotected(html)) == 1  # unprotected, the file is read and embedded


def test_a_document_past_its_page_limit_is_refused(template_dir):
    name = template_dir(
        "long.html",
        '{% for page in pages %}<p style="break-after: page">{{ page }}</p>{% endfor %}<p>end</p>',
    )
    context = {"pages": range(4)}  # five pages

    assert len(PdfReader(io.BytesIO(pdf.render_pdf(name, context, max_pages=5))).pages) == 5
    with pytest.raises(pdf.DocumentTooLong):
        pdf.render_pdf(name, context, max_pages=4)
    with pytest.raises(pdf.DocumentTooLong):
        pdf.render_pdf(name, {"pages": range(pdf.MAX_PAGES)})  # the default limit
