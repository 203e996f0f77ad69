"""Bibliography labels that match the author-year citations in the text.

With ``bibtex_reference_style: author_year`` a chapter cites "[Lillicrap et al., 2015]", but
pybtex's ``plain`` style numbers the bibliography [1], [2], ... This Sphinx extension registers
the pybtex style ``authoryear``: ``plain``'s formatting and sorting, labelled "Lillicrap et al.,
2015", "Uhlenbeck and Ornstein, 1930" or "Mnih, 2015" (a, b, ... added when two labels clash).
``book/references.md`` selects it with ``:style: authoryear``.
"""

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] > 1:
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label

    def format_label(self, entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        if not people:
            names = entry.key
        elif len(people) == 1:
            names = _last_name(people[0])
        elif len(people) == 2:
            names = f"{_last_name(people[0])} and {_last_name(people[1])}"
        else:
            names = f"{_last_name(people[0])} et al."
        year = entry.fields.get("year")
        return f"{names}, {year}" if year else names


class AuthorYearStyle(PlainStyle):
    default_label_style = "authoryear"


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
