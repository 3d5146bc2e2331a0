"""RTCM 3 codec (``gnssaug.rtcm``): framing, data-field tables, message layouts, MSM arrays.

Modules, in data-flow order:

- :mod:`~gnssaug.rtcm.framing`: sans-IO :class:`Deframer` (``feed(bytes) -> list[Frame]``, resyncs on
  garbage and bad CRCs, counts drops), :func:`frame` writer; :mod:`~gnssaug.rtcm.crc`: CRC-24Q.
- :mod:`~gnssaug.rtcm.codec`: ``decode(payload | Frame)``, ``decode_many(frames)`` (batch, vectorised
  MSM), ``encode(message)``, ``encode_frame``, :class:`StreamDecoder`.
- :mod:`~gnssaug.rtcm.fields` (the DF table) and :mod:`~gnssaug.rtcm.layouts` (message tables and the
  one walker) for every non-MSM type; :mod:`~gnssaug.rtcm.msm` for MSM1-7 as arrays.
- :mod:`~gnssaug.rtcm.epochs`: ``ObsEpoch`` <-> MSM / 1004 / 1012, :class:`EpochAssembler`.
- :mod:`~gnssaug.rtcm.ephemerides`: 1019/1020/1042/1044/1045/1046 <-> ephemeris records.
- :mod:`~gnssaug.rtcm.cli`: ``gnssaug rtcm dump | encode | to-rinex``.

Every error raised on purpose is a :class:`gnssaug.rtcm.errors.RtcmError`. This package imports no
numba (the speed comes from numpy vectorisation over whole field blocks).
"""
