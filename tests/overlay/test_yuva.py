"""overlay.yuva: RGBA to yuva420p, C against numpy, against the formulas and against ffmpeg.

The C converter (overlay._yuva) must give the numpy reference's planes bit for
bit; the tests that need it skip when it is not built. The numpy one always
runs, against known values and against ffmpeg's own conversion.
"""
from __future__ import annotations

import math
import pickle
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest

from overlay import yuva
from overlay.yuva import MATRICES, YuvaFormat, convert_numpy, converter

FORMATS = [YuvaFormat(m, full) for m in MATRICES for full in (False, True)]
needs_ffmpeg = pytest.mark.skipif(not shutil.which("ffmpeg"), reason="no ffmpeg")


@pytest.fixture(scope="module")
def native():
    mod = pytest.importorskip("overlay._yuva",
                              reason="C extension overlay._yuva not built (pip install -e . builds it)")
    if not yuva.native_available():
        pytest.skip("overlay._yuva is a stale build (MATH_VERSION differs): rebuild with pip install -e .")
    return mod


@pytest.fixture(params=["numpy", "C"])
def convert_with(request):
    """fmt -> convert(src, y, u, v, a), for each implementation."""
    if request.param == "C":
        request.getfixturevalue("native")
        return converter
    return lambda fmt: partial(convert_numpy, fmt)


def planes(h: int, w: int) -> list[np.ndarray]:
    return [np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8),
            np.zeros((h // 2, w // 2), np.uint8), np.zeros((h, w), np.uint8)]


def random_rgba(rng, h: int, w: int) -> np.ndarray:
    """Random colours; alpha mostly 0 or 255 (whole blocks of either, too), the rest anything."""
    src = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    src[..., 3] = np.where(rng.random((h, w)) < 0.6, rng.choice(np.array([0, 255], np.uint8), (h, w)), src[..., 3])
    src[: h // 2, : w // 4, 3] = 0
    src[h // 2:, : w // 4, 3] = 255
    return src


def solid(rgb, alpha=255, h=2, w=2) -> np.ndarray:
    src = np.empty((h, w, 4), np.uint8)
    src[..., :3] = rgb
    src[..., 3] = alpha
    return src


def run(convert, src) -> list[np.ndarray]:
    out = planes(*src.shape[:2])
    convert(src, *out)
    return out


# (a) C and numpy, bit for bit ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("h, w", [(2, 2), (4, 6), (16, 30), (48, 64), (6, 514), (10, 1030), (244, 780)])
def test_native_matches_numpy_into_strided_views(native, fmt, h, w):
    rng = np.random.default_rng(h * 10007 + w)
    # The source a sub-rectangle too: rows strided, pixels contiguous.
    big_src = random_rgba(rng, h + 3, w + 5)
    src = big_src[1:1 + h, 2:2 + w]
    want = run(partial(convert_numpy, fmt), src)

    fill = 77
    shapes = [(h, w), (h // 2, w // 2), (h // 2, w // 2), (h, w)]
    offsets = [(3, 5), (1, 3), (2, 1), (1, 4)]  # of each plane's view in its bigger array
    atlases = [np.full((ph + 4, pw + 9), fill, np.uint8) for ph, pw in shapes]
    views = [at[y0:y0 + ph, x0:x0 + pw] for at, (y0, x0), (ph, pw) in zip(atlases, offsets, shapes)]
    converter(fmt)(src, *views)
    for name, view, expected, atlas in zip("yuva", views, want, atlases):
        np.testing.assert_array_equal(view, expected, err_msg=f"plane {name}")
        view[...] = fill
        assert (atlas == fill).all(), f"plane {name}: written outside its view"


def test_native_is_thread_safe(native):
    """Several threads converting at once (the GIL is released) get the planes of one at a time."""
    rng = np.random.default_rng(5)
    srcs = [random_rgba(rng, 120, 200) for _ in range(8)]
    conv = converter(YuvaFormat("bt709", False))
    want = [run(partial(convert_numpy, YuvaFormat("bt709", False)), s) for s in srcs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda s: run(conv, s), srcs * 5))
    for i, out in enumerate(got):
        for p, q in zip(out, want[i % len(srcs)]):
            np.testing.assert_array_equal(p, q)


def test_converter_picks_native_when_built():
    conv = converter(YuvaFormat())
    assert isinstance(conv, partial) != yuva.native_available()


# (b) known values --------------------------------------------------------------------------------

@pytest.mark.parametrize("full, rgb, want", [
    (False, (255, 255, 255), (235, 128, 128)), (False, (0, 0, 0), (16, 128, 128)),
    (False, (128, 128, 128), (126, 128, 128)),  # 16 + 219 * 128/255 = 125.93
    (True, (255, 255, 255), (255, 128, 128)), (True, (0, 0, 0), (0, 128, 128)),
    (True, (128, 128, 128), (128, 128, 128)),
])
@pytest.mark.parametrize("matrix", list(MATRICES))
def test_greys(convert_with, matrix, full, rgb, want):
    y, u, v, a = run(convert_with(YuvaFormat(matrix, full)), solid(rgb))
    assert (int(y[0, 0]), int(u[0, 0]), int(v[0, 0])) == want
    assert (y == want[0]).all() and (a == 255).all()


def expected_yuv(fmt: YuvaFormat, rgb) -> tuple[int, int, int]:
    """The textbook formulas in floating point, rounded half up and clipped to the range."""
    kr, kb = MATRICES[fmt.matrix]
    r, g, b = (c / 255 for c in rgb)
    luma = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    if fmt.full_range:
        vals, ranges = (255 * luma, 128 + 255 * cb, 128 + 255 * cr), ((0, 255),) * 3
    else:
        vals, ranges = (16 + 219 * luma, 128 + 224 * cb, 128 + 224 * cr), ((16, 235), (16, 240), (16, 240))
    return tuple(min(max(math.floor(x + 0.5), lo), hi) for x, (lo, hi) in zip(vals, ranges))


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("rgb", [(255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 100, 50), (17, 233, 149)])
def test_colours_follow_the_formulas(convert_with, fmt, rgb):
    y, u, v, _ = run(convert_with(fmt), solid(rgb))
    assert (int(y[0, 0]), int(u[0, 0]), int(v[0, 0])) == expected_yuv(fmt, rgb)


def test_alpha_is_copied(convert_with):
    rng = np.random.default_rng(3)
    src = rng.integers(0, 256, (6, 8, 4), dtype=np.uint8)
    _, _, _, a = run(convert_with(YuvaFormat()), src)
    np.testing.assert_array_equal(a, src[..., 3])


# (c) against ffmpeg ------------------------------------------------------------------------------

def gradient_picture() -> np.ndarray:
    """64x48: smooth gradients, flat patches of colour, a transparent and a half-transparent corner."""
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    src = np.empty((h, w, 4), np.uint8)
    src[..., 0] = xx * 255 // (w - 1)
    src[..., 1] = yy * 255 // (h - 1)
    src[..., 2] = 255 - (xx + yy) * 255 // (w + h - 2)
    src[..., 3] = 255
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (128, 128, 128),
               (255, 255, 0), (0, 255, 255), (255, 0, 255), (200, 100, 50), (20, 40, 60), (17, 233, 149)]
    for i, rgb in enumerate(colours):
        top, left = 24 + 8 * (i // 6), 16 + 8 * (i % 6)
        src[top:top + 8, left:left + 8, :3] = rgb
    src[:8, :8, 3] = 0
    src[8:11, :16, 3] = 128
    return src


def ffmpeg_yuva(src: np.ndarray, fmt: YuvaFormat, tmp_path) -> list[np.ndarray]:
    # flags=area: swscale's 4:2:0 chroma is then the plain mean of each 2x2 block, as
    # ours is for opaque blocks (its default bicubic filter also reaches into the
    # neighbouring blocks, which would differ wherever the colour changes).
    h, w = src.shape[:2]
    raw_in, raw_out = tmp_path / "in.raw", tmp_path / "out.raw"
    raw_in.write_bytes(src.tobytes())
    rng = "full" if fmt.full_range else "limited"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}",
                    "-i", str(raw_in), "-vf", f"scale=out_range={rng}:out_color_matrix={fmt.matrix}:flags=area,"
                    "format=yuva420p", "-f", "rawvideo", "-y", str(raw_out)], check=True, timeout=60)
    data = np.frombuffer(raw_out.read_bytes(), np.uint8)
    n, q = h * w, h * w // 4
    assert data.size == 2 * n + 2 * q
    return [data[:n].reshape(h, w), data[n:n + q].reshape(h // 2, w // 2),
            data[n + q:n + 2 * q].reshape(h // 2, w // 2), data[n + 2 * q:].reshape(h, w)]


@needs_ffmpeg
@pytest.mark.parametrize("fmt", [YuvaFormat("bt709", False), YuvaFormat("bt709", True), YuvaFormat("bt601", False),
                                 YuvaFormat("bt601", True), YuvaFormat("bt2020", False)], ids=str)
def test_agrees_with_ffmpeg(convert_with, fmt, tmp_path):
    src = gradient_picture()
    ours = run(convert_with(fmt), src)
    theirs = ffmpeg_yuva(src, fmt, tmp_path)
    opaque = src[..., 3] == 255
    blocks = opaque.reshape(24, 2, 32, 2).all(axis=(1, 3))  # swscale's chroma is unweighted: opaque blocks only
    assert blocks.sum() > 600
    for name, mine, ref, where in zip("yuv", ours, theirs, (opaque, blocks, blocks)):
        diff = np.abs(mine.astype(int) - ref)[where]
        assert diff.max() <= 1, f"plane {name}: off by up to {diff.max()} from ffmpeg"
    # swscale rounds some alphas (128 -> 129); ours copies them exactly.
    assert np.abs(ours[3].astype(int) - theirs[3]).max() <= 1


# (d) chroma of the alpha-weighted colour ---------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_chroma_is_of_the_alpha_weighted_colour(convert_with, fmt):
    conv = convert_with(fmt)
    red = run(conv, solid((255, 0, 0)))
    edge = solid((0, 0, 0), alpha=0)
    edge[0, 1] = (255, 0, 0, 255)  # one opaque red pixel, three transparent black ones
    y, u, v, a = run(conv, edge)
    assert (u[0, 0], v[0, 0]) == (red[1][0, 0], red[2][0, 0])
    assert (int(u[0, 0]), int(v[0, 0])) == expected_yuv(fmt, (255, 0, 0))[1:]
    assert y[0, 1] == red[0][0, 0] and a[0, 1] == 255 and a[1, 0] == 0
    # Alpha 1 of 255 weighs no less: the colour is still that of the only visible pixel.
    edge[0, 1, 3] = 1
    _, u1, v1, _ = run(conv, edge)
    assert (u1[0, 0], v1[0, 0]) == (u[0, 0], v[0, 0])


def test_weights_are_the_alphas(convert_with):
    """Red at alpha 200 and blue at alpha 50 average to (200 * red + 50 * blue) / 250, not to their mean."""
    fmt = YuvaFormat("bt709", True)
    src = solid((0, 0, 0), alpha=0)
    src[0, 0] = (255, 0, 0, 200)
    src[1, 1] = (0, 0, 255, 50)
    _, u, v, _ = run(convert_with(fmt), src)
    assert (int(u[0, 0]), int(v[0, 0])) == expected_yuv(fmt, (204, 0, 51))[1:]


def test_transparent_blocks_get_neutral_chroma(convert_with):
    src = solid((255, 40, 10), alpha=0, h=4, w=4)
    for fmt in FORMATS:
        _, u, v, a = run(convert_with(fmt), src)
        assert (u == 128).all() and (v == 128).all() and (a == 0).all()


# (e) bad arguments -------------------------------------------------------------------------------

def bad_calls():
    ok = lambda: (np.zeros((4, 6, 4), np.uint8), *planes(4, 6))  # noqa: E731
    cases = {}

    def case(name, exc, edit):
        args = list(ok())
        edit(args)
        cases[name] = (exc, args)

    case("odd height", ValueError, lambda a: a.__setitem__(0, np.zeros((3, 6, 4), np.uint8)))
    case("odd width", ValueError, lambda a: a.__setitem__(0, np.zeros((4, 5, 4), np.uint8)))
    case("rgb source", TypeError, lambda a: a.__setitem__(0, np.zeros((4, 6, 3), np.uint8)))
    case("float source", TypeError, lambda a: a.__setitem__(0, np.zeros((4, 6, 4), np.float32)))
    case("2-D source", TypeError, lambda a: a.__setitem__(0, np.zeros((4, 24), np.uint8)))
    case("list source", TypeError, lambda a: a.__setitem__(0, [[0, 0, 0, 0]]))
    case("strided pixels", ValueError, lambda a: a.__setitem__(0, np.zeros((4, 12, 4), np.uint8)[:, ::2]))
    case("u too small", ValueError, lambda a: a.__setitem__(2, np.zeros((2, 2), np.uint8)))
    case("y too big", ValueError, lambda a: a.__setitem__(1, np.zeros((4, 8), np.uint8)))
    case("a of int16", TypeError, lambda a: a.__setitem__(4, np.zeros((4, 6), np.int16)))
    case("v 3-D", TypeError, lambda a: a.__setitem__(3, np.zeros((2, 3, 1), np.uint8)))
    case("y strided columns", ValueError, lambda a: a.__setitem__(1, np.zeros((4, 12), np.uint8)[:, ::2]))
    case("y read-only", ValueError, lambda a: a.__setitem__(1, read_only(np.zeros((4, 6), np.uint8))))
    return cases


def read_only(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("name", list(bad_calls()))
def test_bad_arguments_raise(convert_with, name):
    exc, args = bad_calls()[name]
    with pytest.raises(exc):
        convert_with(YuvaFormat())(*args)


def test_native_checks_coefficients(native):
    args = (np.zeros((2, 2, 4), np.uint8), *planes(2, 2))
    good = YuvaFormat().coeffs()
    native.convert(*args, good)
    with pytest.raises(TypeError):
        native.convert(*args, list(good))
    with pytest.raises(ValueError):
        native.convert(*args, good[:-1])
    for i, bad in [(0, 70000), (0, -1), (3, 65000), (4, 17), (5, 234), (5, 256), (6, -3000), (7, 2100), (11, 300)]:
        with pytest.raises(ValueError):
            native.convert(*args, good[:i] + (bad,) + good[i + 1:])


def test_empty_image_is_fine(convert_with):
    src = np.zeros((0, 4, 4), np.uint8)
    convert_with(YuvaFormat())(src, *planes(0, 4))


def test_format():
    with pytest.raises(ValueError, match="unknown YUV matrix"):
        YuvaFormat("bt470m")
    fmt = YuvaFormat("bt601", True)
    assert pickle.loads(pickle.dumps(fmt)) == fmt and hash(fmt) == hash(YuvaFormat("bt601", True))
    assert YuvaFormat() == YuvaFormat("bt709", False)
