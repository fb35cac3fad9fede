"""Write the Colab setup cell of every notebook from the repository URL in _config.yml.

    python scripts/sync_repository_url.py          # rewrite the notebooks' setup cells
    python scripts/sync_repository_url.py --check  # exit 1 if any is out of date

_config.yml's ``repository.url`` and ``repository.branch`` are the one place the
repository is named; the first code cell of every notebook installs
``course_utils`` from there, on Colab only, without touching Colab's torch.
"""

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAG = "colab-setup"


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"], config["repository"].get("branch", "main")


def setup_cell_source() -> str:
    """The source of the Colab setup cell that starts every chapter."""
    url, branch = repository()
    return (
        "# On Google Colab only: install the course helpers, course_utils, from the\n"
        "# repository. Colab's own torch is left as it is. Elsewhere, see the README.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "git+{url}@{branch}"],\n'
        "        check=True,\n"
        "    )"
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
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", "utf-8")
    verb = "out of date" if args.check else "rewritten"
    print(f"{len(stale)} notebook(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
