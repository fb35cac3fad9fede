"""The book's bibliography (sphinxcontrib-bibtex 2.7): author-year labels, citations that
match them, and back-links from each entry to the places that cite it.

Loaded by ``site_fixes`` (``app.setup_extension("bibliography")``); ``_config.yml`` names
the two styles defined here; ``tests/test_site.py`` checks the built pages.

* **Labels** like the text's citations, "Araujo et al., 2019" (not "[ANS19]"): the
  formatting style ``authoryear`` (:class:`AuthorYearStyle`, ``bibtex_default_style``).
  Two entries with the same authors and year get "2012a", "2012b", in the order of the list.
* **Citations with the label's letter.** sphinxcontrib-bibtex's ``author_year`` referencing
  style writes the year field alone, so both of those entries were cited as "[2012]". The
  referencing style ``author_year_labelled`` (:class:`AuthorYearLabelledReferenceStyle`,
  ``bibtex_reference_style``) writes the year as the label has it, in ``{cite:t}``
  ("Krizhevsky et al. [2012a]"), ``{cite:p}`` and ``{cite}`` ("[Krizhevsky et al., 2012a]").
* **Back-links.** sphinxcontrib-bibtex links an entry back to its citations only when they
  are on the same page as the bibliography. :class:`CitedIn` gives each entry of the
  references page a line "Cited in: 3. AlexNet (first of 5); 8. The deconvnet": one link
  per citing page, to the first citation there (each citation is a ``<span>`` with an id),
  and how many places on that page cite it. One link per page, not one per citation: a
  page cites one entry up to 8 times (170 entry-page pairs, 327 citations), and 8 links
  with the same text would be neither compact on a phone nor told apart by a screen
  reader. Each link's
  text names the entry in a visually hidden part ("Krizhevsky et al., 2012a, cited in
  3. AlexNet"), so that it makes sense in a screen reader's list of links.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, fields

from docutils import nodes
from pybtex.plugin import register_plugin as register_pybtex_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import join, node
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode
from sphinxcontrib.bibtex.domain import get_docnames
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join2, post_text, pre_text, reference, year

# ---------------------------------------------------------------------------
# Labels in author-year form (the entries of the references page).


def _names(entry) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [" ".join(t.render_as("text") for t in p.rich_last_names) for p in persons]
    if not last:
        return entry.fields.get("organization") or entry.key
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels like the text's citations: "Araujo et al., 2019" (2019a, 2019b when two match)."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [f"{_names(e)}, {e.fields.get('year', 'n.d.')}" for e in entries]
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        seen: dict[str, int] = {}
        for label in labels:
            if counts[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entries, sorted by author and year, labelled as cited in the text."""

    default_label_style = AuthorYearLabelStyle
    default_sorting_style = AuthorYearTitleSorting


# ---------------------------------------------------------------------------
# Citations in the text: the year as the label writes it.


@node
def labelled_year(children, data) -> Text:
    """The entry's year followed by the letter its label adds to it ("2012a"), if any."""
    assert not children
    plain = year.format_data(data)
    label = data["formatted_entry"].label
    letter = re.search(re.escape(str(plain)) + r"([a-z]?)$", label)
    return Text(plain, letter.group(1)) if letter else plain


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    """``{cite:p}`` and ``{cite}``: "[Krizhevsky et al., 2012a]"."""

    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[
                join(sep=self.author_year_sep)[
                    self.person.author_or_editor_or_title(full="s" in role_name),
                    labelled_year,
                ]
            ],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    """``{cite:t}``: "Krizhevsky et al. [2012a]"."""

    def inner(self, role_name: str):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                    pre_text, reference[labelled_year], post_text
                ],
                self.bracket.right,
            ],
        ]


@dataclass
class _Year(ExtraYearReferenceStyle):
    """``{cite:year}``: "2012a"."""

    def inner(self, role_name: str):
        return reference[labelled_year]


@dataclass
class AuthorYearLabelledReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's ``author_year`` style, with the year as the label writes it.

    Its parenthetical, textual and year styles are replaced by the ones above, with the
    same settings; the others (``{cite:author}``, ``{cite:label}``) are kept.
    """

    def __post_init__(self):
        super().__post_init__()
        labelled = {
            BasicAuthorYearParentheticalReferenceStyle: _Parenthetical,
            BasicAuthorYearTextualReferenceStyle: _Textual,
            ExtraYearReferenceStyle: _Year,
        }
        self.styles = [
            labelled[type(style)](**_settings(style)) if type(style) in labelled else style
            for style in self.styles
        ]
        self.role_style = {name: style for style in self.styles for name in style.role_names()}


def _settings(style) -> dict:
    return {f.name: getattr(style, f.name) for f in fields(style) if f.init}


# ---------------------------------------------------------------------------
# Back-links: where each entry is cited.


def cited_places(env) -> dict[str, dict[str, list[str]]]:
    """Citation key -> {citing page: ids of its citations there, in page order}, pages in
    book order."""
    domain = env.get_domain("cite")
    order = {docname: i for i, docname in enumerate(get_docnames(env))}
    places: dict[str, dict[str, list[str]]] = defaultdict(dict)
    refs = sorted(domain.citation_refs, key=lambda ref: order.get(ref.docname, len(order)))
    for ref in refs:  # a stable sort: each page's citations keep their order
        for target in ref.targets:
            places[target.key].setdefault(ref.docname, []).append(ref.citation_ref_id)
    return places


def page_name(env, docname: str) -> str:
    """The page as the sidebar names it: "3. AlexNet" (a chapter), "References"."""
    title = env.titles[docname].astext()
    number = env.toc_secnumbers.get(docname, {}).get("")
    return f"{'.'.join(map(str, number))}. {title}" if number else title


class CitedIn(SphinxPostTransform):
    """Add "Cited in: <page> (first of n); ..." to each entry of a bibliography."""

    default_priority = 6  # after sphinxcontrib-bibtex's BibliographyTransform (5)
    formats = ("html",)

    def run(self, **kwargs) -> None:
        domain = self.env.get_domain("cite")
        citations = {(c.bibliography_key.docname, c.citation_id): c for c in domain.citations}
        places = cited_places(self.env)
        for entry in self.document.findall(nodes.citation):
            citation = citations.get((entry.get("docname"), entry["ids"][0]))
            pages = places.get(citation.key) if citation else None
            if pages:
                entry += self.cited_in(entry["docname"], citation, pages)

    def cited_in(self, fromdocname: str, citation, pages: dict[str, list[str]]):
        line = nodes.paragraph("", "Cited in: ", classes=["cited-in"])
        label = citation.formatted_entry.label
        for i, (docname, ids) in enumerate(pages.items()):
            if i:
                line += nodes.Text("; ")
            text = [
                nodes.inline("", f"{label}, cited in ", classes=["visually-hidden"]),
                nodes.Text(page_name(self.env, docname)),
            ]
            line += make_refnode(self.app.builder, fromdocname, docname, ids[0], text)
            if len(ids) > 1:
                line += nodes.Text(f" (first of {len(ids)})")
        return line


def rewrite_bibliography_pages(app, env) -> list[str]:
    """Write the pages holding a bibliography, and the pages citing an entry, again in
    every build: the back-links depend on every other page, and a citation's text ("ILSVRC
    organizers, 2010c") on the ``.bib`` file and on every other entry (the letters), which
    an incremental build does not see change on the citing page."""
    domain = env.get_domain("cite")
    pages = {key.docname for key in domain.bibliographies}
    pages |= {ref.docname for ref in domain.citation_refs}
    return sorted(pages)


register_pybtex_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
register_plugin(
    "sphinxcontrib.bibtex.style.referencing",
    "author_year_labelled",
    AuthorYearLabelledReferenceStyle,
)


def setup(app):
    app.add_post_transform(CitedIn)
    app.connect("env-updated", rewrite_bibliography_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
