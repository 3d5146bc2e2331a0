"""RTCM 3 codec (``gnssaug.rtcm``): framing, data-field tables, message layouts, MSM arrays."""
