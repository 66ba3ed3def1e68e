"""Lesson authoring: Markdown guides to lessons, and lessons to notebooks.

- :mod:`.model`: the typed lesson (:class:`Lesson`, :class:`Step`, ...);
- :mod:`.declarations`: the arguments actions and checks take (:class:`KindTable`);
- :mod:`.markdown` (markdown-it plugins for directives and shortcodes), :mod:`.hugo`
  (Docker-docs constructs), :mod:`.blocks` (one block's lines, guided by its tokens) and
  :mod:`.links` (links between lessons and to the docs site) feed :mod:`.parse`, which
  makes a :class:`Lesson`, its step directives read by :mod:`.steps`;
- :mod:`.includes` reads a page and the files it includes within the site and within
  bounds, and :mod:`.yamltext` reads its YAML without anchors or aliases, so a hostile
  page is refused rather than read outside the site, left to hang or to fill the memory;
- :mod:`.notebook` writes one lesson's notebook; :mod:`.build` builds a set of them and
  reports what each page's constructs became;
- :mod:`.sources` finds lessons (per-learner values are filled in by
  :mod:`dockdojo.runner.context`).

Nothing here imports the engine: a lesson is parsed and built without Docker. The
package exports what reading a lesson needs; :mod:`.notebook` and :mod:`.build` are
imported by the commands that write notebooks (they write the notebook's JSON without
nbformat, whose import alone takes longer than building a site).
"""

from .declarations import CHECK_FIELDS, KindTable, Param, Schema, problems
from .model import (
    SCHEMA,
    Action,
    Block,
    BuildWarning,
    CheckSpec,
    Lesson,
    Prose,
    Section,
    Step,
    Translation,
)
from .parse import load_lesson, parse_lesson
from .sources import content_dirs, find_lesson, lesson_id, lesson_sources

__all__ = [
    "CHECK_FIELDS",
    "SCHEMA",
    "Action",
    "Block",
    "BuildWarning",
    "CheckSpec",
    "KindTable",
    "Lesson",
    "Param",
    "Prose",
    "Schema",
    "Section",
    "Step",
    "Translation",
    "content_dirs",
    "find_lesson",
    "lesson_id",
    "lesson_sources",
    "load_lesson",
    "parse_lesson",
    "problems",
]
