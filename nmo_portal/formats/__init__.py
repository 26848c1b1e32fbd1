"""The portal's date formats, one per language (settings.FORMAT_MODULE_PATH): a date reads the same on every page,
and never as 12/11/2026, which an English reader takes for December and a Russian one for November. The short
names equal the long ones so that a template using either shows the same; templates name a format, never spell
one out (tests/nmo_portal/test_formats.py)."""
