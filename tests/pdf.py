"""Reading the portal's PDFs back in tests.

Cyrillic in an embedded TrueType font is stored as glyph ids, so only a text extractor reads it back: Debian's
pdftotext (poppler-utils, which .ci/run installs). Without it a test that reads text fails in CI and is skipped,
with that reason, elsewhere.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import in_ci

_PAGE = re.compile(rb"/Type /Page\b(?!s)")


def page_count(pdf: bytes) -> int:
    return len(_PAGE.findall(pdf))


def pdf_text(pdf: bytes, tmp_path: Path, *, collapse_spaces: bool = False) -> str:
    """The text of every page, pages separated by form feeds, laid out as on the page."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        reason = "pdftotext (poppler-utils) is not installed: the Cyrillic text of the PDF cannot be read back"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    text = subprocess.run([pdftotext, "-layout", str(source), "-"], capture_output=True, check=True, text=True).stdout
    return re.sub(r"[ \t]+", " ", text) if collapse_spaces else text
