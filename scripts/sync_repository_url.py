"""Write the repository URL of _config.yml into the notebooks' setup cells and the docs.

    python scripts/sync_repository_url.py          # rewrite what is out of date
    python scripts/sync_repository_url.py --check  # exit 1 if anything is out of date

_config.yml's ``repository.url`` and ``repository.branch`` are the one place the
repository is named; the first code cell of every notebook installs
``course_utils`` from there, on Colab only, without touching Colab's torch.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from course_utils._files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAG = "colab-setup"
#: Pages that name the repository (clone commands, Colab links, the published site).
DOCS = ("README.md", "book/index.md", "book/how_to_use.md", "book/assignments.md")
#: "owner/name" of a GitHub repository, as written in a clone URL or a Colab link
#: (the placeholder OWNER/REPOSITORY of the instructions is left as it is).
REPOSITORY_IN_TEXT = re.compile(
    r"(github\.com/|colab\.research\.google\.com/github/)(?!OWNER/)([\w-]+/[\w-]+)"
)

#: The address GitHub Pages publishes the book at (.github/workflows/deploy.yml).
PAGES_IN_TEXT = re.compile(r"https://[\w-]+\.github\.io/[\w-]+/")


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"], config["repository"].get("branch", "main")


def owner_and_name() -> str:
    """``"owner/name"`` of the repository, from its URL in _config.yml."""
    return repository()[0].rstrip("/").removesuffix(".git").split("github.com/")[1]


def pages_url() -> str:
    """Where GitHub Pages publishes the book: ``https://owner.github.io/name/``."""
    owner, name = owner_and_name().split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def sync_docs(check: bool) -> list[str]:
    """Rewrite the repository named in DOCS; return the names of the files out of date."""
    stale = []
    for name in DOCS:
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        synced = REPOSITORY_IN_TEXT.sub(lambda m: m.group(1) + owner_and_name(), text)
        synced = PAGES_IN_TEXT.sub(pages_url(), synced)
        if synced != text:
            stale.append(name)
            if not check:
                with atomic_write(path) as f:
                    f.write(synced)
    return stale


def setup_cell_source() -> str:
    """The source of the Colab setup cell that starts every chapter.

    On Colab it installs ``course_utils`` as the repository holds it now, every time it
    runs: a first ``pip install`` brings what Colab lacks (its torch already satisfies the
    package's ranges, so it stays), a second reinstalls the course's own code without its
    dependencies (pip would otherwise keep an older copy of the same version). If the
    package was already imported, the student is told to restart the session.
    """
    url, branch = repository()
    return (
        "# On Google Colab only: install the course helpers, course_utils, as the\n"
        "# repository holds them now. Colab's own torch is left as it is.\n"
        "# Elsewhere, see the README.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    REPOSITORY = "git+{url}@{branch}"\n'
        '    pip = [sys.executable, "-m", "pip", "install", "-q"]\n'
        "    subprocess.run([*pip, REPOSITORY], check=True)  # what Colab lacks\n"
        '    subprocess.run([*pip, "--force-reinstall", "--no-deps", REPOSITORY], check=True)\n'
        '    if "course_utils" in sys.modules:  # imported before: the old code is loaded\n'
        '        print("course_utils was updated: choose Runtime > Restart session, "\n'
        '              "then run the notebook again.")'
    )


def setup_cell() -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": SETUP_TAG,
        "metadata": {"tags": ["hide-input", SETUP_TAG]},
        "outputs": [],
        "source": setup_cell_source(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date notebooks")
    args = parser.parse_args()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        index = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
        current = "".join(cells[index]["source"]) if index < len(cells) else ""
        if current == setup_cell_source():
            continue
        stale.append(path.name)
        if not args.check:
            tagged = index < len(cells) and SETUP_TAG in cells[index]["metadata"].get("tags", [])
            cells[index : index + tagged] = [setup_cell()]
            with atomic_write(path) as f:
                f.write(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    stale += sync_docs(args.check)
    verb = "out of date" if args.check else "rewritten"
    print(f"{len(stale)} file(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
