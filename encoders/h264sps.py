"""The few facts of an H.264 sequence parameter set that ffprobe reports about a video.

An MP4 keeps the SPS in its index ('avcC'), so the picture's size, chroma format, bit depth
and colour signalling are known without decoding a frame. Parsing follows ITU-T H.264
§7.3.2.1.1 (seq_parameter_set_data) and Annex E.1.1 (vui_parameters) up to the colour
description; anything this reader does not model raises ValueError, and the caller then asks
ffprobe.
"""
from __future__ import annotations

from dataclasses import dataclass

# profile_idc values whose SPS carries chroma_format_idc, bit depths and scaling matrices.
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class Sps:
    sps_id: int
    width: int                 # displayed (cropped) size
    height: int
    chroma_format: int         # 1 = 4:2:0
    bit_depth: int             # luma; chroma is checked to match
    frame_mbs_only: bool       # False: fields (interlaced)
    crop_left_top: bool        # cropping from the left or top, which ffmpeg may reduce
    full_range: bool | None    # video_full_range_flag; None without video_signal_type
    matrix: int | None         # matrix_coefficients; None without colour_description


class _Bits:
    """Big-endian bit reader over an RBSP (emulation-prevention bytes already removed)."""

    def __init__(self, data: bytes):
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def u(self, n: int) -> int:
        if n > self.left:
            raise ValueError("SPS ends early")
        self.left -= n
        return (self.value >> self.left) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("SPS has an invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def rbsp(nal: bytes) -> bytes:
    """The NAL unit's payload without its header byte and emulation-prevention bytes (00 00 03)."""
    out = bytearray()
    zeros = 0
    for byte in nal[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def parse_sps(nal: bytes) -> Sps:
    """The SPS NAL unit (header byte included) → Sps; ValueError if it is not one or is cut short."""
    if not nal or nal[0] & 0x1F != 7:
        raise ValueError("not an SPS NAL unit")
    b = _Bits(rbsp(nal))
    profile = b.u(8)
    b.u(16)  # constraint flags, level_idc
    sps_id = _check(b.ue(), 31, "seq_parameter_set_id")
    chroma, depth_luma, depth_chroma = 1, 8, 8
    if profile in _HIGH_PROFILES:
        chroma = _check(b.ue(), 3, "chroma_format_idc")
        if chroma == 3 and b.u(1):
            raise ValueError("SPS codes colour planes separately")
        depth_luma, depth_chroma = b.ue() + 8, b.ue() + 8
        if depth_luma != depth_chroma or not 8 <= depth_luma <= 14:
            raise ValueError("SPS bit depths")
        b.u(1)  # qpprime_y_zero_transform_bypass_flag
        _skip_scaling_matrices(b, 8 if chroma != 3 else 12)
    _check(b.ue(), 12, "log2_max_frame_num_minus4")
    poc_type = _check(b.ue(), 2, "pic_order_cnt_type")
    if poc_type == 0:
        _check(b.ue(), 12, "log2_max_pic_order_cnt_lsb_minus4")
    elif poc_type == 1:
        b.u(1)
        b.se()
        b.se()
        for _ in range(_check(b.ue(), 255, "num_ref_frames_in_pic_order_cnt_cycle")):
            b.se()
    _check(b.ue(), 16, "max_num_ref_frames")
    b.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = b.ue() + 1, b.ue() + 1
    frame_mbs_only = bool(b.u(1))
    height_mbs = height_units * (2 - frame_mbs_only)
    if (16 * width_mbs + 128) * (16 * height_mbs + 128) >= 2**31 // 8:  # ffmpeg's image size limit
        raise ValueError("SPS picture size")
    if not frame_mbs_only:
        b.u(1)  # mb_adaptive_frame_field_flag
    b.u(1)  # direct_8x8_inference_flag
    crop = (b.ue(), b.ue(), b.ue(), b.ue()) if b.u(1) else (0, 0, 0, 0)
    unit_x = 2 if chroma in (1, 2) else 1
    unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    if (crop[0] + crop[1]) * unit_x >= 16 * width_mbs or (crop[2] + crop[3]) * unit_y >= 16 * height_mbs:
        raise ValueError("SPS crops the whole picture")
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = height_mbs * 16 - unit_y * (crop[2] + crop[3])
    full_range = matrix = None
    if b.u(1):  # vui_parameters_present_flag
        full_range, matrix = _vui(b)
    if b.left < 1 or b.u(1) != 1:  # rbsp_stop_one_bit: anything else is a cut or misread SPS
        raise ValueError("SPS ends early")
    return Sps(sps_id, width, height, chroma, depth_luma, frame_mbs_only, bool(crop[0] or crop[2]),
               full_range, matrix)


def _vui(b: _Bits) -> tuple[bool | None, int | None]:
    """vui_parameters (Annex E.1.1) with the checks on which ffmpeg rejects the SPS."""
    full_range = matrix = None
    if b.u(1):  # aspect_ratio_info_present_flag
        idc = b.u(8)
        if idc == 255:  # Extended_SAR
            b.u(32)
        elif idc > 16:
            raise ValueError("VUI aspect_ratio_idc")
    if b.u(1):  # overscan_info_present_flag
        b.u(1)
    if b.u(1):  # video_signal_type_present_flag
        b.u(3)  # video_format
        full_range = bool(b.u(1))
        if b.u(1):  # colour_description_present_flag
            b.u(16)  # colour_primaries, transfer_characteristics
            matrix = b.u(8)
    if b.u(1):  # chroma_loc_info_present_flag
        b.ue()
        b.ue()
    if b.u(1):  # timing_info_present_flag
        b.u(32)
        b.u(32)
        b.u(1)
    nal_hrd, vcl_hrd = b.u(1) and _skip_hrd(b), b.u(1) and _skip_hrd(b)
    if nal_hrd or vcl_hrd:
        b.u(1)  # low_delay_hrd_flag
    b.u(1)  # pic_struct_present_flag
    if b.u(1):  # bitstream_restriction_flag
        b.u(1)
        for _ in range(4):
            b.ue()
        _check(b.ue(), 16, "max_num_reorder_frames")
        b.ue()  # max_dec_frame_buffering
    return full_range, matrix


def _skip_hrd(b: _Bits) -> bool:
    count = _check(b.ue(), 31, "cpb_cnt_minus1") + 1
    b.u(8)  # bit_rate_scale, cpb_size_scale
    for _ in range(count):
        b.ue()
        b.ue()
        b.u(1)
    b.u(20)  # four delay and offset lengths
    return True


def _skip_scaling_matrices(b: _Bits, lists: int) -> None:
    if b.u(1):  # *_scaling_matrix_present_flag
        for i in range(lists):
            if b.u(1):
                _skip_scaling_list(b, 16 if i < 6 else 64)


def _skip_scaling_list(b: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            delta = b.se()
            if not -128 <= delta <= 127:
                raise ValueError("scaling list delta")
            nxt = (last + delta + 256) % 256
        last = nxt or last


def _check(value: int, most: int, what: str) -> int:
    if value > most:
        raise ValueError(f"{what} {value} is out of range")
    return value


def check_pps(nal: bytes, sps_id: int, extended: bool) -> None:
    """ValueError unless the PPS is one ffmpeg's decoder takes for this SPS: ids in range and
    matching, one slice group, reference counts, QP and chroma offsets in range (§7.3.2.2).
    `extended`: the PPS may go on with the 8×8 transform and scaling fields (ffmpeg reads them
    unless the SPS is Baseline, Main or Extended with a constraint flag for those set)."""
    if not nal or nal[0] & 0x1F != 8:
        raise ValueError("not a PPS NAL unit")
    b = _Bits(rbsp(nal))
    _check(b.ue(), 255, "pic_parameter_set_id")
    if b.ue() != sps_id:
        raise ValueError("PPS refers to another SPS")
    b.u(2)  # entropy_coding_mode_flag, bottom_field_pic_order_in_frame_present_flag
    _check(b.ue(), 0, "num_slice_groups_minus1")
    _check(b.ue(), 31, "num_ref_idx_l0_default_active_minus1")
    _check(b.ue(), 31, "num_ref_idx_l1_default_active_minus1")
    b.u(3)  # weighted_pred_flag, weighted_bipred_idc
    for what in ("pic_init_qp_minus26", "pic_init_qs_minus26"):
        if not -26 <= b.se() <= 25:
            raise ValueError(f"PPS {what}")
    if not -12 <= b.se() <= 12:
        raise ValueError("PPS chroma_qp_index_offset")
    b.u(3)  # deblocking, constrained intra, redundant_pic_cnt
    if extended and _more_rbsp_data(b):
        transform_8x8 = b.u(1)
        _skip_scaling_matrices(b, 6 + 2 * transform_8x8)
        if not -12 <= b.se() <= 12:
            raise ValueError("PPS second_chroma_qp_index_offset")
    if not _more_rbsp_data(b) and b.left and b.u(1) == 1:
        return
    raise ValueError("PPS does not end where its fields do")


def _more_rbsp_data(b: _Bits) -> bool:
    """Whether data bits remain before the rbsp_stop_one_bit (the last 1 bit, zeros after it)."""
    rest = b.value & ((1 << b.left) - 1) if b.left > 0 else 0
    return rest != 0 and not (rest & (rest - 1) == 0 and rest.bit_length() == b.left)


def parse_avcc(record: bytes) -> Sps:
    """The SPS of an 'avcC' record (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 §5.3.3), checked
    with its PPSs; ValueError for several SPS, no PPS, or a length that runs past the record."""
    if len(record) < 8 or record[0] != 1:
        raise ValueError("not an avcC record")
    if record[5] & 0x1F != 1:
        raise ValueError(f"avcC holds {record[5] & 0x1F} SPS")
    nals, pos = [], 6
    for count in (1, None):
        if count is None:
            if pos >= len(record):
                raise ValueError("avcC has no PPS count")
            count, pos = record[pos], pos + 1
        for _ in range(count):
            length = int.from_bytes(record[pos:pos + 2], "big")
            if length == 0 or pos + 2 + length > len(record):
                raise ValueError("avcC parameter set runs past its box")
            nals.append(record[pos + 2:pos + 2 + length])
            pos += 2 + length
    if len(nals) < 2:
        raise ValueError("avcC holds no PPS")
    sps = parse_sps(nals[0])
    extended = not (nals[0][1] in (66, 77, 88) and nals[0][2] & 0xE0)
    for pps in nals[1:]:
        check_pps(pps, sps.sps_id, extended)
    return sps
