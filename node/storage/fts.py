"""Full-text search over Chinese catalogue text: overlapping character bigrams in FTS5.

Why bigrams (measured: docs/performance.md, "How search works"): FTS5's ``trigram`` tokenizer
never matches a 2-character term and word segmentation (jieba) misses terms segmented
differently in title and query. Indexing every overlapping pair of characters (Lucene's CJK
analyzer) finds every substring of two or more characters: a longer term is the phrase of its
bigrams.

We tokenise in Python and hand FTS5 (``unicode61``) text that is already tokens separated by
spaces. Text is NFKC-normalised (full-width ``２０１５`` is ``2015``) and lower-cased, then
split into runs: ASCII letters/digits form words; other letters/digits (CJK ...) form runs
indexed as their overlapping bigrams followed by their last character; anything else
separates runs. That trailing unigram does two jobs: a phrase of bigrams cannot span two runs
("AB（BC" must not match "ABC"), and a single character is found as a token prefix
(``"王"*``: a bigram starting with it, or the unigram of a run ending with it).

A query word matches as a substring of the title (an open record's: a redacted title is not
indexed), the category's name (through its facet token: clerks type "婚姻登记" and expect
records titled "结婚登记"), the creator or one subject name (an ASCII word: as a whole word,
case-insensitive). The MATCH string is built only from tokens we
produced, each double-quoted, so user input can never inject FTS5 syntax. A word mixing
scripts or with inner punctuation is narrowed by its runs and checked exactly with ``LIKE``.

Filters are tokens in a fourth column, ``facets``: the holder's code and its ancestors'
(``s3301``), the category (``chy``), year and decade (``y1985``, ``d198``), both together
(``chyy1985``, ``chyd198``), retention (``ry``, ``rd30``) and access level (``aopen``). User
text reaches only the three text columns, so it can never match a facet token.
``ParsedText.scorer`` ranks few matches by where each word occurs, looking at the entry's
own text in the same normalised form.

The index is contentless, so deleting an entry re-tokenises its old text: if the tokenizer
(or Python's Unicode tables) change, ``TOKENIZER_VERSION`` changes and the index is rebuilt.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from node.errors import InvalidQuery
from node.identity import CODE_LENGTHS
from node.records import CATEGORIES, MAX_QUERY_CHARS, Access, Retention

TOKENIZER_VERSION = f"bigram-7 unicode-{unicodedata.unidata_version}"
FTS_TABLE = "catalogue_fts"
TEXT_COLUMNS = ("title", "creator", "subjects")
# ``facets`` holds filter tokens (scope codes, category, years, retention, access) so that
# filters are intersected inside the index instead of looking up every matching row in the
# catalogue table.
FTS_COLUMNS = (*TEXT_COLUMNS, "facets")
# Relevance: what a word matching in each place adds to an entry's score (search.py).
COLUMN_WEIGHTS = {"title": 3, "subjects": 2, "creator": 1}
CATEGORY_WEIGHT = 1  # the word is part of the category's name
MAX_WORDS = 20  # words in one query: each is an FTS term (or a prefix merge) to evaluate

_FTS_OPTIONS = "content='', tokenize='unicode61 remove_diacritics 0'"
# As step 0001 created it; step 0005 replaces it with CREATE_FTS_COMPACT.
CREATE_FTS = f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({', '.join(FTS_COLUMNS)}, {_FTS_OPTIONS})"  # noqa: E501
# Without per-column sizes: ranking no longer uses bm25 (search.py says why), and at 10M
# entries the sizes cost about 150 MB.
CREATE_FTS_COMPACT = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    f"{', '.join(FTS_COLUMNS)}, {_FTS_OPTIONS}, columnsize=0)"
)
_MARKS = ", ".join("?" for _ in FTS_COLUMNS)
_INSERT = f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, {_MARKS})"
_DELETE = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(FTS_COLUMNS)}) "
    f"VALUES ('delete', ?, {_MARKS})"
)
FtsRow = tuple[int, str, str, str, str]  # rowid and the FTS_COLUMNS values

# -- tokenising ---------------------------------------------------------------------------


# After NFKC and lower(): an ASCII word, or a run of other letters/digits (``\w`` is
# ``str.isalnum()`` plus ``_``).
_RUN = re.compile(r"([a-z0-9]+)|([^\W_\x00-\x7f]+)")


def runs(text: str) -> list[tuple[bool, str]]:
    """Split normalised ``text`` into ``(is_ascii, run)`` pairs of letters/digits."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    return [(bool(word), word or other) for word, other in _RUN.findall(normalised)]


def run_tokens(is_ascii: bool, run: str) -> list[str]:
    """The tokens of one run as indexed: the ASCII word; else bigrams, then the last character.

    The trailing unigram makes every character findable as a token prefix (a character
    inside a run starts a bigram; the last one is the unigram), and it sits between runs
    so that no phrase of bigrams can span two runs.
    """
    if is_ascii or len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(values: Iterable[str]) -> str:
    """The token text to index for a field with one or more values (e.g. subject names)."""
    tokens: list[str] = []  # run_tokens() inlined: this is the hot loop of a bulk ingest
    for value in values:
        for word, other in _RUN.findall(unicodedata.normalize("NFKC", value).lower()):
            if word or len(other) == 1:
                tokens.append(word or other)
            else:
                tokens.extend([other[i : i + 2] for i in range(len(other) - 1)])
                tokens.append(other[-1])
    return " ".join(tokens)


def scope_token(code: str) -> str:
    """The facet token of a division code: an entry held under ``code`` carries it."""
    return f"s{code}"


def category_token(category: str) -> str:
    """The facet token of a category (门类)."""
    return f"c{CATEGORIES.get(category, 'other').lower()}"


def retention_token(retention: str) -> str:
    """The facet token of a retention period (``永久`` -> ``ry``, ``30年`` -> ``rd30``)."""
    return f"r{Retention(retention).code.lower()}"


def access_token(access: str) -> str:
    """The facet token of an access level (``open`` -> ``aopen``)."""
    return f"a{Access(access).value}"


def year_terms(year_from: int, year_to: int) -> list[str]:
    """Facet tokens that together cover the years ``year_from..year_to``, fewest first.

    Whole decades use the decade token, the years at either end their own: 1980-2000 is
    ``d198 d199 y2000``.
    """
    terms: list[str] = []
    year = year_from
    while year <= year_to:
        if year % 10 == 0 and year + 9 <= year_to:
            terms.append(f"d{year // 10}")
            year += 10
        else:
            terms.append(f"y{year}")
            year += 1
    return terms


def facet_text(holder: str, category: str, year: int, retention: str, access: str) -> str:
    """Facet tokens: the holder's code and each ancestor's, the category, year and decade,
    the retention period and the access level; and the category with the year and with the
    decade (``chyy1985``, ``chyd198``), because clerks filter on both together and the pair
    is ten times rarer than either: an intersection reads the index pages of its terms."""
    scopes = [scope_token(holder[:n]) for n in CODE_LENGTHS if n <= len(holder)]
    category_t, year_t, decade_t = category_token(category), f"y{year}", f"d{year // 10}"
    return " ".join(
        [
            *scopes,
            category_t,
            year_t,
            decade_t,
            category_t + year_t,
            category_t + decade_t,
            retention_token(retention),
            access_token(access),
        ]
    )


def fts_values(
    title: str,
    creator: str,
    subjects: Sequence[str],
    holder: str,
    category: str,
    year: int,
    access: str,
    retention: str,
) -> tuple[str, str, str, str]:
    """The FTS column values of one catalogue entry.

    The redacted title of a record that is not open says only its category and year, which
    the facets already carry: indexing it would rank such records above the open ones that
    a clerk can actually release, for any search by the category's name.
    """
    return (
        index_text([title]) if access == "open" else "",
        index_text([creator]),
        index_text(subjects),
        facet_text(holder, category, year, retention, access),
    )


def insert_rows(conn: sqlite3.Connection, rows: Iterable[FtsRow]) -> None:
    """Index entries: ``(rowid, *fts_values(...))``."""
    conn.executemany(_INSERT, rows)


def delete_rows(conn: sqlite3.Connection, rows: Iterable[FtsRow]) -> None:
    """Remove entries from the contentless index; the values must be the indexed ones."""
    conn.executemany(_DELETE, rows)


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedText:
    """Search text turned into an FTS5 MATCH expression and words checked with LIKE."""

    phrases: tuple[str, ...] = ()  # each a double-quoted FTS5 phrase, ANDed together
    like_words: tuple[str, ...] = ()  # each must be a substring of title, creator or a subject
    # per phrase: the facet tokens of the categories whose names contain that word
    categories: tuple[tuple[str, ...], ...] = ()
    # per phrase: a regular expression finding it in normalised text (as the index would)
    probes: tuple[str, ...] = ()

    def scorer(self) -> Callable[[str, str, str, str, str], int]:
        """``score(title, creator, subjects, category, access)``: an entry's relevance;
        ``subjects`` is the stored JSON array (no phrase can span the quotes between names).

        Per phrase: 3 if it is in the title (of an open record: others are not indexed), 2
        in a subject's name, 1 in the creator, 1 in the category's name. It matches as the
        index does (on NFKC, lower-cased text), but looks at the one entry only, never at
        catalogue statistics, so an entry's score never changes while others arrive.
        """
        checks = [
            (re.compile(probe).search, frozenset(tokens))
            for probe, tokens in zip(self.probes, self.categories, strict=True)
        ]
        title_w, subjects_w, creator_w = (
            COLUMN_WEIGHTS[c] for c in ("title", "subjects", "creator")
        )

        def score(title: str, creator: str, subjects: str, category: str, access: str) -> int:
            title_n = _normalised(title) if access == "open" else ""
            creator_n = _normalised(creator)
            subjects_n = _normalised(subjects)
            token = category_token(category)
            total = 0
            for found, tokens in checks:
                total += title_w if found(title_n) else 0
                total += subjects_w if found(subjects_n) else 0
                total += creator_w if found(creator_n) else 0
                total += CATEGORY_WEIGHT if token in tokens else 0
            return total

        return score

    @property
    def title_match(self) -> str:
        """Every phrase in the title: the first tier of a large result."""
        return "{title} : (" + " AND ".join(self.phrases) + ")" if self.phrases else ""

    @property
    def match(self) -> str:
        """The MATCH expression: the phrases over the text columns, or a category's token."""
        columns = "{" + " ".join(TEXT_COLUMNS) + "}"
        plain: list[str] = []
        terms: list[str] = []
        for phrase, tokens in zip(self.phrases, self.categories, strict=True):
            if not tokens:
                plain.append(phrase)
                continue
            either = " OR ".join(f"facets : {_phrase([token])}" for token in tokens)
            terms.append(f"({columns} : {phrase} OR {either})")
        if plain:
            terms.insert(0, f"{columns} : ({' AND '.join(plain)})")
        return " AND ".join(terms)


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _probe(is_ascii: bool, run: str, prefix: bool = False) -> str:
    """A regex finding a run where the index finds its phrase: any run of other letters
    contains it as a substring; an ASCII run is a whole word (or, ``prefix``, a word start)."""
    if not is_ascii:
        return re.escape(run)
    return f"(?<![a-z0-9]){re.escape(run)}" + ("" if prefix else "(?![a-z0-9])")


def _phrase(tokens: Sequence[str]) -> str:
    # Tokens contain only letters and digits (never a double quote): quoting is enough.
    return '"' + " ".join(tokens) + '"'


def _strip_separators(word: str) -> str:
    def is_token_char(ch: str) -> bool:
        return any(c.isalnum() for c in unicodedata.normalize("NFKC", ch))

    start, end = 0, len(word)
    while start < end and not is_token_char(word[start]):
        start += 1
    while end > start and not is_token_char(word[end - 1]):
        end -= 1
    return word[start:end]


def _run_phrase(is_ascii: bool, run: str) -> str:
    if is_ascii:
        return _phrase([run])
    if len(run) == 1:
        return _phrase([run]) + "*"  # a bigram starting with it, or the run-final unigram
    return _phrase(_bigrams(run))


def parse_text(text: str) -> ParsedText:
    """Turn user search text into FTS5 phrases and LIKE words.

    Raises ``InvalidQuery`` if the text is too long or has words but no letter or digit.
    """
    if not isinstance(text, str):
        raise InvalidQuery("查询词必须是文本")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"查询词过长（最多 {MAX_QUERY_CHARS} 字，实际 {len(text)} 字）")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery("查询词含有无效字符（不成对的代理码位）") from None
    words = text.split()
    if len(words) > MAX_WORDS:
        raise InvalidQuery(f"检索词过多（最多 {MAX_WORDS} 个，实际 {len(words)} 个）")
    # phrase -> (facet tokens of the categories whose names contain it, its probe regex)
    phrases: dict[str, tuple[tuple[str, ...], str]] = {}
    likes: list[str] = []
    for word in words:
        word_runs = runs(word)
        if not word_runs:
            continue  # only punctuation or symbols: nothing to search for
        if len(word_runs) == 1:
            is_ascii, run = word_runs[0]
            categories = () if is_ascii else _categories_naming(run)
            phrases[_run_phrase(is_ascii, run)] = (categories, _probe(is_ascii, run))
            continue
        # Several runs (mixed scripts or inner punctuation): narrow with each run on its own,
        # then check the whole word with LIKE. An ASCII run at the start of the word may be
        # the end of a longer word in the text, so it does not narrow; one at the end is the
        # start of a word in the text (a prefix). So every word narrows through the index.
        last = len(word_runs) - 1
        for i, (is_ascii, run) in enumerate(word_runs):
            if not is_ascii or 0 < i < last:
                phrases.setdefault(_run_phrase(is_ascii, run), ((), _probe(is_ascii, run)))
            elif i == last:
                prefix = _probe(is_ascii, run, prefix=True)
                phrases.setdefault(_phrase([run]) + "*", ((), prefix))
        likes.append(_strip_separators(word))
    if words and not phrases and not likes:
        raise InvalidQuery("查询词须包含汉字、字母或数字")
    return ParsedText(
        phrases=tuple(phrases),
        like_words=tuple(dict.fromkeys(likes)),
        categories=tuple(categories for categories, _ in phrases.values()),
        probes=tuple(probe for _, probe in phrases.values()),
    )


_CATEGORY_NAMES = {
    category_token(name): unicodedata.normalize("NFKC", name).lower() for name in CATEGORIES
}


def _categories_naming(run: str) -> tuple[str, ...]:
    """Facet tokens of the categories whose names contain ``run`` (already normalised)."""
    return tuple(token for token, name in _CATEGORY_NAMES.items() if run in name)


def like_pattern(word: str) -> str:
    """``%word%`` with ``\\``, ``%`` and ``_`` escaped (use with ``ESCAPE '\\'``)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def like_clause(word: str, alias: str = "c") -> tuple[str, list[str]]:
    """SQL (and parameters) true when ``word`` is in the title, creator or one subject.

    Subjects are stored as a JSON array; matching the JSON-escaped word against it cannot
    span two names, because the quotes between names are never escaped.
    """
    in_json = json.dumps(word, ensure_ascii=False)[1:-1]
    sql = (
        f"({alias}.title LIKE ? ESCAPE '\\' OR {alias}.creator LIKE ? ESCAPE '\\' "
        f"OR {alias}.subjects LIKE ? ESCAPE '\\')"
    )
    return sql, [like_pattern(word), like_pattern(word), like_pattern(in_json)]


# -- index maintenance ----------------------------------------------------------------------


def ensure_current(conn: sqlite3.Connection) -> bool:
    """Rebuild the index if it was built by another tokenizer version; True if rebuilt.

    Runs inside the caller's write transaction.
    """
    row = conn.execute("SELECT value FROM _meta WHERE key = 'fts_tokenizer'").fetchone()
    if row is not None and row[0] == TOKENIZER_VERSION:
        return False
    conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
    rows = conn.execute(
        "SELECT id, title, creator, subjects, holder, category, year, access, retention "
        "FROM catalogue WHERE deleted = 0"
    )
    insert_rows(
        conn,
        (
            (rowid, *fts_values(title, creator, json.loads(subjects), *facts))
            for rowid, title, creator, subjects, *facts in rows
        ),
    )
    optimize(conn)
    conn.execute(
        "INSERT INTO _meta(key, value) VALUES ('fts_tokenizer', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (TOKENIZER_VERSION,),
    )
    return True


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the index into one segment: faster searches after a rebuild or a bulk load.

    About 4 s for 1M entries; incremental writes are merged by FTS5's automerge anyway.
    """
    conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
