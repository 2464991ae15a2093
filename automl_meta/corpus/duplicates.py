"""Near-duplicate tables: the same data shipped twice, or a row or column subset of it.

Exact fingerprints miss the copies that matter: one package ships a table with a column
renamed, another drops half the columns, a third keeps only one year's rows. Two kinds of
evidence survive renaming, reordering, column subsets and row subsets:

* **columns**: the set of distinct values of a measurement column is specific to the data
  it was measured on. A column is *informative* when it is numeric, has at least
  ``MIN_DISTINCT`` distinct values, and is neither a run of integers (a year, a row number)
  nor a regular grid of unique values (a time index), which unrelated tables share; it is
  summarised by its distinct values rounded to ``DIGITS`` significant digits;
* **rows**: low-precision measurements (``5.1``, ``3.5``) are in every other table, but the
  pair of values one row holds in two columns is not. Each table's ``ROW_COLUMNS`` most
  varied numeric columns that are not index-like give one signature per column pair: the
  set of its rows' value pairs (tables of many rows keep a consistent sample of the
  pairs, the same in every table).

A value (or value pair) is *rare* when at most ``RARE_GROUPS`` tables hold it (KEEL's
variants of one base set counting once): common ones such as ``0.5`` are no evidence. Two
signatures match when the smaller set is at least ``CONTAINMENT`` contained in the larger
and they share at least ``MIN_RARE_SHARED`` rare values (a small column inside a column
that holds most numbers of its range anyway does not match: ``DENSE``). Candidates come
from the rare values alone (an inverted index, all hashes sorted at once), so the check
scales to thousands of tables; each is confirmed on the exact sets.

:func:`families` joins near-duplicates transitively (union-find): a corpus dataset that
lands in a group with a held-out table (validation or reserved data) must leave the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

MIN_DISTINCT = 8
CONTAINMENT = 0.9
DIGITS = 6
# A value held by more table groups than this is common ("0.5", "yes"): no evidence.
RARE_GROUPS = 8
# Matching signatures share at least this many rare values.
MIN_RARE_SHARED = 10
# Where a column holds more than this share of the numbers of a smaller column's range (at
# the coarser precision of the two), it matches the smaller one only as a near-equal set.
DENSE = 0.2
# Row evidence: the most varied numeric columns used, and the rows beyond which a
# consistent sample of the value pairs is kept (every 4th, 16th, ... by hash).
ROW_COLUMNS = 6
ROW_SAMPLE = 2_000


@dataclass(frozen=True)
class Signature:
    """One piece of evidence of a table: a column's value set or a column pair's row set.

    ``values``: sorted unique hashes; ``numbers`` and ``step`` (column signatures only):
    the distinct numbers, sorted, and the smallest step between them."""

    table: str
    label: str
    values: np.ndarray
    numbers: np.ndarray | None = None
    step: float = 0.0

    def density(self, other: Signature) -> float:
        """The share of the numbers where both columns' ranges overlap, at the coarser
        precision of the two, that this column holds (0 for row signatures)."""
        if self.numbers is None or other.numbers is None:
            return 0.0
        low = max(other.numbers[0], self.numbers[0])
        high = min(other.numbers[-1], self.numbers[-1])
        if high <= low:
            return 0.0
        inside = np.searchsorted(self.numbers, high, "right") - np.searchsorted(
            self.numbers, low, "left")
        return float(inside / ((high - low) / max(self.step, other.step) + 1))


def _numbers(values: pd.Series) -> np.ndarray | None:
    """The column's numbers (NaN where missing), text that is all numbers included; None
    for other columns."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if not pd.api.types.is_numeric_dtype(values):
        text = values.astype(str).str.strip()
        converted = pd.to_numeric(text, errors="coerce")
        if converted[values.notna()].isna().any():
            return None
        values = converted
    x = np.array(values, dtype=float)
    x[~np.isfinite(x)] = np.nan
    return x


def _hash(tokens: pd.Series) -> np.ndarray:
    return np.unique(pd.util.hash_pandas_object(tokens, index=False).to_numpy())


def _rounded(x: np.ndarray) -> pd.Series:
    return pd.Series(np.char.mod(f"%.{DIGITS}g", x))


def _is_index_like(distinct: np.ndarray, n_present: int) -> bool:
    """A run of integers (years, counts, row numbers) or a regular grid of (nearly) unique
    values (a time index such as ``1950 + month / 12``): shared by unrelated tables."""
    if len(distinct) < 2:
        return True
    steps = np.round(np.diff(distinct), 8)
    if len(np.unique(steps)) <= 3 and len(distinct) >= 0.9 * n_present:
        return True
    return bool(np.all(np.mod(distinct, 1) == 0)
                and distinct[-1] - distinct[0] + 1 <= 2 * len(distinct))


def _column_signature(name: str, col: str, x: np.ndarray) -> Signature | None:
    """None for a column that is no evidence: too few values, or index-like."""
    present = x[~np.isnan(x)]
    distinct = np.unique(present)
    if len(distinct) < MIN_DISTINCT or _is_index_like(distinct, len(present)):
        return None
    steps = np.diff(distinct)
    return Signature(name, col, _hash(_rounded(distinct)), distinct,
                     max(float(np.min(steps[steps > 0])), 1e-12))


def _row_signatures(name: str, numeric: dict[str, np.ndarray]) -> list[Signature]:
    distinct = {c: np.unique(x[~np.isnan(x)]) for c, x in numeric.items()}
    varied = sorted((c for c, x in numeric.items() if len(distinct[c]) >= 3
                     and not _is_index_like(distinct[c], int(np.sum(~np.isnan(x))))),
                    key=lambda c: (-len(distinct[c]), c))
    varied = varied[:ROW_COLUMNS]
    if not varied:
        return []
    n_rows = len(numeric[varied[0]])
    keep_every = 1
    while n_rows / keep_every > ROW_SAMPLE:
        keep_every *= 4
    tokens = {c: _rounded(numeric[c]).to_numpy() for c in varied}
    out = []
    for a, b in combinations(varied, 2):
        ok = ~(np.isnan(numeric[a]) | np.isnan(numeric[b]))
        # The pair in value order: two copies need not list the columns in the same order.
        first = np.where(tokens[a][ok] <= tokens[b][ok], tokens[a][ok], tokens[b][ok])
        second = np.where(tokens[a][ok] <= tokens[b][ok], tokens[b][ok], tokens[a][ok])
        hashes = _hash(pd.Series(np.char.add(np.char.add(first, "|"), second)))
        hashes = hashes[hashes % np.uint64(keep_every) == 0]
        if len(hashes) >= MIN_RARE_SHARED:
            out.append(Signature(name, f"{a}&{b}", hashes))
    return out


def signatures(name: str, frame: pd.DataFrame) -> list[Signature]:
    """Every signature of one table (its target included: a copy carries it too). Text
    columns are left out: lists of countries, teams or dates are shared by unrelated
    tables.

    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=30), "z": rng.normal(size=30).round(1),
    ...                       "year": range(1970, 2000), "g": list("abcdefghij") * 3})
    >>> [s.label for s in signatures("t", frame)]
    ['x', 'z', 'x&z']
    """
    numeric = {}
    for col in frame.columns:
        x = _numbers(frame[col])
        if x is not None and np.any(~np.isnan(x)):
            numeric[str(col)] = x
    out = [s for c, x in numeric.items() if (s := _column_signature(name, c, x)) is not None]
    return out + _row_signatures(name, numeric)


def _containment(a: np.ndarray, b: np.ndarray) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(np.intersect1d(small, large, assume_unique=True)) / len(small)


def near_duplicate_pairs(tables: Mapping[str, pd.DataFrame],
                         groups: Mapping[str, str] | None = None
                         ) -> dict[tuple[str, str], list[str]]:
    """Every pair of near-duplicate tables, with the matching signatures as evidence
    (``"a.col=b.col"``). ``groups`` maps tables already known to share their data (KEEL's
    variants of one base set) to one group, so that their values still count as rare.

    >>> rng = np.random.default_rng(0)
    >>> a = pd.DataFrame({"u": rng.normal(size=50), "v": rng.normal(size=50)})
    >>> b = a[["v"]].rename(columns={"v": "renamed"}).iloc[:30]   # a column and row subset
    >>> c = pd.DataFrame({"w": rng.normal(size=50)})
    >>> near_duplicate_pairs({"a": a, "b": b, "c": c})
    {('a', 'b'): ['a.v=b.renamed']}
    """
    groups = groups or {}
    sigs = [s for name, frame in tables.items() for s in signatures(name, frame)]
    if not sigs:
        return {}
    owner = np.repeat(np.arange(len(sigs)), [len(s.values) for s in sigs])
    flat = np.concatenate([s.values for s in sigs])
    group_codes = pd.factorize(pd.Series([groups.get(s.table, s.table) for s in sigs]))[0]
    frame = pd.DataFrame({"h": flat, "g": group_codes[owner], "c": owner})
    spread = frame.drop_duplicates(["h", "g"]).groupby("h").size()
    rare = frame[frame["h"].map(spread).le(RARE_GROUPS).to_numpy()]
    shared: dict[tuple[int, int], int] = defaultdict(int)
    tables_of = np.array([s.table for s in sigs], dtype=object)
    is_row = np.array([s.numbers is None for s in sigs])
    for members in rare.groupby("h")["c"].agg(list):
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                a, b = members[i], members[j]
                if tables_of[a] != tables_of[b] and is_row[a] == is_row[b]:
                    shared[(a, b) if a < b else (b, a)] += 1
    evidence: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for (a, b), n_rare in shared.items():
        sa, sb = sigs[a], sigs[b]
        if n_rare < MIN_RARE_SHARED or _containment(sa.values, sb.values) < CONTAINMENT:
            continue
        large, small = (sa, sb) if len(sa.values) >= len(sb.values) else (sb, sa)
        if len(small.values) < CONTAINMENT * len(large.values) and large.density(
                small) > DENSE:
            continue  # a small set where the large column holds most numbers anyway
        pair = tuple(sorted((sa.table, sb.table)))
        first, second = (sa, sb) if pair[0] == sa.table else (sb, sa)
        evidence[pair].append(  # type: ignore[index]
            (f"{first.table}.{first.label}={second.table}.{second.label}", n_rare))
    return {pair: sorted(e for e, _ in found) for pair, found in sorted(evidence.items())}


def families(names: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Union-find over near-duplicate pairs: each name mapped to its group's first name
    (sorted), so the grouping does not depend on the order pairs were found in.

    >>> families(["a", "b", "c", "d"], [("b", "c"), ("c", "d")])
    {'a': 'a', 'b': 'b', 'c': 'b', 'd': 'b'}
    """
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: root(n) for n in parent}
