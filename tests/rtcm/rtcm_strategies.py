"""Hypothesis strategies drawing RTCM message values from the DF tables (shared by the rtcm tests)."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from gnssaug.rtcm.fields import DF
from gnssaug.rtcm.layouts import Chars, Count, Fixed, Masked, Repeat, Reserved, Utf8


def field_values(df: str):
    """Values of one data field: every raw value in range (the invalid marker as NaN)."""
    f = DF[df]
    raw = st.integers(f.raw_min, f.raw_max)
    if f.scale is None:
        return raw
    valid = raw.filter(lambda r: r != f.invalid).map(lambda r: r * f.scale)
    return st.one_of(valid, st.just(math.nan)) if f.invalid is not None else valid


@st.composite
def layout_values(draw, items):
    out = {}
    for item in items:
        if isinstance(item, str):
            out[DF[item].name] = draw(field_values(item))
        elif isinstance(item, Chars):
            out[DF[item.char_df].name] = draw(st.text(st.characters(max_codepoint=255), max_size=12))
        elif isinstance(item, Utf8):  # any Unicode (no surrogates), up to 20 characters (at most 80 bytes)
            out[item.key] = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
        elif isinstance(item, Masked):
            for df in item.dfs:
                if draw(st.booleans()):
                    out[DF[df].name] = draw(field_values(df))
        elif isinstance(item, Repeat):
            out[item.key] = draw(st.lists(layout_values(item.items), max_size=4))
        elif isinstance(item, Fixed):
            out[item.key] = draw(st.lists(layout_values(item.items), min_size=item.count, max_size=item.count))
        else:
            assert isinstance(item, (Reserved, Count))
    return out
