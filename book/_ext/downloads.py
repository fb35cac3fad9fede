"""A chapter's notebook, to download twice: clean, to run; and with its outputs, as read.

sphinx-book-theme's download menu offers the notebook as stored in the repository (without
outputs: the chapters are stored clean and executed by the build). A reader who wants the
figures and printed results offline, or an instructor who hands out a worked copy, needs
the executed one: the build's own copy (``_build/jupyter_execute/``, no second execution)
is published at ``with-outputs/<page>.ipynb`` and the menu offers both, each saying what it is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Where the executed notebooks are published, inside the site.
FOLDER = "with-outputs"


def label_the_download_menu(app, pagename, templatename, context, doctree) -> None:
    """On a notebook page: the menu's ``.ipynb`` says "without outputs", and a second
    ``.ipynb`` entry links to the executed copy."""
    if not (context.get("sourcename") or "").endswith(".ipynb"):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        buttons = group["buttons"]
        for button in buttons:
            if button.get("label") == "download-source-button":
                button["text"] = ".ipynb, to run"
                button["tooltip"] = "Download the notebook without outputs, to run it"
        executed = {
            "type": "link",
            "url": context["pathto"](f"{FOLDER}/{pagename}.ipynb", 1),
            "text": ".ipynb, with outputs",
            "tooltip": "Download the notebook with its outputs, as on this page",
            "icon": "fas fa-file-lines",
            "label": "download-executed-notebook-button",
        }
        position = next(
            (i + 1 for i, b in enumerate(buttons) if b.get("label") == "download-source-button"),
            len(buttons),
        )
        buttons.insert(position, executed)


def publish_executed_notebooks(app, exception) -> None:
    """Copy ``_build/jupyter_execute/**/*.ipynb`` (with outputs) into the site's ``with-outputs/``."""
    if exception is not None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute"
    target = Path(app.outdir) / FOLDER
    for source in sorted(executed.rglob("*.ipynb")):
        destination = target / source.relative_to(executed)
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.tmp")
        shutil.copyfile(source, temporary)
        os.replace(temporary, destination)


def setup(app) -> dict:
    """After sphinx-book-theme has built the menu (priority 501); after the executed copies
    have their outputs (``site_fixes.complete_executed_copies``, priority 500)."""
    app.connect("html-page-context", label_the_download_menu, priority=600)
    app.connect("build-finished", publish_executed_notebooks, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
