"""Small fixes to the book's HTML pages: a local Sphinx extension (see ``_config.yml``).

Under Jupyter Book 1 (Sphinx 7.4), an inline script that an extension adds with
``app.add_js_file(None, body=...)`` after the builder has started (sphinx-thebe 0.3.1 and
sphinx-togglebutton do) reaches every page twice: once with the file name ``None``, once,
through Sphinx's registry, with ``""``, so Sphinx does not see them as equal. The browser
then runs sphinx-thebe's ``const THEBE_JS_URL = ...`` twice and logs "Identifier
'THEBE_JS_URL' has already been declared" on every page (tests/test_site.py fails on
console errors). Here each page keeps only the first copy of each script.
"""

from __future__ import annotations


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove repeated entries from the page's ``script_files``, keeping their order."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
