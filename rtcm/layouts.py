"""Message layouts as tables, and the one generic walker that decodes and encodes them.

A layout is a tuple of items (RTCM 10403.3 §3.5 message tables):

- ``"DF025"``: one data field, stored under its table name;
- :class:`Reserved`: reserved bits (written as zero, not stored);
- :class:`Count` / :class:`Repeat`: a counter field and, later, the group it counts; the counter
  is not stored (it is the length of the decoded list);
- :class:`Chars`: a counter immediately followed by that many character bytes, stored as ``str``;
- :class:`Masked`: a bit mask field followed by the fields of its set bits, most significant bit
  first; absent fields are not stored and the mask is rebuilt from the present ones.

Header blocks are shared by composing tuples. MSM messages have their own vectorised codec
(:mod:`gnssaug.rtcm.msm`); everything else goes through :func:`decode_layout` /
:func:`encode_layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gnssaug.rtcm.bits import BitReader, BitWriter, to_unsigned
from gnssaug.rtcm.errors import FieldRangeError, MessageContentError
from gnssaug.rtcm.fields import DF


@dataclass(frozen=True)
class Reserved:
    """Reserved bits (DF001)."""

    width: int


@dataclass(frozen=True)
class Count:
    """A counter field whose value is the length of the list stored under ``key``."""

    df: str
    key: str


@dataclass(frozen=True)
class Repeat:
    """A group repeated as often as the counter of ``key`` says; stored as a list of dicts."""

    key: str
    items: tuple


@dataclass(frozen=True)
class Fixed:
    """A group repeated a fixed number of times (no counter on the wire); stored as a list of dicts."""

    count: int
    key: str
    items: tuple


@dataclass(frozen=True)
class Chars:
    """A byte counter followed by that many characters (DF029/DF030 style), stored as ``str``."""

    count_df: str
    char_df: str


@dataclass(frozen=True)
class Utf8:
    """Character count (DF138), UTF-8 code unit count (DF139), then the UTF-8 bytes (DF140), stored as ``str``.

    The character count is not stored: it is the length of the string (receivers that get it wrong
    are read by their code unit count).
    """

    key: str = "text"


@dataclass(frozen=True)
class Masked:
    """A mask field followed by the fields whose mask bit is set (MSB first)."""

    mask_df: str
    dfs: tuple


def _read_field(reader: BitReader, df: str):
    f = DF[df]
    if f.kind == "s":
        raw = reader.s(f.width)
    elif f.kind == "m":
        raw = reader.m(f.width)
    else:
        raw = reader.u(f.width)
    return f.to_value(raw)


def _write_field(writer: BitWriter, df: str, value) -> None:
    f = DF[df]
    writer.put(to_unsigned(f.to_raw(value), f.width, f.kind), f.width)


def _decode_items(reader: BitReader, items, out: dict, counts: dict) -> None:
    for item in items:
        if isinstance(item, str):
            out[DF[item].name] = _read_field(reader, item)
        elif isinstance(item, Reserved):
            reader.u(item.width)
        elif isinstance(item, Count):
            counts[item.key] = reader.u(DF[item.df].width)
        elif isinstance(item, Repeat):
            n = counts[item.key]
            group = []
            for _ in range(n):
                row: dict = {}
                _decode_items(reader, item.items, row, counts)
                group.append(row)
            out[item.key] = group
        elif isinstance(item, Fixed):
            out[item.key] = []
            for _ in range(item.count):
                row = {}
                _decode_items(reader, item.items, row, counts)
                out[item.key].append(row)
        elif isinstance(item, Chars):
            n = reader.u(DF[item.count_df].width)
            out[DF[item.char_df].name] = reader.raw(n).decode("latin-1")
        elif isinstance(item, Utf8):
            reader.u(DF["DF138"].width)
            data = reader.raw(reader.u(DF["DF139"].width))
            try:
                out[item.key] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MessageContentError(f"DF140 text is not UTF-8 (byte {exc.start} of {len(data)})") from None
        elif isinstance(item, Masked):
            f = DF[item.mask_df]
            mask = reader.u(f.width)
            for k, df in enumerate(item.dfs):
                if mask >> (f.width - 1 - k) & 1:
                    out[DF[df].name] = _read_field(reader, df)
        else:  # pragma: no cover - layout tables are static
            raise TypeError(f"bad layout item {item!r}")


def _encode_items(writer: BitWriter, items, values: dict) -> None:
    for item in items:
        if isinstance(item, str):
            name = DF[item].name
            if name not in values:
                raise FieldRangeError(item, None, f"is missing: the message needs {name!r}")
            _write_field(writer, item, values[name])
        elif isinstance(item, Reserved):
            writer.put(0, item.width)
        elif isinstance(item, Count):
            n = len(values.get(item.key, ()))
            f = DF[item.df]
            if n > f.raw_max:
                raise FieldRangeError(item.df, n, f"entries in {item.key!r}: at most {f.raw_max} fit")
            writer.put(n, f.width)
        elif isinstance(item, Repeat):
            for row in values.get(item.key, ()):
                _encode_items(writer, item.items, row)
        elif isinstance(item, Fixed):
            rows = values.get(item.key, ())
            if len(rows) != item.count:
                raise FieldRangeError(item.key, len(rows), f"rows given; the layout holds exactly {item.count}")
            for row in rows:
                _encode_items(writer, item.items, row)
        elif isinstance(item, Chars):
            name = DF[item.char_df].name
            try:
                data = str(values.get(name, "")).encode("latin-1")
            except UnicodeEncodeError:
                raise FieldRangeError(item.char_df, values.get(name), "has characters outside Latin-1") from None
            if len(data) > DF[item.count_df].raw_max:
                raise FieldRangeError(item.char_df, values.get(name), "is longer than 255 characters")
            writer.put(len(data), DF[item.count_df].width)
            writer.put_bytes(data)
        elif isinstance(item, Utf8):
            text = str(values.get(item.key, ""))
            data = text.encode("utf-8")
            if len(text) > DF["DF138"].raw_max or len(data) > DF["DF139"].raw_max:
                raise FieldRangeError("DF140", text, "is over 127 characters or 255 UTF-8 bytes")
            writer.put(len(text), DF["DF138"].width)
            writer.put(len(data), DF["DF139"].width)
            writer.put_bytes(data)
        elif isinstance(item, Masked):
            f = DF[item.mask_df]
            present = [df for df in item.dfs if DF[df].name in values]
            mask = sum(1 << (f.width - 1 - k) for k, df in enumerate(item.dfs) if df in present)
            writer.put(mask, f.width)
            for df in present:
                _write_field(writer, df, values[DF[df].name])
        else:  # pragma: no cover
            raise TypeError(f"bad layout item {item!r}")


def decode_layout(payload: bytes, msg_type: int, layout: tuple) -> dict:
    """Decode a payload with a layout table.

    Parameters
    ----------
    payload : bytes
        The message bytes, starting with the 12-bit message number.
    msg_type : int
        The message number (for error messages).
    layout : tuple
        Items after the message number.

    Returns
    -------
    dict
        Field name -> value (ints, floats with NaN for invalid markers, str, lists of dicts).

    Raises
    ------
    MessageLengthError
        If the payload ends before the layout does.
    """
    reader = BitReader(payload, msg_type)
    reader.u(12)
    out: dict = {}
    _decode_items(reader, layout, out, {})
    # Bits after the layout are ignored: some receivers zero-pad messages to a fixed length.
    return out


def encode_layout(msg_type: int, layout: tuple, values: dict) -> bytes:
    """Encode ``values`` with a layout table; the inverse of :func:`decode_layout`.

    Raises
    ------
    FieldRangeError
        If a value is missing, NaN without an invalid marker, or does not fit its field.
    """
    writer = BitWriter()
    writer.put(msg_type, 12)
    _encode_items(writer, layout, values)
    return writer.to_bytes()


def layout_fields(layout: tuple) -> list[str]:
    """The data fields a layout stores at its top level (for documentation and tests)."""
    names = []
    for item in layout:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, Masked):
            names.extend(item.dfs)
    return names


# ------------------------------------------------------------------------------------------------
# Layout tables (RTCM 10403.3 §3.5)
# ------------------------------------------------------------------------------------------------
_ARP = ("DF003", "DF021", "DF022", "DF023", "DF024", "DF141", "DF025", "DF142", Reserved(1), "DF026",
        "DF364", "DF027")
_ANTENNA = ("DF003", Chars("DF029", "DF030"), "DF031")

_GPS_OBS_HEAD = ("DF003", "DF004", "DF005", Count("DF006", "sats"), "DF007", "DF008")
_GPS_L1 = ("DF009", "DF010", "DF011", "DF012", "DF013")
_GPS_L1_EXT = ("DF014", "DF015")
_GPS_L2 = ("DF016", "DF017", "DF018", "DF019")

_GLO_OBS_HEAD = ("DF003", "DF034", "DF005", Count("DF035", "sats"), "DF036", "DF037")
_GLO_L1 = ("DF038", "DF039", "DF040", "DF041", "DF042", "DF043")
_GLO_L1_EXT = ("DF044", "DF045")
_GLO_L2 = ("DF046", "DF047", "DF048", "DF049")

_GAL_EPH_CORE = ("DF252", "DF289", "DF290", "DF291", "DF292", "DF293", "DF294", "DF295", "DF296", "DF297",
                 "DF298", "DF299", "DF300", "DF301", "DF302", "DF303", "DF304", "DF305", "DF306", "DF307",
                 "DF308", "DF309", "DF310", "DF311", "DF312")

_MAC_HEAD = ("DF059", "DF072", "DF065", "DF066", "DF060", "DF061", Count("DF067", "sats"))
_MAC_SAT = ("DF068", "DF074", "DF075")
_HELMERT = (Chars("DF143", "DF144"), Chars("DF145", "DF146"), "DF147", "DF148", "DF149", "DF150", "DF151",
            "DF152", "DF153", "DF154", "DF155", "DF156", "DF157", "DF158", "DF159", "DF160", "DF161", "DF162")
_ELLIPSOIDS = ("DF166", "DF167", "DF168", "DF169", "DF214", "DF215")
_GRID_TAIL = ("DF212", "DF213", "DF216", "DF217", "DF051")
_RESIDUALS = ("DF218", "DF219", "DF220", "DF221", "DF222")
_FKP = ("DF242", "DF243", "DF244", "DF245")
_ORBIT = ("DF365", "DF366", "DF367", "DF368", "DF369", "DF370")
_CLOCK = ("DF376", "DF377", "DF378")


def _ssr(epoch_df: str, sat: tuple, datum: bool) -> tuple:
    head = (epoch_df, "DF391", "DF388", *(("DF375",) if datum else ()), "DF413", "DF414", "DF415",
            Count("DF387", "sats"))
    return (*head, Repeat("sats", sat))


def _ssr_set(first: int, epoch_df: str, sat_id: tuple, signal_df: str) -> dict:
    # Orbit, clock, code bias, combined, URA and high-rate clock messages of one system
    # (RTCM 10403.3 Tables 3.5-63 to 3.5-71 and the BDS amendment).
    return {
        first: _ssr(epoch_df, (*sat_id, *_ORBIT), True),
        first + 1: _ssr(epoch_df, (sat_id[0], *_CLOCK), False),
        first + 2: _ssr(epoch_df, (sat_id[0], Count("DF379", "biases"), Repeat("biases", (signal_df, "DF383"))),
                        False),
        first + 3: _ssr(epoch_df, (*sat_id, *_ORBIT, *_CLOCK), True),
        first + 4: _ssr(epoch_df, (sat_id[0], "DF389"), False),
        first + 5: _ssr(epoch_df, (sat_id[0], "DF390"), False),
    }


#: ``LAYOUTS[msg_type]``: the items after the message number.
LAYOUTS: dict[int, tuple] = {
    # station description
    1005: _ARP,
    1006: (*_ARP, "DF028"),
    1007: _ANTENNA,
    1008: (*_ANTENNA, Chars("DF032", "DF033")),
    1033: (*_ANTENNA, Chars("DF032", "DF033"), Chars("DF227", "DF228"), Chars("DF229", "DF230"),
           Chars("DF231", "DF232")),
    1032: ("DF003", "DF226", "DF021", "DF025", "DF026", "DF027"),
    1013: ("DF003", "DF051", "DF052", Count("DF053", "messages"), "DF054",
           Repeat("messages", ("DF055", "DF056", "DF057"))),
    1029: ("DF003", "DF051", "DF052", Utf8()),
    1230: ("DF003", "DF421", Reserved(3), Masked("DF422", ("DF423", "DF424", "DF425", "DF426"))),
    # legacy observations
    1001: (*_GPS_OBS_HEAD, Repeat("sats", _GPS_L1)),
    1002: (*_GPS_OBS_HEAD, Repeat("sats", (*_GPS_L1, *_GPS_L1_EXT))),
    1003: (*_GPS_OBS_HEAD, Repeat("sats", (*_GPS_L1, *_GPS_L2))),
    1004: (*_GPS_OBS_HEAD, Repeat("sats", (*_GPS_L1, *_GPS_L1_EXT, *_GPS_L2, "DF020"))),
    1009: (*_GLO_OBS_HEAD, Repeat("sats", _GLO_L1)),
    1010: (*_GLO_OBS_HEAD, Repeat("sats", (*_GLO_L1, *_GLO_L1_EXT))),
    1011: (*_GLO_OBS_HEAD, Repeat("sats", (*_GLO_L1, *_GLO_L2))),
    1012: (*_GLO_OBS_HEAD, Repeat("sats", (*_GLO_L1, *_GLO_L1_EXT, *_GLO_L2, "DF050"))),
    # ephemerides
    1019: ("DF009", "DF076", "DF077", "DF078", "DF079", "DF071", "DF081", "DF082", "DF083", "DF084", "DF085",
           "DF086", "DF087", "DF088", "DF089", "DF090", "DF091", "DF092", "DF093", "DF094", "DF095", "DF096",
           "DF097", "DF098", "DF099", "DF100", "DF101", "DF102", "DF103", "DF137"),
    1020: ("DF038", "DF040", "DF104", "DF105", "DF106", "DF107", "DF108", "DF109", "DF110", "DF111", "DF112",
           "DF113", "DF114", "DF115", "DF116", "DF117", "DF118", "DF119", "DF120", "DF121", "DF122", "DF123",
           "DF124", "DF125", "DF126", "DF127", "DF128", "DF129", "DF130", "DF131", "DF132", "DF133", "DF134",
           "DF135", "DF136", Reserved(7)),
    1042: ("DF488", "DF489", "DF490", "DF491", "DF492", "DF493", "DF494", "DF495", "DF496", "DF497", "DF498",
           "DF499", "DF500", "DF501", "DF502", "DF503", "DF504", "DF505", "DF506", "DF507", "DF508", "DF509",
           "DF510", "DF511", "DF512", "DF513", "DF514", "DF515"),
    1044: ("DF429", "DF430", "DF431", "DF432", "DF433", "DF434", "DF435", "DF436", "DF437", "DF438", "DF439",
           "DF440", "DF441", "DF442", "DF443", "DF444", "DF445", "DF446", "DF447", "DF448", "DF449", "DF450",
           "DF451", "DF452", "DF453", "DF454", "DF455", "DF456", "DF457"),
    1045: (*_GAL_EPH_CORE, "DF314", "DF315", Reserved(7)),
    1046: (*_GAL_EPH_CORE[:3], "DF286", *_GAL_EPH_CORE[4:], "DF313", "DF316", "DF317", "DF287", "DF288",
           Reserved(2)),
    # network RTK (MAC), RTCM 10403.3 §3.5.6
    1014: ("DF059", "DF072", "DF058", "DF060", "DF061", "DF062", "DF063", "DF064"),
    1015: (*_MAC_HEAD, Repeat("sats", (*_MAC_SAT, "DF069"))),
    1016: (*_MAC_HEAD, Repeat("sats", (*_MAC_SAT, "DF070", "DF071"))),
    1017: (*_MAC_HEAD, Repeat("sats", (*_MAC_SAT, "DF070", "DF071", "DF069"))),
    # transformation parameters, RTCM 10403.3 §3.5.9
    1021: (*_HELMERT, *_ELLIPSOIDS),
    1022: (*_HELMERT, "DF163", "DF164", "DF165", *_ELLIPSOIDS),
    1023: ("DF147", "DF190", "DF191", "DF192", "DF193", "DF194", "DF195", "DF196", "DF197", "DF198",
           Fixed(16, "residuals", ("DF199", "DF200", "DF201")), *_GRID_TAIL),
    1024: ("DF147", "DF190", "DF191", "DF202", "DF203", "DF204", "DF205", "DF206", "DF207", "DF208",
           Fixed(16, "residuals", ("DF209", "DF210", "DF211")), *_GRID_TAIL),
    1025: ("DF147", "DF170", "DF171", "DF172", "DF173", "DF174", "DF175"),
    1026: ("DF147", "DF170", "DF176", "DF177", "DF178", "DF179", "DF180", "DF181"),
    1027: ("DF147", "DF170", "DF182", "DF183", "DF184", "DF185", "DF186", "DF187", "DF188", "DF189"),
    # network residuals and FKP, RTCM 10403.3 §3.5.10-§3.5.11
    1030: ("DF224", "DF003", "DF223", Count("DF006", "sats"), Repeat("sats", ("DF009", *_RESIDUALS))),
    1031: ("DF225", "DF003", "DF223", Count("DF035", "sats"), Repeat("sats", ("DF038", *_RESIDUALS))),
    1303: ("DF571", "DF003", "DF223", Count("DF572", "sats"), Repeat("sats", ("DF488", *_RESIDUALS))),
    1034: ("DF003", "DF240", Count("DF006", "sats"), Repeat("sats", ("DF009", "DF071", *_FKP))),
    1035: ("DF003", "DF241", Count("DF035", "sats"), Repeat("sats", ("DF038", "DF392", *_FKP))),
    # state-space representation, RTCM 10403.3 §3.5.13 (decode; encode works from the same tables)
    **_ssr_set(1057, "DF385", ("DF068", "DF071"), "DF380"),
    **_ssr_set(1063, "DF386", ("DF384", "DF392"), "DF381"),
    **_ssr_set(1258, "DF465", ("DF488", "DF470", "DF471"), "DF467"),
}
