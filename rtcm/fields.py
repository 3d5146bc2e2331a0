"""The RTCM 3 data-field table (RTCM 10403.3 §3.4, Table 3.4-1 and the message tables of §3.5).

One row per data field: its number, the attribute name it decodes to (with units), bit width,
kind, scale factor and invalid-value marker. The generic walker in :mod:`gnssaug.rtcm.layouts`
decodes and encodes every table-driven message from these rows, and the property tests generate
values from the same rows.

Kinds: ``u`` unsigned, ``s`` two's complement, ``m`` sign-magnitude (GLONASS ``intS``), ``c`` one
character byte (strings are counted runs of ``c`` fields). ``scale`` None means the field stays an
integer (flags, indicators, counters, IDs); a float scale makes the decoded value
``raw * scale`` in the unit of the name, and a raw value equal to ``invalid`` decodes to NaN.
Angles of broadcast orbits stay in semicircles (``_sc``) as transmitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from gnssaug.rtcm.errors import FieldRangeError

P2 = 2.0  # short alias for the powers of two of the ephemeris scale factors


@dataclass(frozen=True, slots=True)
class DataField:
    """One RTCM data field (RTCM 10403.3 Table 3.4-1).

    Attributes
    ----------
    df : str
        Field number (``"DF025"``).
    name : str
        Attribute name of the decoded value, with its unit.
    width : int
        Bits on the wire.
    kind : str
        ``"u"``, ``"s"``, ``"m"`` or ``"c"`` (see module docstring).
    scale : float or None
        Physical value of one least-significant bit; None for integer fields.
    invalid : int or None
        Raw value that marks "not available", decoded to NaN.
    """

    df: str
    name: str
    width: int
    kind: str = "u"
    scale: float | None = None
    invalid: int | None = None

    @property
    def raw_min(self) -> int:
        """Smallest raw value."""
        if self.kind == "s":
            return -(1 << (self.width - 1))
        if self.kind == "m":
            return -((1 << (self.width - 1)) - 1)
        return 0

    @property
    def raw_max(self) -> int:
        """Largest raw value."""
        if self.kind in "sm":
            return (1 << (self.width - 1)) - 1
        return (1 << self.width) - 1

    def to_value(self, raw: int):
        """Decoded value of a raw integer (scaled float, NaN for the invalid marker, or the int)."""
        if self.scale is None:
            return raw
        if raw == self.invalid:
            return float("nan")
        return raw * self.scale

    def to_raw(self, value) -> int:
        """Raw integer of a value, checked against the field's range.

        Raises
        ------
        FieldRangeError
            If the value is NaN without an invalid marker, not a number, or outside the field.
        """
        if self.scale is None:
            if isinstance(value, bool) or not isinstance(value, int):
                try:
                    iv = int(value)
                except (TypeError, ValueError):
                    raise FieldRangeError(self.df, value, f"is not an integer ({self.name})") from None
                if iv != value:
                    raise FieldRangeError(self.df, value, f"is not an integer ({self.name})")
                value = iv
            raw = value
        else:
            try:
                f = float(value)
            except (TypeError, ValueError):
                raise FieldRangeError(self.df, value, f"is not a number ({self.name})") from None
            if f != f:
                if self.invalid is None:
                    raise FieldRangeError(self.df, value, f"is NaN but {self.name} has no invalid marker")
                return self.invalid
            if f in (float("inf"), float("-inf")):
                raise FieldRangeError(self.df, value, f"is not finite ({self.name})")
            raw = round(f / self.scale)
        if not self.raw_min <= raw <= self.raw_max or raw == self.invalid:
            lo, hi = self.raw_min, self.raw_max
            if self.scale is not None:
                lo, hi = lo * self.scale, hi * self.scale
            raise FieldRangeError(self.df, value, f"is outside {lo}..{hi} ({self.name}, {self.width} bits)")
        return raw


def _f(df, name, width, kind="u", scale=None, invalid=None):
    return DataField(f"DF{df:03d}", name, width, kind, scale, invalid)


_ROWS = (
    # ---- header and station fields ------------------------------------------------------------
    _f(1, "reserved", 1),
    _f(2, "msg_type", 12),
    _f(3, "station_id", 12),
    _f(4, "tow_ms", 30),
    _f(5, "sync", 1),
    _f(6, "n_sat", 5),
    _f(7, "smoothing", 1),
    _f(8, "smoothing_interval", 3),
    _f(21, "itrf_year", 6),
    _f(22, "gps", 1),
    _f(23, "glonass", 1),
    _f(24, "galileo", 1),
    _f(25, "arp_x_m", 38, "s", 1e-4),
    _f(26, "arp_y_m", 38, "s", 1e-4),
    _f(27, "arp_z_m", 38, "s", 1e-4),
    _f(28, "antenna_height_m", 16, "u", 1e-4),
    _f(29, "antenna_descriptor_len", 8),
    _f(30, "antenna_descriptor", 8, "c"),
    _f(31, "antenna_setup_id", 8),
    _f(32, "antenna_serial_len", 8),
    _f(33, "antenna_serial", 8, "c"),
    _f(141, "reference_station", 1),
    _f(142, "single_oscillator", 1),
    _f(364, "quarter_cycle", 2),
    _f(226, "physical_station_id", 12),
    _f(227, "receiver_type_len", 8),
    _f(228, "receiver_type", 8, "c"),
    _f(229, "firmware_len", 8),
    _f(230, "firmware", 8, "c"),
    _f(231, "receiver_serial_len", 8),
    _f(232, "receiver_serial", 8, "c"),
    # 1013 system parameters
    _f(51, "mjd", 16),
    _f(52, "seconds_of_day", 17),
    _f(53, "n_messages", 5),
    _f(54, "leap_seconds", 8),
    _f(55, "message_id", 12),
    _f(56, "sync_flag", 1),
    _f(57, "interval_s", 16, "u", 0.1),
    # 1029 Unicode text string (RTCM 10403.3 Table 3.5-33)
    _f(138, "n_chars", 7),
    _f(139, "n_code_units", 8),
    _f(140, "text", 8, "c"),
    # 1230 GLONASS code-phase biases
    _f(421, "bias_indicator", 1),
    _f(422, "bias_mask", 4),
    _f(423, "l1ca_bias_m", 16, "s", 0.02, -32768),
    _f(424, "l1p_bias_m", 16, "s", 0.02, -32768),
    _f(425, "l2ca_bias_m", 16, "s", 0.02, -32768),
    _f(426, "l2p_bias_m", 16, "s", 0.02, -32768),
    # ---- legacy GPS observations 1001-1004 -------------------------------------------------------
    _f(9, "prn", 6),
    _f(10, "l1_code", 1),
    _f(11, "l1_pr_mod_m", 24, "u", 0.02, 0x800000),
    _f(12, "l1_cp_minus_pr_m", 20, "s", 0.0005, -0x80000),
    _f(13, "l1_lock", 7),
    _f(14, "l1_pr_amb", 8),
    _f(15, "l1_cn0_dbhz", 8, "u", 0.25, 0),
    _f(16, "l2_code", 2),
    _f(17, "l2_minus_l1_pr_m", 14, "s", 0.02, -0x2000),
    _f(18, "l2_cp_minus_l1_pr_m", 20, "s", 0.0005, -0x80000),
    _f(19, "l2_lock", 7),
    _f(20, "l2_cn0_dbhz", 8, "u", 0.25, 0),
    # ---- legacy GLONASS observations 1009-1012 ---------------------------------------------------
    _f(34, "tod_ms", 27),
    _f(35, "n_sat", 5),
    _f(36, "smoothing", 1),
    _f(37, "smoothing_interval", 3),
    _f(38, "slot", 6),
    _f(39, "l1_code", 1),
    _f(40, "fcn_plus7", 5),
    _f(41, "l1_pr_mod_m", 25, "u", 0.02, 0x1000000),
    _f(42, "l1_cp_minus_pr_m", 20, "s", 0.0005, -0x80000),
    _f(43, "l1_lock", 7),
    _f(44, "l1_pr_amb", 7),
    _f(45, "l1_cn0_dbhz", 8, "u", 0.25, 0),
    _f(46, "l2_code", 2),
    _f(47, "l2_minus_l1_pr_m", 14, "s", 0.02, -0x2000),
    _f(48, "l2_cp_minus_l1_pr_m", 20, "s", 0.0005, -0x80000),
    _f(49, "l2_lock", 7),
    _f(50, "l2_cn0_dbhz", 8, "u", 0.25, 0),
    # ---- GPS ephemeris 1019 (IS-GPS-200 §20.3.3.4 scale factors) -----------------------------------
    _f(76, "week", 10),
    _f(77, "ura_index", 4),
    _f(78, "l2_codes", 2),
    _f(79, "idot_scps", 14, "s", P2**-43),
    _f(71, "iode", 8),
    _f(81, "toc_s", 16, "u", 16.0),
    _f(82, "af2_sps2", 8, "s", P2**-55),
    _f(83, "af1_sps", 16, "s", P2**-43),
    _f(84, "af0_s", 22, "s", P2**-31),
    _f(85, "iodc", 10),
    _f(86, "crs_m", 16, "s", P2**-5),
    _f(87, "delta_n_scps", 16, "s", P2**-43),
    _f(88, "m0_sc", 32, "s", P2**-31),
    _f(89, "cuc_rad", 16, "s", P2**-29),
    _f(90, "ecc", 32, "u", P2**-33),
    _f(91, "cus_rad", 16, "s", P2**-29),
    _f(92, "sqrt_a_sqrtm", 32, "u", P2**-19),
    _f(93, "toe_s", 16, "u", 16.0),
    _f(94, "cic_rad", 16, "s", P2**-29),
    _f(95, "omega0_sc", 32, "s", P2**-31),
    _f(96, "cis_rad", 16, "s", P2**-29),
    _f(97, "i0_sc", 32, "s", P2**-31),
    _f(98, "crc_m", 16, "s", P2**-5),
    _f(99, "omega_sc", 32, "s", P2**-31),
    _f(100, "omega_dot_scps", 24, "s", P2**-43),
    _f(101, "tgd_s", 8, "s", P2**-31),
    _f(102, "health", 6),
    _f(103, "l2p_data_flag", 1),
    _f(137, "fit_interval", 1),
    # ---- GLONASS ephemeris 1020 (GLONASS ICD 5.1 §4.4) --------------------------------------------
    _f(104, "almanac_health", 1),
    _f(105, "health_available", 1),
    _f(106, "p1", 2),
    _f(107, "tk", 12),
    _f(108, "bn_msb", 1),
    _f(109, "p2", 1),
    _f(110, "tb_min", 7, "u", 15.0),
    _f(111, "vx_kmps", 24, "m", P2**-20),
    _f(112, "x_km", 27, "m", P2**-11),
    _f(113, "ax_kmps2", 5, "m", P2**-30),
    _f(114, "vy_kmps", 24, "m", P2**-20),
    _f(115, "y_km", 27, "m", P2**-11),
    _f(116, "ay_kmps2", 5, "m", P2**-30),
    _f(117, "vz_kmps", 24, "m", P2**-20),
    _f(118, "z_km", 27, "m", P2**-11),
    _f(119, "az_kmps2", 5, "m", P2**-30),
    _f(120, "p3", 1),
    _f(121, "gamma", 11, "m", P2**-40),
    _f(122, "p", 2),
    _f(123, "ln3", 1),
    _f(124, "tau_n_s", 22, "m", P2**-30),
    _f(125, "delta_tau_s", 5, "m", P2**-30),
    _f(126, "en_day", 5),
    _f(127, "p4", 1),
    _f(128, "ft", 4),
    _f(129, "nt_day", 11),
    _f(130, "glo_m", 2),
    _f(131, "additional", 1),
    _f(132, "na_day", 11),
    _f(133, "tau_c_s", 32, "m", P2**-31),
    _f(134, "n4", 5),
    _f(135, "tau_gps_s", 22, "m", P2**-30),
    _f(136, "ln5", 1),
    # ---- Galileo ephemeris 1045/1046 (Galileo OS SIS ICD §5.1) ------------------------------------
    _f(252, "prn", 6),
    _f(289, "week", 12),
    _f(290, "iod_nav", 10),
    _f(291, "sisa_index", 8),
    _f(286, "sisa_index", 8),
    _f(292, "idot_scps", 14, "s", P2**-43),
    _f(293, "toc_s", 14, "u", 60.0),
    _f(294, "af2_sps2", 6, "s", P2**-59),
    _f(295, "af1_sps", 21, "s", P2**-46),
    _f(296, "af0_s", 31, "s", P2**-34),
    _f(297, "crs_m", 16, "s", P2**-5),
    _f(298, "delta_n_scps", 16, "s", P2**-43),
    _f(299, "m0_sc", 32, "s", P2**-31),
    _f(300, "cuc_rad", 16, "s", P2**-29),
    _f(301, "ecc", 32, "u", P2**-33),
    _f(302, "cus_rad", 16, "s", P2**-29),
    _f(303, "sqrt_a_sqrtm", 32, "u", P2**-19),
    _f(304, "toe_s", 14, "u", 60.0),
    _f(305, "cic_rad", 16, "s", P2**-29),
    _f(306, "omega0_sc", 32, "s", P2**-31),
    _f(307, "cis_rad", 16, "s", P2**-29),
    _f(308, "i0_sc", 32, "s", P2**-31),
    _f(309, "crc_m", 16, "s", P2**-5),
    _f(310, "omega_sc", 32, "s", P2**-31),
    _f(311, "omega_dot_scps", 24, "s", P2**-43),
    _f(312, "bgd_e5a_e1_s", 10, "s", P2**-32),
    _f(313, "bgd_e5b_e1_s", 10, "s", P2**-32),
    _f(314, "e5a_health", 2),
    _f(315, "e5a_validity", 1),
    _f(316, "e5b_health", 2),
    _f(317, "e5b_validity", 1),
    _f(287, "e1b_health", 2),
    _f(288, "e1b_validity", 1),
    # ---- QZSS ephemeris 1044 (IS-QZSS-PNT §4.1.2) -------------------------------------------------
    _f(429, "prn_minus_192", 4),
    _f(430, "toc_s", 16, "u", 16.0),
    _f(431, "af2_sps2", 8, "s", P2**-55),
    _f(432, "af1_sps", 16, "s", P2**-43),
    _f(433, "af0_s", 22, "s", P2**-31),
    _f(434, "iode", 8),
    _f(435, "crs_m", 16, "s", P2**-5),
    _f(436, "delta_n_scps", 16, "s", P2**-43),
    _f(437, "m0_sc", 32, "s", P2**-31),
    _f(438, "cuc_rad", 16, "s", P2**-29),
    _f(439, "ecc", 32, "u", P2**-33),
    _f(440, "cus_rad", 16, "s", P2**-29),
    _f(441, "sqrt_a_sqrtm", 32, "u", P2**-19),
    _f(442, "toe_s", 16, "u", 16.0),
    _f(443, "cic_rad", 16, "s", P2**-29),
    _f(444, "omega0_sc", 32, "s", P2**-31),
    _f(445, "cis_rad", 16, "s", P2**-29),
    _f(446, "i0_sc", 32, "s", P2**-31),
    _f(447, "crc_m", 16, "s", P2**-5),
    _f(448, "omega_sc", 32, "s", P2**-31),
    _f(449, "omega_dot_scps", 24, "s", P2**-43),
    _f(450, "idot_scps", 14, "s", P2**-43),
    _f(451, "l2_codes", 2),
    _f(452, "week", 10),
    _f(453, "ura_index", 4),
    _f(454, "health", 6),
    _f(455, "tgd_s", 8, "s", P2**-31),
    _f(456, "iodc", 10),
    _f(457, "fit_interval", 1),
    # ---- BeiDou ephemeris 1042 (BDS-SIS-ICD-B1I-3.0 §5.2.4) ---------------------------------------
    _f(488, "prn", 6),
    _f(489, "week", 13),
    _f(490, "urai", 4),
    _f(491, "idot_scps", 14, "s", P2**-43),
    _f(492, "aode", 5),
    _f(493, "toc_s", 17, "u", 8.0),
    _f(494, "af2_sps2", 11, "s", P2**-66),
    _f(495, "af1_sps", 22, "s", P2**-50),
    _f(496, "af0_s", 24, "s", P2**-33),
    _f(497, "aodc", 5),
    _f(498, "crs_m", 18, "s", P2**-6),
    _f(499, "delta_n_scps", 16, "s", P2**-43),
    _f(500, "m0_sc", 32, "s", P2**-31),
    _f(501, "cuc_rad", 18, "s", P2**-31),
    _f(502, "ecc", 32, "u", P2**-33),
    _f(503, "cus_rad", 18, "s", P2**-31),
    _f(504, "sqrt_a_sqrtm", 32, "u", P2**-19),
    _f(505, "toe_s", 17, "u", 8.0),
    _f(506, "cic_rad", 18, "s", P2**-31),
    _f(507, "omega0_sc", 32, "s", P2**-31),
    _f(508, "cis_rad", 18, "s", P2**-31),
    _f(509, "i0_sc", 32, "s", P2**-31),
    _f(510, "crc_m", 18, "s", P2**-6),
    _f(511, "omega_sc", 32, "s", P2**-31),
    _f(512, "omega_dot_scps", 24, "s", P2**-43),
    _f(513, "tgd1_s", 10, "s", 1e-10),
    _f(514, "tgd2_s", 10, "s", 1e-10),
    _f(515, "health", 1),
)

_NETWORK_ROWS = (
    # ---- network RTK: MAC 1014-1017 (RTCM 10403.3 §3.5.6) -------------------------------------------
    _f(58, "n_aux", 5),
    _f(59, "network_id", 8),
    _f(60, "master_id", 12),
    _f(61, "aux_id", 12),
    _f(62, "aux_dlat_deg", 20, "s", 25e-6),
    _f(63, "aux_dlon_deg", 21, "s", 25e-6),
    _f(64, "aux_dh_m", 23, "s", 1e-3),
    _f(65, "tow_s", 23, "u", 0.1),
    _f(66, "multiple", 1),
    _f(67, "n_sat", 4),
    _f(68, "prn", 6),
    _f(69, "iono_diff_m", 17, "s", 5e-4, -65536),
    _f(70, "geo_diff_m", 17, "s", 5e-4, -65536),
    _f(72, "subnetwork_id", 4),
    _f(74, "amb_status", 2),
    _f(75, "non_sync", 3),
    # ---- transformation parameters 1021-1027 (RTCM 10403.3 §3.5.9) ----------------------------------
    _f(143, "source_name_len", 5),
    _f(144, "source_name", 8, "c"),
    _f(145, "target_name_len", 5),
    _f(146, "target_name", 8, "c"),
    _f(147, "system_id", 8),
    _f(148, "utilized_messages", 10),
    _f(149, "plate", 5),
    _f(150, "computation", 4),
    _f(151, "height_indicator", 2),
    _f(152, "valid_lat_as", 19, "s", 2.0),
    _f(153, "valid_lon_as", 20, "s", 2.0),
    _f(154, "valid_dlat_as", 14, "u", 2.0),
    _f(155, "valid_dlon_as", 14, "u", 2.0),
    _f(156, "dx_m", 23, "s", 1e-3),
    _f(157, "dy_m", 23, "s", 1e-3),
    _f(158, "dz_m", 23, "s", 1e-3),
    _f(159, "r1_as", 32, "s", 2e-5),
    _f(160, "r2_as", 32, "s", 2e-5),
    _f(161, "r3_as", 32, "s", 2e-5),
    _f(162, "ds_ppm", 25, "s", 1e-5),
    _f(163, "xp_m", 35, "s", 1e-3),
    _f(164, "yp_m", 35, "s", 1e-3),
    _f(165, "zp_m", 35, "s", 1e-3),
    _f(166, "add_as_m", 24, "u", 1e-3),
    _f(167, "add_bs_m", 25, "u", 1e-3),
    _f(168, "add_at_m", 24, "u", 1e-3),
    _f(169, "add_bt_m", 25, "u", 1e-3),
    _f(170, "projection", 6),
    _f(171, "lat_no_as", 34, "s", 0.011),
    _f(172, "lon_no_as", 35, "s", 0.011),
    _f(173, "add_sno_ppm", 30, "u", 1e-5),
    _f(174, "false_easting_m", 36, "u", 1e-3),
    _f(175, "false_northing_m", 35, "s", 1e-3),
    _f(176, "lat_fo_as", 34, "s", 0.011),
    _f(177, "lon_fo_as", 35, "s", 0.011),
    _f(178, "lat_sp1_as", 34, "s", 0.011),
    _f(179, "lat_sp2_as", 34, "s", 0.011),
    _f(180, "easting_fo_m", 36, "u", 1e-3),
    _f(181, "northing_fo_m", 35, "s", 1e-3),
    _f(182, "rectification", 1),
    _f(183, "lat_pc_as", 34, "s", 0.011),
    _f(184, "lon_pc_as", 35, "s", 0.011),
    _f(185, "azimuth_il_as", 35, "u", 0.011),
    _f(186, "diff_arsg_as", 26, "s", 0.011),
    _f(187, "add_sil_ppm", 30, "u", 1e-5),
    _f(188, "easting_pc_m", 36, "u", 1e-3),
    _f(189, "northing_pc_m", 35, "s", 1e-3),
    _f(190, "horizontal_shift", 1),
    _f(191, "vertical_shift", 1),
    _f(192, "grid_lat0_as", 21, "s", 0.5),
    _f(193, "grid_lon0_as", 22, "s", 0.5),
    _f(194, "grid_dlat_as", 12, "u", 0.5),
    _f(195, "grid_dlon_as", 12, "u", 0.5),
    _f(196, "mean_dlat_as", 8, "s", 1e-3),
    _f(197, "mean_dlon_as", 8, "s", 1e-3),
    _f(198, "mean_dh_m", 15, "s", 0.01),
    _f(199, "res_lat_as", 9, "s", 3e-5),
    _f(200, "res_lon_as", 9, "s", 3e-5),
    _f(201, "res_h_m", 9, "s", 1e-3),
    _f(202, "grid_n0_m", 25, "s", 10.0),
    _f(203, "grid_e0_m", 26, "u", 10.0),
    _f(204, "grid_dn_m", 12, "u", 10.0),
    _f(205, "grid_de_m", 12, "u", 10.0),
    _f(206, "mean_dn_m", 10, "s", 0.01),
    _f(207, "mean_de_m", 10, "s", 0.01),
    _f(208, "mean_dh_local_m", 15, "s", 0.01),
    _f(209, "res_n_m", 9, "s", 1e-3),
    _f(210, "res_e_m", 9, "s", 1e-3),
    _f(211, "res_h_local_m", 9, "s", 1e-3),
    _f(212, "horizontal_interpolation", 2),
    _f(213, "vertical_interpolation", 2),
    _f(214, "horizontal_quality", 3),
    _f(215, "vertical_quality", 3),
    _f(216, "horizontal_grid_quality", 3),
    _f(217, "vertical_grid_quality", 3),
    # ---- network residuals 1030/1031/1303, FKP 1034/1035 (RTCM 10403.3 §3.5.10, §3.5.11) -------------
    _f(218, "soc_m", 8, "u", 5e-4),
    _f(219, "sod_ppm", 9, "u", 0.01),
    _f(220, "soh_ppm", 6, "u", 0.1),
    _f(221, "sic_m", 10, "u", 5e-4),
    _f(222, "sid_ppm", 10, "u", 0.01),
    _f(223, "n_refs", 7),
    _f(224, "tow_s", 20),
    _f(225, "tk_s", 17),
    _f(571, "tow_s", 20),
    _f(572, "n_sat", 5),
    _f(240, "tow_s", 20),
    _f(241, "tk_s", 17),
    _f(242, "n0_ppm", 12, "s", 0.01),
    _f(243, "e0_ppm", 12, "s", 0.01),
    _f(244, "ni_ppm", 14, "s", 0.01),
    _f(245, "ei_ppm", 14, "s", 0.01),
    _f(392, "iod", 8),
    # ---- state-space representation 1057-1068, 1258-1263 (RTCM 10403.3 §3.5.13) ----------------------
    _f(385, "epoch_s", 20),
    _f(386, "epoch_s", 17),
    _f(465, "epoch_s", 20),
    _f(391, "update_interval", 4),
    _f(388, "multiple", 1),
    _f(375, "ref_datum", 1),
    _f(413, "iod_ssr", 4),
    _f(414, "provider_id", 16),
    _f(415, "solution_id", 4),
    _f(387, "n_sat", 6),
    _f(384, "slot", 5),
    _f(470, "toe_mod_s", 10, "u", 8.0),
    _f(471, "iod", 8),
    _f(365, "radial_m", 22, "s", 1e-4),
    _f(366, "along_m", 20, "s", 4e-4),
    _f(367, "cross_m", 20, "s", 4e-4),
    _f(368, "radial_rate_mps", 21, "s", 1e-6),
    _f(369, "along_rate_mps", 19, "s", 4e-6),
    _f(370, "cross_rate_mps", 19, "s", 4e-6),
    _f(376, "c0_m", 22, "s", 1e-4),
    _f(377, "c1_mps", 21, "s", 1e-6),
    _f(378, "c2_mps2", 27, "s", 2e-8),
    _f(379, "n_bias", 5),
    _f(380, "signal_id", 5),
    _f(381, "signal_id", 5),
    _f(467, "signal_id", 5),
    _f(383, "code_bias_m", 14, "s", 0.01),
    _f(389, "ura", 6),
    _f(390, "hr_clock_m", 22, "s", 1e-4),
)

#: ``DF["DF025"]`` -> :class:`DataField`.
DF: dict[str, DataField] = {row.df: row for row in (*_ROWS, *_NETWORK_ROWS)}
