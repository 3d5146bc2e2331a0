"""Fixed-width parsing of RINEX observation records (RINEX 3.05 §5.7 and Table A3; RINEX 2.11 §5.3).

The reader in :mod:`gnssaug.datasets.rinex.obs` finds the satellite records in Python (a few
thousand epochs) and hands the whole file, as ``uint8`` bytes, to :func:`parse_obs_rows`, which
reads every 16-character observation field (F14.3 value, LLI digit, SSI digit) of every record and
picks, per satellite and slot, the observations of the best tracking mode present.

Writing is the reverse: :func:`format_obs_records` formats epoch lines and satellite records of
whole blocks of epochs into one ``uint8`` buffer (the simulator writes tens of millions of fields
per run, far too many for Python string formatting).

Tables are passed as arguments (one row per system, one column per observation type in file
order), so the kernels know nothing about signal plans.
"""

from __future__ import annotations

import math

import numpy as np

from gnssaug.kernels import kernel

#: Kinds of observation types (column ``kind`` of the tables): pseudorange, phase, Doppler, C/N0.
KIND_PR, KIND_CP, KIND_DOP, KIND_CN0 = 0, 1, 2, 3
#: A type this reader does not store (unknown code such as Nagoya's ``X1``, or ionosphere ``I``).
KIND_SKIP = -1
#: Width of one observation field: F14.3 value, LLI digit, SSI digit.
FIELD_WIDTH = 16
_SPACE, _DOT, _MINUS, _PLUS, _ZERO, _NINE, _STAR = 32, 46, 45, 43, 48, 57, 42


@kernel
def parse_fixed_float(buf, start, stop):
    """Value of the fixed-width decimal field ``buf[start:stop]`` (uint8 ASCII).

    Returns ``(value, status)``: status 0 for a number, 1 for a blank field (value NaN), 2 for
    characters that are not a decimal number (value NaN). A field of asterisks only is Fortran's
    mark of a value too wide for its format: no usable value, so status 1 (missing), not 2.
    Digits are gathered into an integer mantissa and divided once by a power of ten, which rounds
    exactly like ``float(text)`` for the up to 15 significant digits of RINEX fields.
    """
    mantissa = 0
    n_digit = 0
    n_frac = 0
    seen_dot = False
    negative = False
    started = False
    ended = False
    n_star = 0
    for i in range(start, stop):
        c = int(buf[i])  # int: uint8 arithmetic would wrap without numba (NUMBA_DISABLE_JIT runs)
        if c == _STAR:
            n_star += 1
            continue
        if c == _SPACE:
            if started:
                ended = True
            continue
        if ended:
            return math.nan, 2
        if c >= _ZERO and c <= _NINE:
            mantissa = mantissa * 10 + (c - _ZERO)
            n_digit += 1
            if seen_dot:
                n_frac += 1
        elif c == _DOT and not seen_dot:
            seen_dot = True
        elif (c == _MINUS or c == _PLUS) and not started:
            negative = c == _MINUS
        else:
            return math.nan, 2
        started = True
    if n_star > 0:
        return math.nan, (2 if started else 1)
    if not started:
        return math.nan, 1
    if n_digit == 0 or n_digit > 18:
        return math.nan, 2
    value = mantissa / 10.0**n_frac if n_frac > 0 else float(mantissa)
    return (-value if negative else value), 0


@kernel
def parse_obs_rows(
    buf, line_start, line_stop, row_line, row_sys, n_type, kind, slot, rank, attr,
    col0, fields_per_line, pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code, row_bad,
):
    """Read the observation records of many satellites into slot arrays.

    Parameters
    ----------
    buf : uint8[n_byte]
        The whole decompressed file.
    line_start, line_stop : int64[n_line]
        Byte range of every line, without its end-of-line characters.
    row_line : int64[n_row]
        First line of each satellite record.
    row_sys : int8[n_row]
        System index of each record (row of the type tables).
    n_type : int64[n_sys]
        Number of observation types declared for each system.
    kind, slot, rank : int8[n_sys, n_max_type]
        Per system and type in file order: :data:`KIND_PR` ... (or :data:`KIND_SKIP`), the
        observation slot, and the tracking mode's preference rank in that slot (0 is best).
    attr : uint8[n_sys, n_max_type]
        ASCII attribute letter of each type (stored in ``code``).
    col0 : int
        Column of the first field (3 in RINEX 3 records after the satellite name, 0 in RINEX 2).
    fields_per_line : int
        Fields per line before a record continues on the next line (5 in RINEX 2, unlimited in 3).
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code : [n_row, N_BAND]
        Outputs, pre-filled with NaN / 0 by the caller.
    row_bad : bool[n_row]
        Output: True where a field could not be read as a number.

    Notes
    -----
    Per slot the tracking mode with the best rank whose pseudorange or phase is present is kept,
    and its Doppler and C/N0 are taken from the same mode (RINEX 3.05 §5.1 lets one slot carry
    several modes, e.g. GPS C1C and C1W). Values equal to 0.0 are treated as missing.
    """
    n_max_type = kind.shape[1]
    value = np.empty(n_max_type)
    flag = np.zeros(n_max_type, dtype=np.uint8)
    n_slot = pr_m.shape[1]
    best = np.empty(n_slot, dtype=np.int64)
    for r in range(row_line.shape[0]):
        s = row_sys[r]
        nt = n_type[s]
        for j in range(nt):
            value[j] = math.nan
            flag[j] = 0
            if kind[s, j] == KIND_SKIP:
                continue
            ln = row_line[r] + j // fields_per_line
            a = line_start[ln] + col0 + FIELD_WIDTH * (j % fields_per_line)
            end = line_stop[ln]
            if a >= end:
                continue
            b = min(a + 14, end)
            v, status = parse_fixed_float(buf, a, b)
            if status == 2:
                row_bad[r] = True
                continue
            if v != 0.0:
                value[j] = v
            if a + 14 < end:
                c = int(buf[a + 14])
                if c >= _ZERO and c <= _NINE:
                    flag[j] = c - _ZERO
        for k in range(n_slot):
            best[k] = 127
        for j in range(nt):
            kd = kind[s, j]
            if (kd == KIND_PR or kd == KIND_CP) and not math.isnan(value[j]) and rank[s, j] < best[slot[s, j]]:
                best[slot[s, j]] = rank[s, j]
        for j in range(nt):
            kd = kind[s, j]
            if kd == KIND_SKIP:
                continue
            k = slot[s, j]
            if rank[s, j] != best[k] or math.isnan(value[j]):
                continue
            code[r, k] = attr[s, j]
            if kd == KIND_PR:
                if math.isnan(pr_m[r, k]):
                    pr_m[r, k] = value[j]
            elif kd == KIND_CP:
                if math.isnan(cp_cyc[r, k]):
                    cp_cyc[r, k] = value[j]
                    lli[r, k] = flag[j]
            elif kd == KIND_DOP:
                if math.isnan(dop_hz[r, k]):
                    dop_hz[r, k] = value[j]
            elif math.isnan(cn0_dbhz[r, k]):
                cn0_dbhz[r, k] = value[j]


@kernel
def format_fixed_float(value, n_frac, out, pos, width):
    """Write ``value`` right-aligned in ``out[pos:pos + width]`` with ``n_frac`` decimals (Fortran Fw.d).

    The field is left blank (spaces) for NaN or a value too wide for the field, as RINEX writers
    do for missing data. Returns False in that case.
    """
    if math.isnan(value) or abs(value) >= 1e15:
        for i in range(width):
            out[pos + i] = _SPACE
        return False
    m = int(round(abs(value) * 10**n_frac))
    negative = value < 0 and m != 0
    # digits from the right: fraction, dot, integer part (at least one digit), sign
    p = pos + width - 1
    for _ in range(n_frac):
        out[p] = _ZERO + m % 10
        m //= 10
        p -= 1
    out[p] = _DOT
    p -= 1
    while p >= pos:
        out[p] = _ZERO + m % 10
        m //= 10
        p -= 1
        if m == 0:
            break
    if m != 0 or (negative and p < pos):  # too wide: blank, like a missing value
        for i in range(width):
            out[pos + i] = _SPACE
        return False
    if negative:
        out[p] = _MINUS
        p -= 1
    while p >= pos:  # leading blanks
        out[p] = _SPACE
        p -= 1
    return True


@kernel
def _put_uint(out, pos, value, width, zero_pad):
    """Write a non-negative integer right-aligned in ``out[pos:pos + width]`` (Fortran Iw, or Iw.w
    with ``zero_pad``); returns the position after the field."""
    v = int(value)
    for i in range(width):
        p = pos + width - 1 - i
        if i == 0 or v > 0:
            out[p] = _ZERO + v % 10
            v //= 10
        else:
            out[p] = _ZERO if zero_pad else _SPACE
    return pos + width


@kernel
def _put_epoch_line(out, p, cal, flag, count):
    """Write ``> yyyy mm dd hh mm ss.sssssss  f nnn`` (RINEX 3.04 Table A3, 35 characters) at ``p``."""
    out[p] = 62  # '>'
    out[p + 1] = _SPACE
    p = _put_uint(out, p + 2, cal[0], 4, False)
    for f in range(1, 5):
        out[p] = _SPACE
        p = _put_uint(out, p + 1, cal[f], 2, True)
    p = _put_uint(out, p, cal[5] // 10_000_000, 3, False)
    out[p] = _DOT
    p = _put_uint(out, p + 1, cal[5] % 10_000_000, 7, True)
    out[p] = _SPACE
    out[p + 1] = _SPACE
    p = _put_uint(out, p + 2, flag, 1, False)
    return _put_uint(out, p, count, 3, False)


@kernel
def format_obs_records(
    epoch_cal, epoch_flag, offsets, row_sys, row_name, n_type, kind, slot, attr,
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code, out,
):
    """Write the data records of a RINEX 3 observation file into ``out`` (RINEX 3.04 §5.7, Table A3).

    Parameters
    ----------
    epoch_cal : int64[n_epoch, 6]
        Year, month, day, hour, minute and seconds of the minute in units of 1e-7 s of each
        epoch tag.
    epoch_flag : uint8[n_epoch]
        Epoch flags.
    offsets : int64[n_epoch + 1]
        Rows of each epoch (at most 999 per epoch: checked by the caller).
    row_sys : int8[n_row]
        System index of each row (row of the type tables).
    row_name : uint8[n_row, 3]
        Satellite name of each row (``C07``).
    n_type : int64[n_sys]; kind, slot : int8[n_sys, n_max]; attr : uint8[n_sys, n_max]
        The observation types written for each system, as in :func:`parse_obs_rows`.
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, code : [n_row, N_BAND]
        The observations; a type is written for a row only where ``code`` of its slot equals
        its attribute.
    out : uint8[n_byte]
        Output buffer, allocated by the caller (in Python, where a block's buffer comes back
        from the allocator still in cache); it must hold ``36 * n_epoch`` bytes plus
        ``4 + 16 * n_type`` per row.

    Returns
    -------
    int
        Number of bytes written: the records, lines ended by ``\\n``. Values are F14.3, blank
        when missing or too wide.
        Pseudoranges and phases carry the signal strength indicator of their slot's C/N0
        (RINEX 3.04 §5.7: ``min(9, max(1, int(cn0 / 6)))``), phases their LLI (blank when 0).
        Trailing blanks of satellite records are left out, as RINEX allows.
    """
    n_epoch = epoch_cal.shape[0]
    p = 0
    for e in range(n_epoch):
        p = _put_epoch_line(out, p, epoch_cal[e], epoch_flag[e], offsets[e + 1] - offsets[e])
        out[p] = 10
        p += 1
        for r in range(offsets[e], offsets[e + 1]):
            s = row_sys[r]
            out[p] = row_name[r, 0]
            out[p + 1] = row_name[r, 1]
            out[p + 2] = row_name[r, 2]
            p += 3
            for j in range(n_type[s]):
                k = slot[s, j]
                kd = kind[s, j]
                value = math.nan
                if code[r, k] == attr[s, j]:
                    # float(): float32 Doppler/C/N0 are formatted in float64 arithmetic
                    if kd == KIND_PR:
                        value = float(pr_m[r, k])
                    elif kd == KIND_CP:
                        value = float(cp_cyc[r, k])
                    elif kd == KIND_DOP:
                        value = float(dop_hz[r, k])
                    elif kd == KIND_CN0:
                        value = float(cn0_dbhz[r, k])
                written = format_fixed_float(value, 3, out, p, 14)
                out[p + 14] = _SPACE
                out[p + 15] = _SPACE
                if written and (kd == KIND_PR or kd == KIND_CP):
                    if kd == KIND_CP and lli[r, k] != 0 and lli[r, k] <= 9:
                        out[p + 14] = _ZERO + int(lli[r, k])
                    cn0 = float(cn0_dbhz[r, k])
                    if not math.isnan(cn0):
                        out[p + 15] = _ZERO + min(9, max(1, int(cn0 / 6.0)))
                p += FIELD_WIDTH
            while out[p - 1] == _SPACE:  # stops at the satellite name
                p -= 1
            out[p] = 10
            p += 1
    return p
