"""Fast RINEX 3 observation record formatting (RINEX 3.04 §5.7, Table A3) into a byte buffer.

Writing the simulator's network files is tens of millions of F14.3 fields; formatting them with
Python string operations would take longer than simulating them, so the records are written here
as ASCII bytes into one preallocated ``uint8`` buffer per file.
"""

import math

from gnssaug.kernels import kernel

KIND_PR, KIND_CP, KIND_DOP, KIND_CN0 = 0, 1, 2, 3
_SPACE = 32
#: Width of one observation field (F14.3, LLI, SSI) and of the satellite name.
FIELD_WIDTH = 16
SAT_WIDTH = 3
EPOCH_LINE_WIDTH = 36


@kernel
def _put_int(buf, pos, value, width, zero_pad):
    """Write a non-negative integer right-aligned in ``width`` characters; returns the new position."""
    for i in range(width):
        buf[pos + width - 1 - i] = _SPACE
    v = value
    i = 0
    while True:
        buf[pos + width - 1 - i] = 48 + v % 10
        v //= 10
        i += 1
        if v == 0 or i >= width:
            break
    if zero_pad:
        while i < width:
            buf[pos + width - 1 - i] = 48
            i += 1
    return pos + width


@kernel
def _put_f14_3(buf, pos, value):
    """Write an F14.3 field (blank if NaN or too large); returns the new position."""
    for i in range(14):
        buf[pos + i] = _SPACE
    if math.isnan(value) or abs(value) >= 9.9999999e9:
        return pos + 14
    milli = int(round(abs(value) * 1000.0))
    frac = milli % 1000
    whole = milli // 1000
    end = pos + 14
    buf[end - 1] = 48 + frac % 10
    buf[end - 2] = 48 + (frac // 10) % 10
    buf[end - 3] = 48 + frac // 100
    buf[end - 4] = 46  # '.'
    p = end - 5
    while True:
        buf[p] = 48 + whole % 10
        whole //= 10
        p -= 1
        if whole == 0:
            break
    if value < 0.0 and milli > 0:
        buf[p] = 45  # '-'
    return end


@kernel
def format_obs_records(
    epoch_fields, epoch_sec_1e7, epoch_flag, offsets, sat_letter, sat_prn, sat_table,
    pr_m, cp_cyc, dop_hz, cn0_dbhz, lli, n_types, type_slot, type_kind, out,
):
    """Write RINEX 3 epoch and satellite records into ``out``; returns the number of bytes written.

    Parameters
    ----------
    epoch_fields : int64[E, 5]
        Year, month, day, hour, minute of each epoch.
    epoch_sec_1e7 : int64[E]
        Seconds of the minute in units of 1e-7 s (the F11.7 field).
    epoch_flag : uint8[E]
        Epoch flags.
    offsets : int64[E + 1]
        Row range of each epoch.
    sat_letter, sat_prn, sat_table : int64[R]
        ASCII system letter, two-digit number and obs-type table row of each row.
    pr_m, cp_cyc, dop_hz, cn0_dbhz : float[R, B]
        Observations per slot (NaN: missing).
    lli : uint8[R, B]
        Loss-of-lock indicators (written on phase fields).
    n_types : int64[T]
        Number of observation types of each table row.
    type_slot, type_kind : int64[T, M]
        Slot and kind (``KIND_*``) of each observation type in file order.
    out : uint8[N]
        Output buffer; must hold every record (see :func:`record_bytes_bound`).
    """
    pos = 0
    n_epoch = offsets.shape[0] - 1
    for e in range(n_epoch):
        lo, hi = offsets[e], offsets[e + 1]
        # "> yyyy mm dd hh mm ss.sssssss  f nnn"
        out[pos] = 62
        out[pos + 1] = _SPACE
        pos = _put_int(out, pos + 2, epoch_fields[e, 0], 4, False)
        for f in range(1, 5):
            out[pos] = _SPACE
            pos = _put_int(out, pos + 1, epoch_fields[e, f], 2, True)
        sec = epoch_sec_1e7[e]
        pos = _put_int(out, pos, sec // 10_000_000, 3, False)
        out[pos] = 46
        pos = _put_int(out, pos + 1, sec % 10_000_000, 7, True)
        out[pos] = _SPACE
        out[pos + 1] = _SPACE
        pos = _put_int(out, pos + 2, epoch_flag[e], 1, False)
        pos = _put_int(out, pos, hi - lo, 3, False)
        out[pos] = 10
        pos += 1
        for r in range(lo, hi):
            out[pos] = sat_letter[r]
            pos = _put_int(out, pos + 1, sat_prn[r], 2, True)
            row = sat_table[r]
            for t in range(n_types[row]):
                k = type_slot[row, t]
                kind = type_kind[row, t]
                if kind == KIND_PR:
                    value = pr_m[r, k]
                elif kind == KIND_CP:
                    value = cp_cyc[r, k]
                elif kind == KIND_DOP:
                    value = dop_hz[r, k]
                else:
                    value = cn0_dbhz[r, k]
                pos = _put_f14_3(out, pos, value)
                out[pos] = _SPACE
                out[pos + 1] = _SPACE
                if not math.isnan(value):
                    if kind == KIND_CP and lli[r, k] != 0:
                        out[pos] = 48 + (lli[r, k] % 10)
                    if kind == KIND_PR or kind == KIND_CP:
                        cn0 = cn0_dbhz[r, k]
                        if not math.isnan(cn0):
                            out[pos + 1] = 48 + min(9, max(1, int(cn0 / 6.0)))
                pos += 2
            while out[pos - 1] == _SPACE:  # RINEX allows trailing blanks to be left out
                pos -= 1
            out[pos] = 10
            pos += 1
    return pos
