/* overlay._yuva: straight-alpha RGBA -> yuva420p planes, for overlay.yuva.
 *
 * Exists because ffmpeg converts the RGBA overlay serially on every frame, which
 * was most of the compositing cost; the drawing workers convert instead, in
 * parallel and only the regions that changed. overlay.yuva computes the
 * fixed-point coefficients and holds a numpy twin of this code that must give
 * bit-identical planes (tests/test_yuva.py checks it). With R, G, B, A of a pixel:
 *
 *   Y = (((R*yr) >> 8) + ((G*yg) >> 8) + ((B*yb) >> 8) + yoff) >> 8     (always in [ymin, ymax])
 *   A = A
 *
 * and over each 2x2 block, with Sr = sum(A*R), Sg, Sb alike and S = max(sum(A), 1):
 *
 *   U = clip(((ur*(Sr-Sg) + ub*(Sb-Sg) + CHROMA_OFFSET*S) >> CHROMA_SHIFT) / S, cmin, cmax)
 *   V = the same with vr, vb                                          (integer floor division)
 *
 * U and V are the chroma of the alpha-weighted mean colour, because ffmpeg's
 * overlay blends chroma with the block's mean alpha: an anti-aliased edge keeps
 * its colour instead of taking on the chroma of the transparent black around it.
 * A fully transparent block (S = 1, sums 0) gets 128. The green coefficient of
 * each chroma row is minus the sum of the other two, so greys are exactly neutral.
 *
 * Plain C API and the buffer protocol (no numpy headers) keep the build trivial.
 * The loops are written for gcc's vectoriser: no per-pixel branches, 16-bit
 * multiply-high for luma, 16-bit alpha products whose pairs are summed as halves
 * of 32-bit words (no lane shuffles), and one float reciprocal per block instead
 * of integer division. On x86-64 Linux an AVX2 clone is chosen at load time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define CHROMA_SHIFT 12
/* 128 in CHROMA_SHIFT fixed point, plus one half: the floor division then rounds to nearest. */
#define CHROMA_OFFSET ((128 << CHROMA_SHIFT) + (1 << (CHROMA_SHIFT - 1)))
#define NCOEFFS 12
#define MATH_VERSION 2 /* bump with any change to the formulas or to coeffs */
#define CHUNK 512 /* pixels of a row pair done at a time: bounds the scratch arrays */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

/* The first and second byte of a 16-bit load, and each of them times 256. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE0(x) ((uint16_t)((x) >> 8))
#define BYTE1(x) ((uint16_t)((x) & 0xff))
#define BYTE0_HI(x) ((uint16_t)((x) & 0xff00))
#define BYTE1_HI(x) ((uint16_t)((x) << 8))
#else
#define BYTE0(x) ((uint16_t)((x) & 0xff))
#define BYTE1(x) ((uint16_t)((x) >> 8))
#define BYTE0_HI(x) ((uint16_t)((x) << 8))
#define BYTE1_HI(x) ((uint16_t)((x) & 0xff00))
#endif

typedef struct {
    uint16_t yr, yg, yb, yoff; /* uint16_t, or gcc misses the 16-bit multiply-high */
    int32_t ur, ub, vr, vb, cmin, cmax;
} Coeffs;

/* Per row: 16-bit products A*R, A*G, A*B (at most 255*255) and A, for chroma_row. */
typedef struct {
    uint16_t r[CHUNK], g[CHUNK], b[CHUNK];
    uint8_t a[CHUNK];
} Scratch;

static inline uint16_t load16(const uint8_t *p)
{
    uint16_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

static inline uint32_t load32(const void *p)
{
    uint32_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

static inline uint16_t mulhi(uint16_t a, uint16_t b)
{
    return (uint16_t)(((uint32_t)a * b) >> 16);
}

static inline int32_t clip(int32_t x, int32_t lo, int32_t hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Luma and alpha of n pixels of a row, and the row's part of the chroma sums. */
CLONES static void
luma_row(const uint8_t *restrict s, uint8_t *restrict y, uint8_t *restrict a, Scratch *restrict t, Py_ssize_t n,
         const Coeffs *c)
{
    const uint16_t yr = c->yr, yg = c->yg, yb = c->yb, yoff = c->yoff;
    for (Py_ssize_t j = 0; j < n; j++) {
        const uint16_t rg = load16(s + 4 * j), ba = load16(s + 4 * j + 2);
        /* No clipping: parse_coeffs made sure that black and white, and so all else, are in range. */
        const uint16_t l =
            (uint16_t)(mulhi(BYTE0_HI(rg), yr) + mulhi(BYTE1_HI(rg), yg) + mulhi(BYTE0_HI(ba), yb) + yoff);
        y[j] = (uint8_t)(l >> 8);
        const uint16_t alpha = BYTE1(ba);
        a[j] = t->a[j] = (uint8_t)alpha;
        t->r[j] = (uint16_t)(alpha * BYTE0(rg));
        t->g[j] = (uint16_t)(alpha * BYTE1(rg));
        t->b[j] = (uint16_t)(alpha * BYTE0(ba));
    }
}

/* The sum of a 2x2 block of 16-bit values: two adjacent pairs read as 32-bit words. */
static inline int32_t block_sum(const uint16_t *p, const uint16_t *q)
{
    const uint32_t x = load32(p), z = load32(q);
    return (int32_t)((x & 0xffff) + (x >> 16) + (z & 0xffff) + (z >> 16));
}

/* U and V of n blocks from the scratch of their two rows.
 *
 * The floor division m / s (0 <= m <= 256 s < 2^19, 1 <= s <= 1020) is done in
 * float, which vectorises where integer division does not, and is still exact:
 * m and s are exact floats, the reciprocal and the product err by under 2^-15
 * (the quotient is at most 256), the fractional part of m / s is 0 or between
 * 1/1020 and 1 - 1/1020, so adding 2^-12 before truncating yields floor(m / s).
 * (Also checked for every such m and s, with and without a fused multiply-add.) */
CLONES static void
chroma_row(const Scratch *restrict t0, const Scratch *restrict t1, uint8_t *restrict u, uint8_t *restrict v,
           Py_ssize_t n, const Coeffs *c)
{
    const int32_t ur = c->ur, ub = c->ub, vr = c->vr, vb = c->vb, cmin = c->cmin, cmax = c->cmax;
    for (Py_ssize_t j = 0; j < n; j++) {
        const int32_t sr = block_sum(t0->r + 2 * j, t1->r + 2 * j);
        const int32_t sg = block_sum(t0->g + 2 * j, t1->g + 2 * j);
        const int32_t sb = block_sum(t0->b + 2 * j, t1->b + 2 * j);
        const uint16_t a0 = load16(t0->a + 2 * j), a1 = load16(t1->a + 2 * j);
        int32_t sa = (a0 & 0xff) + (a0 >> 8) + (a1 & 0xff) + (a1 >> 8);
        sa = sa > 1 ? sa : 1;
        const float rcp = 1.0f / (float)sa;
        const int32_t dr = sr - sg, db = sb - sg, off = CHROMA_OFFSET * sa;
        const int32_t mu = (ur * dr + ub * db + off) >> CHROMA_SHIFT;
        const int32_t mv = (vr * dr + vb * db + off) >> CHROMA_SHIFT;
        u[j] = (uint8_t)clip((int32_t)((float)mu * rcp + 0x1p-12f), cmin, cmax);
        v[j] = (uint8_t)clip((int32_t)((float)mv * rcp + 0x1p-12f), cmin, cmax);
    }
}

/* Checked so that no accepted tuple can overflow (uint16 luma sums, int32 chroma
 * sums), give luma out of [ymin, ymax] (luma is monotonic in R, G and B, so
 * black and white bound it), or break the exactness argument of chroma_row,
 * which needs 0 <= m <= 256 s. */
static int
parse_coeffs(PyObject *tuple, Coeffs *c)
{
    long k[NCOEFFS];
    if (PyTuple_GET_SIZE(tuple) != NCOEFFS) {
        PyErr_Format(PyExc_ValueError, "coeffs: expected %d integers", NCOEFFS);
        return -1;
    }
    for (int i = 0; i < NCOEFFS; i++) {
        k[i] = PyLong_AsLong(PyTuple_GET_ITEM(tuple, i));
        if (k[i] == -1 && PyErr_Occurred())
            return -1;
        if (k[i] < -65535 || k[i] > 65535) {
            PyErr_SetString(PyExc_ValueError, "coeffs: value out of range");
            return -1;
        }
    }
    const long white = (255 * k[0] >> 8) + (255 * k[1] >> 8) + (255 * k[2] >> 8) + k[3];
    int ok = k[0] >= 0 && k[1] >= 0 && k[2] >= 0 && k[3] >= 0 && white <= 65535
             && 0 <= k[4] && k[4] <= k[3] >> 8 && white >> 8 <= k[5] && k[5] <= 255 /* luma never needs clipping */
             && 0 <= k[10] && k[10] <= k[11] && k[11] <= 255;
    for (int i = 6; i < 10; i += 2) { /* (r, b) of U then V; g = -r - b */
        const long row[3] = {k[i], -k[i] - k[i + 1], k[i + 1]};
        long pos = 0, neg = 0;
        for (int j = 0; j < 3; j++) {
            pos += row[j] > 0 ? row[j] : 0;
            neg += row[j] < 0 ? -row[j] : 0;
        }
        ok = ok && pos <= (1 << (CHROMA_SHIFT - 1)) && neg <= (1 << (CHROMA_SHIFT - 1));
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "coeffs: out of the supported range");
        return -1;
    }
    *c = (Coeffs){.yr = (uint16_t)k[0], .yg = (uint16_t)k[1], .yb = (uint16_t)k[2], .yoff = (uint16_t)k[3],
                  .ur = (int32_t)k[6], .ub = (int32_t)k[7], .vr = (int32_t)k[8], .vb = (int32_t)k[9],
                  .cmin = (int32_t)k[10], .cmax = (int32_t)k[11]};
    return 0;
}

static int
is_bytes_format(const char *f)
{
    if (f == NULL)
        return 1;
    if (*f && strchr("@=<>!", *f))
        f++;
    return strcmp(f, "B") == 0;
}

/* A writable 2-D uint8 buffer of shape (h, w) with contiguous rows. */
static int
get_plane(PyObject *obj, Py_buffer *b, const char *name, Py_ssize_t h, Py_ssize_t w)
{
    if (PyObject_GetBuffer(obj, b, PyBUF_STRIDES | PyBUF_WRITABLE | PyBUF_FORMAT) < 0)
        return -1;
    if (b->itemsize != 1 || !is_bytes_format(b->format) || b->ndim != 2) {
        PyErr_Format(PyExc_TypeError, "%s: expected a 2-D uint8 array", name);
    } else if (b->shape[0] != h || b->shape[1] != w) {
        PyErr_Format(PyExc_ValueError, "%s: shape (%zd, %zd), expected (%zd, %zd)", name, b->shape[0],
                     b->shape[1], h, w);
    } else if (h > 0 && w > 1 && b->strides[1] != 1) { /* (empty arrays may have any strides) */
        PyErr_Format(PyExc_ValueError, "%s: rows must be contiguous (column stride 1)", name);
    } else {
        return 0;
    }
    PyBuffer_Release(b);
    return -1;
}

PyDoc_STRVAR(convert_doc,
"convert(src, y, u, v, a, coeffs)\n--\n\n"
"Convert straight-alpha RGBA src (h, w, 4 uint8, contiguous pixels, h and w even)\n"
"into the yuva420p planes y (h, w), u, v (h/2, w/2) and a (h, w): writable 2-D uint8\n"
"buffers whose rows may be strided, overlapping neither src nor each other.\n"
"coeffs: the integers of overlay.yuva.YuvaFormat.coeffs(). Releases the GIL.");

static PyObject *
convert(PyObject *self, PyObject *args)
{
    PyObject *src_obj, *dst_obj[4], *coeffs;
    static const char *names[4] = {"y", "u", "v", "a"};
    Py_buffer src, dst[4];
    Coeffs c;
    int got = 0;

    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOO!:convert", &src_obj, &dst_obj[0], &dst_obj[1], &dst_obj[2], &dst_obj[3],
                          &PyTuple_Type, &coeffs))
        return NULL;
    if (parse_coeffs(coeffs, &c) < 0)
        return NULL;
    if (PyObject_GetBuffer(src_obj, &src, PyBUF_STRIDES | PyBUF_FORMAT) < 0)
        return NULL;
    if (src.itemsize != 1 || !is_bytes_format(src.format) || src.ndim != 3 || src.shape[2] != 4) {
        PyErr_SetString(PyExc_TypeError, "src: expected an (h, w, 4) uint8 array");
        goto fail;
    }
    const Py_ssize_t h = src.shape[0], w = src.shape[1];
    if (h % 2 || w % 2) {
        PyErr_Format(PyExc_ValueError, "src: width and height must be even, not %zd x %zd", w, h);
        goto fail;
    }
    if (h > 0 && w > 0 && (src.strides[2] != 1 || (w > 1 && src.strides[1] != 4))) {
        PyErr_SetString(PyExc_ValueError, "src: pixels of a row must be contiguous RGBA");
        goto fail;
    }
    for (; got < 4; got++) {
        const int half = got == 1 || got == 2;
        if (get_plane(dst_obj[got], &dst[got], names[got], half ? h / 2 : h, half ? w / 2 : w) < 0)
            goto fail;
    }

    Py_BEGIN_ALLOW_THREADS
    Scratch t0, t1;
    for (Py_ssize_t i = 0; i < h; i += 2) {
        const uint8_t *s0 = (const uint8_t *)src.buf + i * src.strides[0], *s1 = s0 + src.strides[0];
        uint8_t *y0 = (uint8_t *)dst[0].buf + i * dst[0].strides[0], *y1 = y0 + dst[0].strides[0];
        uint8_t *a0 = (uint8_t *)dst[3].buf + i * dst[3].strides[0], *a1 = a0 + dst[3].strides[0];
        uint8_t *u = (uint8_t *)dst[1].buf + i / 2 * dst[1].strides[0];
        uint8_t *v = (uint8_t *)dst[2].buf + i / 2 * dst[2].strides[0];
        for (Py_ssize_t x = 0; x < w; x += CHUNK) {
            const Py_ssize_t n = w - x < CHUNK ? w - x : CHUNK;
            luma_row(s0 + 4 * x, y0 + x, a0 + x, &t0, n, &c);
            luma_row(s1 + 4 * x, y1 + x, a1 + x, &t1, n, &c);
            chroma_row(&t0, &t1, u + x / 2, v + x / 2, n / 2, &c);
        }
    }
    Py_END_ALLOW_THREADS

    for (int i = 0; i < 4; i++)
        PyBuffer_Release(&dst[i]);
    PyBuffer_Release(&src);
    Py_RETURN_NONE;

fail:
    while (got-- > 0)
        PyBuffer_Release(&dst[got]);
    PyBuffer_Release(&src);
    return NULL;
}

static PyMethodDef methods[] = {
    {"convert", convert, METH_VARARGS, convert_doc},
    {NULL, NULL, 0, NULL},
};

static int
exec_module(PyObject *m)
{
    /* overlay.yuva checks these against its own, to ignore a stale build. */
    if (PyModule_AddIntConstant(m, "MATH_VERSION", MATH_VERSION) < 0
        || PyModule_AddIntConstant(m, "CHROMA_SHIFT", CHROMA_SHIFT) < 0
        || PyModule_AddIntConstant(m, "CHROMA_OFFSET", CHROMA_OFFSET) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#ifdef Py_MOD_PER_INTERPRETER_GIL_SUPPORTED
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "overlay._yuva",
    .m_doc = "Straight-alpha RGBA to yuva420p planes (see overlay.yuva).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__yuva(void)
{
    return PyModuleDef_Init(&module);
}
