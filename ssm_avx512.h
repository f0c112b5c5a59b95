/* ssm_avx512.h — AVX-512 kernels for ssm.h (x86-64: AVX-512 F, BW, VL and DQ; AVX512-BF16 for
   bf16 stores where the CPU has it; AMX-BF16 tiles for the matrix products of ssd and
   hsa_attention with bf16 I/O).

   WHAT IT IS
   A second backend behind ssm.h's public calls: the same ops, the same parameter structs, the
   same results within SPEC §7, computed with 512-bit vectors. It is never called directly. Keep
   it beside ssm.h: the translation unit that defines SSM_IMPLEMENTATION picks it up by itself
   (ssm.h includes it when __has_include finds it), and ssm.h's dispatch selects it at run time
   when cpuid/xgetbv report AVX-512 F/BW/VL/DQ with the OS saving ZMM state. SSM_ISA=scalar in
   the environment, ssm_set_isa() or SSM_FORCE_ISA choose another backend; ssm_backend_name()
   tells which one runs.

   Every function here carries a function-level target attribute, so the rest of the build
   stays baseline x86-64 (no -mavx512f on the command line) and the binary still runs, on the
   portable kernels, on CPUs without AVX-512. Functions that use AVX512-BF16 instructions are
   only called after ssm__cpu() has reported the extension, tile (AMX) code only after that and
   after Linux granted the process the tile state (see the AMX part of the ssd section).

   HOW TO INCLUDE IT
   Nothing to do beyond ssm.h's own instructions. Including this header yourself is harmless
   in any order, any number of times: it includes ssm.h for the declarations and emits its
   code exactly once, inside ssm.h's implementation, when SSM_IMPLEMENTATION is defined.

   WHAT IT IMPLEMENTS (every op of SPEC.md, every option of the portable kernels, f32, f16 and bf16)
     selective_scan   SPEC §1: 16 channels per vector, up to 16 states in registers across the
                      time loop, B/C broadcast from a tile shared by the channels of a group
     state_update     SPEC §2: one streaming pass over each state row; exp(dt'A) once per row
                      (once per head with Mamba-2's tied A/dt) when A is constant along N
     ssd              SPEC §3: the chunked algorithm on a 6x64 register-blocked FMA micro-kernel;
                      C, Bᵀ and C Bᵀ computed once per (chunk, group) and shared by its heads,
                      which a worker takes through the chunks 8 at a time; with bf16 I/O on
                      CPUs with AMX-BF16 the four chunk products run on tiles instead (f32
                      operands split into two bf16 terms: SPEC §7 holds)
     conv1d           SPEC §4: over time for long rows (shifted windows by permutes), over 16
                      channels for short ones (decode) and channel-contiguous layouts
     hsa_select       SPEC §5: vector dot products for the scores, the portable top-k
     hsa_attention    SPEC §5: the G query heads of a KV head as the 16 lanes of a vector:
                      scores, softmax and output as micro-GEMMs and lane-wise ops; with bf16
                      I/O on CPUs with AMX-BF16 the scores and outputs of up to 8 selected
                      chunks at a time run on tiles (P split into two bf16 terms)
   Any stride works: unit-stride rows take the vector loads, other strides (0, negative, large)
   gather element by element into the same f32 tiles, never a different algorithm.
   Results are bit-identical for any thread count: a work item never shares a reduction with
   another, and which lane a value lands in changes nothing about the arithmetic done on it.
   Not done here: AVX512-FP16 arithmetic (f16 is converted with F16C-style vcvtph2ps/vcvtps2ph),
   and AMX for f32 / f16 I/O or for ops other than ssd and hsa_attention.

   CONFIG MACROS
     SSM_NO_AVX512    (read by ssm.h) leave this backend out of the build entirely
     SSM__AMX_EMULATE (private, for tests only) run the AMX path with the tile instructions done
                      in software, on any CPU with AVX512-BF16: its layouts and edges can then be
                      tested where no AMX exists (slow; never for production)

   ENVIRONMENT
     SSM_NO_AMX       set to anything but "" or "0": ssd and hsa_attention with bf16 I/O take
                      the f32 FMA path even where AMX-BF16 is available (read once, at the first
                      such call or workspace query of the process)

   Accuracy of the vector math (SPEC §0): exp, exp2, log1p, softplus and SiLU below have a
   relative error <= 2^-20 * (1 + |x|) wherever the result is >= FLT_MIN, give +inf on overflow
   and propagate NaN; tests/test_vmath.c checks that over every f32 input. */

#include "ssm.h"

#if defined(SSM__IMPLEMENTATION_DONE) && !defined(SSM__AVX512_EMITTED) && SSM__X86_64 && !defined(SSM_NO_AVX512)
#define SSM__AVX512_EMITTED 1

/* ssm.h includes this file inside its extern "C" block; the intrinsics header must not get C
   linkage in C++. */
#ifdef __cplusplus
extern "C++" {
#endif
/* g++ 12's AVX-512 intrinsics start from a deliberately undefined vector (_mm512_undefined_*,
   written `__Y = __Y` in C++), which -W(maybe-)uninitialized reports once they are inlined here.
   The warning is located in the intrinsics header, so it is silenced for that header only. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#ifdef __cplusplus
}
#endif

#define SSM__AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define SSM__AVX512BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
/* Small helpers are forced inline so that a kernel's registers (e.g. the scan states) stay in
   registers across them. */
#define SSM__VINLINE static inline __attribute__((always_inline)) SSM__AVX512_TARGET

#if defined(__clang__)
#define SSM__UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define SSM__UNROLL _Pragma("GCC unroll 16")
#else
#define SSM__UNROLL
#endif

/* ================================================================ vector math (SPEC §0)

   exp(x) = 2^n * e^r with n = round(x / ln2) and r = x - n*ln2 (two-part ln2, exact with FMA),
   |r| <= ln2/2; e^r is a degree-5 polynomial whose constant term is exactly 1, fitted for
   minimax relative error (2^-23.4; 2^-22.5 after f32 evaluation). The exact 1 matters: the scan
   multiplies thousands of factors exp(dt A) close to 1, and a constant one-ulp bias there would
   add up over the state's memory; with it the error vanishes with r. vscalefps applies 2^n with
   correct overflow to +inf and gradual underflow, so only the clamp of x to [-104, 89] (NaN
   kept: max/min return their second operand on NaN) is needed for huge and infinite inputs.
   Divisions use vrcp14ps plus Newton steps (ssm__avx512_div): vdivps would be the bottleneck. */

SSM__VINLINE __m512 ssm__avx512_exp_poly(__m512 r) {  /* e^r, |r| <= ln2/2 */
    __m512 p = _mm512_set1_ps(8.290315047e-03f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.189793020e-02f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.666763574e-01f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.999915063e-01f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.999997020e-01f));
    return _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
}

SSM__VINLINE __m512 ssm__avx512_exp2_poly(__m512 f) {  /* 2^f, |f| <= 1/2 */
    __m512 p = _mm512_set1_ps(1.326472731e-03f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.671512991e-03f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550733581e-02f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402224243e-01f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931470037e-01f));
    return _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
}

/* a / b for b in a safe range (positive, finite, not tiny; the callers say why): vrcp14ps and
   one Newton step give 1/b to about 1 ulp, a times it about 1.5 ulp, and unlike vdivps they
   pipeline with everything else (the divider would be the bottleneck of softplus and SiLU).
   No correction step on the quotient: it would turn an infinite a into NaN (inf - inf). */
SSM__VINLINE __m512 ssm__avx512_div(__m512 a, __m512 b) {
    __m512 r = _mm512_rcp14_ps(b);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(b, r, _mm512_set1_ps(2.0f)));
    return _mm512_mul_ps(a, r);
}

/* x clamped to [lo, hi]; NaN stays NaN. */
SSM__VINLINE __m512 ssm__avx512_clamp(__m512 x, float lo, float hi) {
    return _mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), x));
}

/* Splits exp(x) = p * 2^n for x already clamped to [-104, 89]. */
SSM__VINLINE __m512 ssm__avx512_exp_split(__m512 x, __m512 *n) {
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145752f), x);   /* ln2 high part: 16 bits */
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860677e-06f), r);       /* ln2 - high part */
    *n = k;
    return ssm__avx512_exp_poly(r);
}

SSM__VINLINE __m512 ssm__avx512_exp(__m512 x) {
    __m512 n, p = ssm__avx512_exp_split(ssm__avx512_clamp(x, -104.0f, 89.0f), &n);
    return _mm512_scalef_ps(p, n);
}

/* 2^t, for the scan's inner loop where t = dt * (A log2 e): one multiply fewer than exp, and
   no clamp: a huge finite t gives f = 0 and scalef saturates; infinities are fixed up (vfixupimm
   classes of t: -inf -> +0, +inf -> +inf, sNaN -> qNaN). Rounding A*log2(e) and dt*A2 adds an
   error of about 2^-23 |dt A|, within SPEC §0's 2^-20 (1 + |x|). */
SSM__VINLINE __m512 ssm__avx512_exp2(__m512 t) {
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 r = _mm512_scalef_ps(ssm__avx512_exp2_poly(_mm512_sub_ps(t, n)), n);
    return _mm512_fixupimm_ps(r, t, _mm512_set1_epi32(0x00580020), 0);
}

/* log(u) for finite u > 0: u = 2^k m with m in [0.75, 1.5), log m = 2 atanh(f) with
   f = (m-1)/(m+1) in [-1/7, 1/5], whose odd series to f^9 is accurate to 2^-26. */
SSM__VINLINE __m512 ssm__avx512_log_core(__m512 u) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 m = _mm512_getmant_ps(u, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_zero);
    /* getexp is floor(log2 u); a mantissa that getmant halved (m < 1) belongs to the next binade */
    const __m512 k = _mm512_mask_add_ps(_mm512_getexp_ps(u), _mm512_cmp_ps_mask(m, one, _CMP_LT_OQ),
                                        _mm512_getexp_ps(u), one);
    const __m512 f = ssm__avx512_div(_mm512_sub_ps(m, one), _mm512_add_ps(m, one));   /* m + 1 in [1.75, 2.5) */
    const __m512 f2 = _mm512_mul_ps(f, f), two_f = _mm512_add_ps(f, f);
    __m512 q = _mm512_set1_ps(1.0f / 9.0f);
    q = _mm512_fmadd_ps(q, f2, _mm512_set1_ps(1.0f / 7.0f));
    q = _mm512_fmadd_ps(q, f2, _mm512_set1_ps(1.0f / 5.0f));
    q = _mm512_fmadd_ps(q, f2, _mm512_set1_ps(1.0f / 3.0f));
    q = _mm512_fmadd_ps(_mm512_mul_ps(two_f, f2), q, two_f);
    return _mm512_fmadd_ps(k, _mm512_set1_ps(0.693145752f), _mm512_fmadd_ps(k, _mm512_set1_ps(1.42860677e-06f), q));
}

/* log1p(t) = log(u) + (t - (u - 1)) / u with u = 1 + t rounded: the second term is the exact
   rounding error of u (Fast2Sum), relative to u, which keeps tiny t accurate. Special inputs by
   the class of u: +inf -> +inf, 0 (t = -1) -> -inf, negative -> NaN, NaN -> NaN. */
SSM__VINLINE __m512 ssm__avx512_log1p(__m512 t) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 u = _mm512_add_ps(one, t);
    /* u is any positive float here (0, inf and NaN are fixed up below): a few ulp of error in
       this correction term, far below log(u)'s own, would not matter */
    const __m512 c = ssm__avx512_div(_mm512_sub_ps(t, _mm512_sub_ps(u, one)), u);
    const __m512 r = _mm512_add_ps(ssm__avx512_log_core(u), c);
    return _mm512_fixupimm_ps(r, u, _mm512_set1_epi32(0x03530422), 0);
}

/* softplus(x) = x > threshold ? x : log1p(exp(x))  (threshold 20 for scan/SSD, 15 for HSA),
   computed as max(x, 0) + log1p(t) with t = exp(-|x|) in (0, 1], and log1p(t) = 2 atanh(s),
   s = t / (2 + t) in [0, 1/3]: an odd series, relative error 2^-27.7 with 4 terms in s^2, that
   keeps full relative accuracy where softplus(x) ~ e^x is tiny. Cheaper than log1p(exp(x)). */
SSM__VINLINE __m512 ssm__avx512_softplus(__m512 x, float threshold) {
    const __m512 t = ssm__avx512_exp(_mm512_or_ps(x, _mm512_set1_ps(-0.0f)));
    const __m512 s = ssm__avx512_div(t, _mm512_add_ps(_mm512_set1_ps(2.0f), t));   /* 2 + t in [2, 3] */
    const __m512 z = _mm512_mul_ps(s, s), two_s = _mm512_add_ps(s, s);
    __m512 q = _mm512_set1_ps(1.400599778e-01f);
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(1.400090158e-01f));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(2.001076341e-01f));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(3.333320916e-01f));
    q = _mm512_fmadd_ps(_mm512_mul_ps(two_s, z), q, two_s);
    q = _mm512_add_ps(_mm512_max_ps(_mm512_setzero_ps(), x), q);   /* max returns x when x is NaN */
    return _mm512_mask_mov_ps(q, _mm512_cmp_ps_mask(x, _mm512_set1_ps(threshold), _CMP_GT_OQ), x);
}

/* silu(x) = x / (1 + exp(-x)), computed as x * e / (1 + e) with e = exp(-|x|) <= 1 for x < 0 so
   nothing overflows. Where some x < -87 (rare: e is subnormal there), the 2^n of e is applied
   last so that results down to FLT_MIN keep full precision, and silu(-inf) is made NaN as the
   formula gives; the common path skips those three extra instructions. */
SSM__VINLINE __m512 ssm__avx512_silu(__m512 x) {
    const __m512 a = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_or_ps(x, _mm512_set1_ps(-0.0f)));
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 n, p = ssm__avx512_exp_split(a, &n);
    const __m512 e = _mm512_scalef_ps(p, n);
    const __m512 den = _mm512_add_ps(_mm512_set1_ps(1.0f), e);   /* in [1, 2] */
    if (_mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ)) {
        const __m512 r = ssm__avx512_div(_mm512_mask_mul_ps(x, neg, a, p), den);
        return _mm512_fixupimm_ps(_mm512_mask_scalef_ps(r, neg, r, n), x, _mm512_set1_epi32(0x00030000), 0);
    }
    return ssm__avx512_div(_mm512_mask_mul_ps(x, neg, x, e), den);
}

/* ================================================================ f16 / bf16 conversions

   Bit-identical to ssm.h's scalar conversions (tests/test_vmath.c checks every input): round to
   nearest even, NaN kept quiet with its sign, overflow to inf. */

SSM__VINLINE __m512 ssm__avx512_bf16_to_f32(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* vcvtph2ps quiets signalling NaNs; the scalar conversion keeps the quiet bit as it was. */
SSM__VINLINE __m512 ssm__avx512_f16_to_f32(__m256i h) {
    const __m512 r = _mm512_cvtph_ps(h);
    const __mmask16 nan = _mm256_cmpgt_epu16_mask(_mm256_and_si256(h, _mm256_set1_epi16(0x7fff)),
                                                  _mm256_set1_epi16(0x7c00));
    if (nan) {
        const __m512i quiet = _mm512_slli_epi32(_mm512_and_si512(_mm512_cvtepu16_epi32(h), _mm512_set1_epi32(0x200)), 13);
        const __m512i bits = _mm512_or_si512(_mm512_andnot_si512(_mm512_set1_epi32(0x400000), _mm512_castps_si512(r)), quiet);
        return _mm512_mask_mov_ps(r, nan, _mm512_castsi512_ps(bits));
    }
    return r;
}

SSM__VINLINE __m256i ssm__avx512_f32_to_f16(__m512 x) {
    return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* Integer rounding: add 0x7fff plus the lowest kept bit, truncate; NaN: truncate, set quiet. */
SSM__VINLINE __m256i ssm__avx512_f32_to_bf16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x), hi = _mm512_srli_epi32(u, 16);
    const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb), 16);
    r = _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), hi, _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(r);
}

/* vcvtneps2bf16 rounds like the scalar code and quiets NaN the same way, but flushes subnormal
   inputs to zero; vectors holding one take the integer path. */
static __attribute__((noinline)) SSM__AVX512BF16_TARGET __m256i ssm__avx512bf16_f32_to_bf16(__m512 x) {
    if (_mm512_fpclass_ps_mask(x, 0x20)) return ssm__avx512_f32_to_bf16(x);   /* 0x20: subnormal */
    return (__m256i)_mm512_cvtneps_pbh(x);
}

/* ================================================================ rows and tiles

   Activations cross the kernels as f32: unit-stride rows are converted 16 at a time with masks
   for the tails; other strides (0, negative, large) go element by element through ssm.h's
   scalar accessors, so every layout gives the same values, only slower. */

SSM__VINLINE __mmask16 ssm__avx512_mask(int64_t n) {   /* the first min(n, 16) lanes */
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* Masked f32 loads and stores that are plain ones when the mask is full (see ssm__avx512_vload). */
SSM__VINLINE __m512 ssm__avx512_ldm(__mmask16 m, const float *p) {
    return m == 0xffff ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
SSM__VINLINE void ssm__avx512_stm(float *p, __mmask16 m, __m512 v) {
    if (m == 0xffff) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}

/* 16 (masked) unit-stride elements at element offset off, as f32; inactive lanes are 0. Full
   vectors use plain loads: on the machines measured, a masked load that misses the cache costs
   several times a plain one. */
SSM__VINLINE __m512 ssm__avx512_vload(const void *base, ssm_dtype dt, int64_t off, __mmask16 m) {
    if (m == 0xffff) {
        switch (dt) {
        case SSM_F16: return ssm__avx512_f16_to_f32(_mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)base + off)));
        case SSM_BF16: return ssm__avx512_bf16_to_f32(_mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)base + off)));
        default: return _mm512_loadu_ps((const float *)base + off);
        }
    }
    switch (dt) {
    case SSM_F16: return ssm__avx512_f16_to_f32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)base + off));
    case SSM_BF16: return ssm__avx512_bf16_to_f32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)base + off));
    default: return _mm512_maskz_loadu_ps(m, (const float *)base + off);
    }
}

/* Stores the active lanes of v, rounded to dt; bf16_insn: the CPU has AVX512-BF16. */
SSM__VINLINE void ssm__avx512_vstore(void *base, ssm_dtype dt, int64_t off, __mmask16 m, __m512 v, int bf16_insn) {
    __m256i h;
    switch (dt) {
    case SSM_F16: h = ssm__avx512_f32_to_f16(v); break;
    case SSM_BF16: h = bf16_insn ? ssm__avx512bf16_f32_to_bf16(v) : ssm__avx512_f32_to_bf16(v); break;
    default: ssm__avx512_stm((float *)base + off, m, v); return;
    }
    if (m == 0xffff) _mm256_storeu_si256((__m256i *)(void *)((uint16_t *)base + off), h);
    else _mm256_mask_storeu_epi16((uint16_t *)base + off, m, h);
}

static int ssm__avx512_bf16_insn(ssm_dtype dt) { return dt == SSM_BF16 && ssm__cpu()->avx512_bf16; }

/* dst[0..n) = element off + i*stride of base, as f32. */
static SSM__AVX512_TARGET void ssm__avx512_load_row(float *dst, const void *base, ssm_dtype dt, int64_t off,
                                                    int64_t stride, int64_t n) {
    int64_t i;
    if (stride == 1) {
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = ssm__avx512_mask(n - i);
            ssm__avx512_stm(dst + i, m, ssm__avx512_vload(base, dt, off + i, m));
        }
    } else {
        ssm__load_f32(dst, base, dt, off, stride, n);
    }
}

/* A unit-stride row as bf16 on a CPU with AVX512-BF16: 32 values per vcvtne2ps2bf16, and one
   call per row rather than one per vector (cpu.ssd.m2 bf16 stores its outputs a row of 64 at a
   time). A pair of vectors holding a subnormal, which the instruction flushes, takes the
   integer path. */
static __attribute__((noinline)) SSM__AVX512BF16_TARGET void ssm__avx512bf16_store_row(uint16_t *dst, const float *src,
                                                                                      int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + i + 16);
        if (_mm512_fpclass_ps_mask(a, 0x20) | _mm512_fpclass_ps_mask(b, 0x20)) {
            _mm256_storeu_si256((__m256i *)(void *)(dst + i), ssm__avx512_f32_to_bf16(a));
            _mm256_storeu_si256((__m256i *)(void *)(dst + i + 16), ssm__avx512_f32_to_bf16(b));
        } else {
            _mm512_storeu_si512((void *)(dst + i), (__m512i)_mm512_cvtne2ps_pbh(b, a));
        }
    }
    for (; i < n; i += 16) {
        const __mmask16 m = ssm__avx512_mask(n - i);
        const __m512 a = _mm512_maskz_loadu_ps(m, src + i);
        _mm256_mask_storeu_epi16(dst + i, m, _mm512_fpclass_ps_mask(a, 0x20) ? ssm__avx512_f32_to_bf16(a)
                                                                            : (__m256i)_mm512_cvtneps_pbh(a));
    }
}

static SSM__AVX512_TARGET void ssm__avx512_store_row(void *base, ssm_dtype dt, int64_t off, int64_t stride,
                                                     const float *src, int64_t n, int bf16_insn) {
    int64_t i;
    if (stride == 1 && dt == SSM_BF16 && bf16_insn) {
        ssm__avx512bf16_store_row((uint16_t *)base + off, src, n);
    } else if (stride == 1) {
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = ssm__avx512_mask(n - i);
            ssm__avx512_vstore(base, dt, off + i, m, ssm__avx512_ldm(m, src + i), bf16_insn);
        }
    } else {
        ssm__store_f32(base, dt, off, stride, src, n);
    }
}

/* In-register transpose of a 16x16 f32 block: r[i] lane j -> r[j] lane i. Three rounds of
   interleaves (32-bit, 64-bit, 128-bit lanes twice), 64 shuffles for 256 elements. */
SSM__VINLINE void ssm__avx512_transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    int i, j;
    SSM__UNROLL
    for (i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    SSM__UNROLL
    for (i = 0; i < 4; ++i) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* u[4i+j] lane block q holds column j + 4q of rows 4i..4i+3 */
    SSM__UNROLL
    for (j = 0; j < 4; ++j) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88), v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
        const __m512 v3 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);
        r[j] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(v0, v2, 0xdd);
        r[j + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[j + 12] = _mm512_shuffle_f32x4(v1, v3, 0xdd);
    }
}

/* r[c] = 16 (masked) elements of row c, rows st_c apart; rows c >= nc are 0. Full blocks load
   without masks and without a per-row dtype switch: a masked load that misses the cache costs
   far more than a plain one here. */
SSM__VINLINE void ssm__avx512_load_rows16(__m512 r[16], const void *base, ssm_dtype dt, int64_t off, int64_t st_c,
                                          int nc, __mmask16 m) {
    int c;
    if (nc == 16 && m == 0xffff) {
        if (dt == SSM_F32) {
            const float *p = (const float *)base + off;
            SSM__UNROLL
            for (c = 0; c < 16; ++c) r[c] = _mm512_loadu_ps(p + c * st_c);
        } else {
            const uint16_t *p = (const uint16_t *)base + off;
            SSM__UNROLL
            for (c = 0; c < 16; ++c) {
                const __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(p + c * st_c));
                r[c] = dt == SSM_BF16 ? ssm__avx512_bf16_to_f32(h) : ssm__avx512_f16_to_f32(h);
            }
        }
        return;
    }
    for (c = 0; c < 16; ++c) r[c] = c < nc ? ssm__avx512_vload(base, dt, off + c * st_c, m) : _mm512_setzero_ps();
}

/* A [time][16 channels] tile from a (channel, time) operand: tile[t*ld + c] = element
   off + c*st_c + t*st_t, for c < nc and t < nt; lanes c >= nc are 0. ld is a multiple of 16 and
   the tile has room for nt rounded up to 16 rows. Time-contiguous rows (Mamba-1's (B, D, L)) are
   transposed in registers, channel-contiguous ones copied, anything else gathered. */
static SSM__AVX512_TARGET void ssm__avx512_tile_in(float *tile, int64_t ld, const void *base, ssm_dtype dt,
                                                   int64_t off, int64_t st_c, int64_t st_t, int nc, int64_t nt) {
    const __mmask16 mc = ssm__avx512_mask(nc);
    int64_t t;
    int c;
    if (st_t == 1 && nc > 1) {
        for (t = 0; t < nt; t += 16) {
            const __mmask16 mt = ssm__avx512_mask(nt - t);
            __m512 r[16];
            ssm__avx512_load_rows16(r, base, dt, off + t, st_c, nc, mt);
            ssm__avx512_transpose16(r);
            for (c = 0; c < 16; ++c) _mm512_store_ps(tile + (t + c) * ld, r[c]);
        }
    } else if (st_c == 1) {
        for (t = 0; t < nt; ++t) _mm512_store_ps(tile + t * ld, ssm__avx512_vload(base, dt, off + t * st_t, mc));
    } else {
        for (t = 0; t < nt; ++t) {
            float row[16] = {0};
            for (c = 0; c < nc; ++c) row[c] = ssm__ld(base, dt, off + c * st_c + t * st_t);
            _mm512_store_ps(tile + t * ld, _mm512_loadu_ps(row));
        }
    }
}

/* The inverse of ssm__avx512_tile_in: writes lanes c < nc of rows t < nt. */
static SSM__AVX512_TARGET void ssm__avx512_tile_out(void *base, ssm_dtype dt, int64_t off, int64_t st_c,
                                                    int64_t st_t, int nc, int64_t nt, const float *tile,
                                                    int64_t ld, int bf16_insn) {
    const __mmask16 mc = ssm__avx512_mask(nc);
    int64_t t;
    int c;
    if (st_t == 1 && nc > 1) {
        for (t = 0; t < nt; t += 16) {
            const __mmask16 mt = ssm__avx512_mask(nt - t);
            __m512 r[16];
            for (c = 0; c < 16; ++c) r[c] = _mm512_load_ps(tile + (t + c) * ld);
            ssm__avx512_transpose16(r);
            for (c = 0; c < nc; ++c) ssm__avx512_vstore(base, dt, off + c * st_c + t, mt, r[c], bf16_insn);
        }
    } else if (st_c == 1) {
        for (t = 0; t < nt; ++t) ssm__avx512_vstore(base, dt, off + t * st_t, mc, _mm512_load_ps(tile + t * ld), bf16_insn);
    } else {
        for (t = 0; t < nt; ++t)
            for (c = 0; c < nc; ++c) ssm__st(base, dt, off + c * st_c + t * st_t, tile[t * ld + c]);
    }
}

/* Prefetch of nrows rows of n elements, rows st_row elements apart, into L2, L1, or L1 for
   writing (SSM__PF_*).
   Inline asm because gcc 12 deletes a function whose only effect is _mm_prefetch. For strided
   rows (one head of a (B, L, H, P) tensor: a few hundred bytes every few kilobytes; sixteen
   channels' time tiles) the hardware prefetchers stop at each page or lose track, and every
   row would otherwise be a full memory latency. */
enum { SSM__PF_L2, SSM__PF_L1, SSM__PF_WRITE };
static void ssm__avx512_prefetch_line(const char *p, int mode) {
    if (mode == SSM__PF_L1) __asm__ volatile("prefetcht0 %0" : : "m"(*p));
    else if (mode == SSM__PF_WRITE) __asm__ volatile("prefetchw %0" : : "m"(*p));
    else __asm__ volatile("prefetcht1 %0" : : "m"(*p));
}
static void ssm__avx512_prefetch_rows(const void *base, ssm_dtype dt, int64_t off, int64_t st_row, int64_t st_el,
                                      int64_t nrows, int64_t n, int mode) {
    const int64_t es = (int64_t)ssm_dtype_size(dt);
    int64_t i, k;
    if (!base || n <= 0 || (st_el != 1 && n > 1)) return;
    for (i = 0; i < nrows; ++i) {
        const char *r = (const char *)base + (off + i * st_row) * es;
        for (k = 0; k < n * es; k += 64) ssm__avx512_prefetch_line(r + k, mode);
        ssm__avx512_prefetch_line(r + n * es - 1, mode);   /* a row's last line */
    }
}

/* Scratch is carved into 64-byte aligned float segments. */
static float *ssm__avx512_carve(float **cursor, int64_t n) {
    float *p = *cursor;
    *cursor += (n + 15) & ~(int64_t)15;
    return p;
}
static int64_t ssm__avx512_round16(int64_t n) { return (n + 15) & ~(int64_t)15; }

/* ================================================================ selective_scan (SPEC §1)

   Sixteen channels share one vector lane each: the exp stream exp(dt A) is fully vector, B and C
   of a group are scalars broadcast to all 16 lanes (one load serves 16 channels), and the states
   of a block of up to 16 (16 registers) stay in registers across a whole time tile. A work item
   is one block of channels of one sequence; blocks never straddle a group. When a group has
   fewer than 16 channels (G = D for S4-style time-invariant B/C), lanes hold channels of
   different groups and B/C become per-lane vectors instead of broadcasts.

   Per time tile of T steps: u, delta, z are transposed to [t][16 channels] tiles, dt' = softplus
   (delta + bias) and dt'u are computed once, B/C are transposed to [t][n]; then each block of
   states runs the recurrence over the tile (13 vector ops per state and step: the exp2 is 10),
   and the outputs are gated and transposed back. N is split into blocks of 16, 8, 4, 2 and 1
   states so no state is padded. */

typedef struct ssm__avx512_scan_ctx {
    const ssm_selective_scan_params *p;
    ssm__view u, delta, A, Bm, Cm, Dskip, z, dbias, h0, cu;
    ssm__mview out, hlast;
    int64_t dpg;       /* channels per group */
    int64_t bpg;       /* channel blocks per group; 0: blocks mix groups (per-lane B/C) */
    int64_t nblocks;   /* channel blocks per sequence */
    int64_t T, NP;     /* time tile; N rounded up to 16 */
    int bf16_insn;
} ssm__avx512_scan_ctx;

/* One block of states over one time tile. B/C rows: bld floats per step. */
typedef struct ssm__avx512_scan_pass {
    float *h;                   /* [NB][16] states in and out */
    const float *A2;            /* [NB][16] A * log2(e) */
    const float *dt, *dtu;      /* [nt][16] */
    float *y;                   /* [nt][16] accumulated outputs */
    const float *B, *C;         /* per step: NB scalars (shared) or NB x 16 lanes */
    int64_t bld, nt;
} ssm__avx512_scan_pass;

SSM__VINLINE void ssm__avx512_scan_states(const ssm__avx512_scan_pass *a, const int NB, const int lane) {
    __m512 h[16];
    int64_t t;
    int n;
    SSM__UNROLL
    for (n = 0; n < NB; ++n) h[n] = _mm512_load_ps(a->h + 16 * n);
    for (t = 0; t < a->nt; ++t) {
        const __m512 d = _mm512_load_ps(a->dt + 16 * t), du = _mm512_load_ps(a->dtu + 16 * t);
        const float *bt = a->B + t * a->bld, *ct = a->C + t * a->bld;
        __m512 y[4];
        y[0] = _mm512_load_ps(a->y + 16 * t);
        y[1] = y[2] = y[3] = _mm512_setzero_ps();
        SSM__UNROLL
        for (n = 0; n < NB; ++n) {   /* four partial sums keep the y dependency chain short */
            const __m512 dA = ssm__avx512_exp2(_mm512_mul_ps(d, _mm512_load_ps(a->A2 + 16 * n)));
            const __m512 bv = lane ? _mm512_load_ps(bt + 16 * n) : _mm512_set1_ps(bt[n]);
            const __m512 cv = lane ? _mm512_load_ps(ct + 16 * n) : _mm512_set1_ps(ct[n]);
            h[n] = _mm512_fmadd_ps(dA, h[n], _mm512_mul_ps(du, bv));
            y[n & 3] = _mm512_fmadd_ps(cv, h[n], y[n & 3]);
        }
        _mm512_store_ps(a->y + 16 * t, _mm512_add_ps(_mm512_add_ps(y[0], y[1]), _mm512_add_ps(y[2], y[3])));
    }
    SSM__UNROLL
    for (n = 0; n < NB; ++n) _mm512_store_ps(a->h + 16 * n, h[n]);
}

#define SSM__AVX512_SCAN_PASS(NB)                                                                   \
    static SSM__AVX512_TARGET void ssm__avx512_scan_pass##NB(const ssm__avx512_scan_pass *a, int lane) { \
        if (lane) ssm__avx512_scan_states(a, NB, 1);                                                \
        else ssm__avx512_scan_states(a, NB, 0);                                                     \
    }
SSM__AVX512_SCAN_PASS(16)
SSM__AVX512_SCAN_PASS(8)
SSM__AVX512_SCAN_PASS(4)
SSM__AVX512_SCAN_PASS(2)
SSM__AVX512_SCAN_PASS(1)
#undef SSM__AVX512_SCAN_PASS

/* Time tile: long rows read better from memory (128 steps: 512 contiguous bytes per row of
   f32, 13% faster than 64 on cpu.scan.m1), as long as the B/C tiles stay within L1. The next
   tile's u, delta and z rows (sixteen 512-byte pieces 8 KiB apart each, which the hardware
   prefetchers did not follow) are prefetched into L1 before a tile's recurrence: cpu.scan.m1,
   f32, 1 thread, 42.3 -> 28.4 ms on a 2-core Sapphire-Rapids-class VM (into L2: 28.6; two
   tiles ahead: 30.9). */
static int64_t ssm__avx512_scan_tile(const ssm_selective_scan_params *p, int lane) {
    return lane ? 16 : p->N <= 32 ? 128 : p->N <= 64 ? 64 : 16;
}

static ssm__scratch ssm__avx512_scan_scratch(const ssm_selective_scan_params *p) {
    const int64_t dpg = p->D / ssm__or1(p->G), NP = ssm__avx512_round16(p->N);
    const int lane = dpg < 16;
    const int64_t T = ssm__avx512_scan_tile(p, lane);
    ssm__scratch s;
    /* saturating: an N no memory can hold asks for SIZE_MAX bytes (SSM_ERR_NOMEM), never wraps */
    const size_t np = ssm__sz(NP), t = ssm__sz(T);
    size_t floats = ssm__sat_mul(2 * 16, np);
    floats = ssm__sat_add(floats, 3 * 16 * t);
    floats = ssm__sat_add(floats, ssm__sat_mul(2 * t, lane ? ssm__sat_mul(16, np) : np));
    s.shared = 0;
    s.per_worker = ssm__sat_mul(sizeof(float), floats);
    return s;
}

/* Sixteen lanes of a per-channel f32 parameter (absent: 0). */
static SSM__AVX512_TARGET __m512 ssm__avx512_param16(ssm__view v, int64_t d0, int nc) {
    float x[16] = {0};
    int k;
    if (v.data)
        for (k = 0; k < nc; ++k) x[k] = ((const float *)v.data)[(d0 + k) * v.st[0]];
    return _mm512_loadu_ps(x);
}

/* Per-lane B or C tile: tile[(t*N + n)*16 + c] = X[b, group of channel d0+c, n, ts+t]. */
static SSM__AVX512_TARGET void ssm__avx512_scan_lane_bc(const ssm__avx512_scan_ctx *c, float *tile, ssm__view X,
                                                        int64_t b, int64_t d0, int nc, int64_t ts, int64_t nt) {
    const int64_t N = c->p->N;
    int64_t n, t;
    int k;
    for (n = 0; n < N; ++n) {
        const int64_t off = b * X.st[0] + n * X.st[2] + ts * X.st[3];
        if (c->dpg == 1) {   /* lane k is group d0 + k: a plain strided tile */
            ssm__avx512_tile_in(tile + 16 * n, 16 * N, X.data, c->p->dtype, off + d0 * X.st[1], X.st[1], X.st[3], nc, nt);
        } else {
            for (t = 0; t < nt; ++t) {
                float *dst = tile + (t * N + n) * 16;
                for (k = 0; k < 16; ++k)
                    dst[k] = k < nc ? ssm__ld(X.data, c->p->dtype, off + ((d0 + k) / c->dpg) * X.st[1] + t * X.st[3]) : 0.0f;
            }
        }
    }
}

static SSM__AVX512_TARGET void ssm__avx512_scan_block(const ssm__avx512_scan_ctx *c, int64_t b, int64_t j,
                                                      int64_t row, int64_t t0, int64_t t1, float *scratch) {
    const ssm_selective_scan_params *p = c->p;
    const ssm_dtype dty = p->dtype;
    const int64_t N = p->N, T = c->T, NP = c->NP;
    const int lane = c->bpg == 0;
    const int64_t d0 = lane ? 16 * j : (j / c->bpg) * c->dpg + 16 * (j % c->bpg);
    const int nc = (int)ssm__min64(16, lane ? p->D - d0 : (j / c->bpg + 1) * c->dpg - d0);
    const int64_t bld = lane ? 16 * N : NP;
    float *cur = scratch;
    float *A2 = ssm__avx512_carve(&cur, 16 * NP), *hs = ssm__avx512_carve(&cur, 16 * NP);
    float *dt = ssm__avx512_carve(&cur, 16 * T), *dtu = ssm__avx512_carve(&cur, 16 * T);
    float *y = ssm__avx512_carve(&cur, 16 * T);
    float *Bt = ssm__avx512_carve(&cur, T * bld), *Ct = ssm__avx512_carve(&cur, T * bld);
    const __m512 dskip = ssm__avx512_param16(c->Dskip, d0, nc), bias = ssm__avx512_param16(c->dbias, d0, nc);
    const ssm__view U = c->u, DL = c->delta, Z = c->z, Bm = c->Bm, Cm = c->Cm;
    int64_t ts, t, n;

    ssm__avx512_tile_in(A2, 16, c->A.data, SSM_F32, d0 * c->A.st[0], c->A.st[0], c->A.st[1], nc, N);
    for (n = 0; n < N; ++n)
        _mm512_store_ps(A2 + 16 * n, _mm512_mul_ps(_mm512_load_ps(A2 + 16 * n), _mm512_set1_ps(1.44269504089f)));
    if (c->h0.data)
        ssm__avx512_tile_in(hs, 16, c->h0.data, SSM_F32, row * c->h0.st[0] + d0 * c->h0.st[1], c->h0.st[1],
                            c->h0.st[2], nc, N);
    else
        for (n = 0; n < N; ++n) _mm512_store_ps(hs + 16 * n, _mm512_setzero_ps());

    for (ts = t0; ts < t1; ts += T) {
        const int64_t nt = ssm__min64(T, t1 - ts);
        int64_t n0;
        ssm__avx512_tile_in(dt, 16, DL.data, dty, b * DL.st[0] + d0 * DL.st[1] + ts * DL.st[2], DL.st[1], DL.st[2], nc, nt);
        ssm__avx512_tile_in(y, 16, U.data, dty, b * U.st[0] + d0 * U.st[1] + ts * U.st[2], U.st[1], U.st[2], nc, nt);
        for (t = 0; t < nt; ++t) {   /* dt' = softplus(delta + bias); y starts as Dskip * u */
            const __m512 uv = _mm512_load_ps(y + 16 * t);
            __m512 dv = _mm512_add_ps(_mm512_load_ps(dt + 16 * t), bias);
            if (p->delta_softplus) dv = ssm__avx512_softplus(dv, 20.0f);
            _mm512_store_ps(dt + 16 * t, dv);
            _mm512_store_ps(dtu + 16 * t, _mm512_mul_ps(dv, uv));
            _mm512_store_ps(y + 16 * t, _mm512_mul_ps(dskip, uv));
        }
        if (lane) {
            ssm__avx512_scan_lane_bc(c, Bt, Bm, b, d0, nc, ts, nt);
            ssm__avx512_scan_lane_bc(c, Ct, Cm, b, d0, nc, ts, nt);
        } else {
            const int64_t g = d0 / c->dpg;
            for (n0 = 0; n0 < N; n0 += 16) {
                const int nn = (int)ssm__min64(16, N - n0);
                ssm__avx512_tile_in(Bt + n0, NP, Bm.data, dty, b * Bm.st[0] + g * Bm.st[1] + n0 * Bm.st[2] + ts * Bm.st[3],
                                    Bm.st[2], Bm.st[3], nn, nt);
                ssm__avx512_tile_in(Ct + n0, NP, Cm.data, dty, b * Cm.st[0] + g * Cm.st[1] + n0 * Cm.st[2] + ts * Cm.st[3],
                                    Cm.st[2], Cm.st[3], nn, nt);
            }
        }
        if (ts + nt < t1) {   /* the next tile's rows into L1 while this one computes: see ssm__avx512_scan_tile */
            const int64_t tn = ts + nt, nn = ssm__min64(T, t1 - tn);
            ssm__avx512_prefetch_rows(U.data, dty, b * U.st[0] + d0 * U.st[1] + tn * U.st[2], U.st[1], U.st[2], nc, nn, SSM__PF_L1);
            ssm__avx512_prefetch_rows(DL.data, dty, b * DL.st[0] + d0 * DL.st[1] + tn * DL.st[2], DL.st[1], DL.st[2], nc, nn, SSM__PF_L1);
            ssm__avx512_prefetch_rows(Z.data, dty, b * Z.st[0] + d0 * Z.st[1] + tn * Z.st[2], Z.st[1], Z.st[2], nc, nn, SSM__PF_L1);
        }
        for (n0 = 0; n0 < N;) {
            const int64_t left = N - n0;
            const int nb = left >= 16 ? 16 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
            ssm__avx512_scan_pass a;
            a.h = hs + 16 * n0;
            a.A2 = A2 + 16 * n0;
            a.dt = dt;
            a.dtu = dtu;
            a.y = y;
            a.B = Bt + (lane ? 16 * n0 : n0);
            a.C = Ct + (lane ? 16 * n0 : n0);
            a.bld = bld;
            a.nt = nt;
            switch (nb) {
            case 16: ssm__avx512_scan_pass16(&a, lane); break;
            case 8: ssm__avx512_scan_pass8(&a, lane); break;
            case 4: ssm__avx512_scan_pass4(&a, lane); break;
            case 2: ssm__avx512_scan_pass2(&a, lane); break;
            default: ssm__avx512_scan_pass1(&a, lane); break;
            }
            n0 += nb;
        }
        if (Z.data) {
            ssm__avx512_tile_in(dtu, 16, Z.data, dty, b * Z.st[0] + d0 * Z.st[1] + ts * Z.st[2], Z.st[1], Z.st[2], nc, nt);
            for (t = 0; t < nt; ++t)
                _mm512_store_ps(y + 16 * t, _mm512_mul_ps(_mm512_load_ps(y + 16 * t), ssm__avx512_silu(_mm512_load_ps(dtu + 16 * t))));
        }
        ssm__avx512_tile_out(c->out.data, dty, b * c->out.st[0] + d0 * c->out.st[1] + ts * c->out.st[2], c->out.st[1],
                             c->out.st[2], nc, nt, y, 16, c->bf16_insn);
    }
    if (c->hlast.data)
        ssm__avx512_tile_out(c->hlast.data, SSM_F32, row * c->hlast.st[0] + d0 * c->hlast.st[1], c->hlast.st[1],
                             c->hlast.st[2], nc, N, hs, 16, 0);
}

static SSM__AVX512_TARGET void ssm__avx512_scan_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_scan_ctx *c = (const ssm__avx512_scan_ctx *)vc;
    const ssm_selective_scan_params *p = c->p;
    int64_t i;
    for (i = begin; i < end; ++i) {
        const int64_t r = i / c->nblocks, j = i % c->nblocks;
        if (!c->cu.data) {
            ssm__avx512_scan_block(c, r, j, r, 0, p->L, (float *)scratch);
        } else if (r < p->nseq) {
            ssm__avx512_scan_block(c, 0, j, r, ssm__cu(c->cu, r), ssm__cu(c->cu, r + 1), (float *)scratch);
        } else {   /* tokens past the last sequence are padding: written as 0 */
            const int64_t t0 = ssm__cu(c->cu, p->nseq);
            const int64_t d0 = c->bpg ? (j / c->bpg) * c->dpg + 16 * (j % c->bpg) : 16 * j;
            const int64_t d1 = c->bpg ? ssm__min64(d0 + 16, (j / c->bpg + 1) * c->dpg) : ssm__min64(d0 + 16, p->D);
            int64_t d;
            for (d = d0; d < d1; ++d)
                ssm__store_zeros(c->out.data, p->dtype, d * c->out.st[1] + t0 * c->out.st[2], c->out.st[2], p->L - t0);
        }
    }
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_selective_scan(const ssm_selective_scan_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__avx512_scan_ctx c;
    ssm__scan_operands(p, &o);
    c.p = p;
    c.u = ssm__opview(&o, SSM__SC_U);
    c.delta = ssm__opview(&o, SSM__SC_DELTA);
    c.A = ssm__opview(&o, SSM__SC_A);
    c.Bm = ssm__opview(&o, SSM__SC_B);
    c.Cm = ssm__opview(&o, SSM__SC_C);
    c.Dskip = ssm__opview(&o, SSM__SC_DSKIP);
    c.z = ssm__opview(&o, SSM__SC_Z);
    c.dbias = ssm__opview(&o, SSM__SC_DBIAS);
    c.h0 = ssm__opview(&o, SSM__SC_H0);
    c.cu = ssm__opview(&o, SSM__SC_CU);
    c.out = ssm__opmview(&o, SSM__SC_OUT);
    c.hlast = ssm__opmview(&o, SSM__SC_HLAST);
    c.dpg = p->D / ssm__or1(p->G);
    c.bpg = c.dpg < 16 ? 0 : (c.dpg + 15) / 16;
    c.nblocks = c.bpg ? ssm__or1(p->G) * c.bpg : (p->D + 15) / 16;
    c.T = ssm__avx512_scan_tile(p, c.bpg == 0);
    c.NP = ssm__avx512_round16(p->N);
    c.bf16_insn = ssm__avx512_bf16_insn(p->dtype);
    ssm__parallel(run, (c.cu.data ? p->nseq + 1 : p->B) * c.nblocks, ssm__avx512_scan_range, &c);
    return SSM_OK;
}

/* ================================================================ state_update (SPEC §2)

   A work item is one (batch entry, head) as in the portable kernel; a worker takes its items in
   runs of consecutive heads of one batch entry and group (at most SSM__AVX512_RUN (head, p)
   pairs), so B and C are converted once per run. The
   per-(h, p) scalars of a run (dt' with bias, softplus and limits, dt'x, the SiLU gate, Dskip x,
   and exp(dt'A) where A is tied over N) are computed 16 at a time first, so Mamba-1's P = 1
   heads do not pay one scalar softplus each. Then each state row is streamed once: load, update,
   store, and dot with C in the same pass. With A tied over N (Mamba-2: also over P), the decay
   is one broadcast per row; otherwise exp2 runs per state element. */

#define SSM__AVX512_RUN 256

typedef struct ssm__avx512_step_ctx {
    const ssm_state_update_params *p;
    ssm__mview state, out;
    ssm__view x, dt, A, Bm, Cm, Dskip, z, dtbias, idx;
    int64_t per_group, NP;
    int a_per_row;   /* A constant along N: one decay per state row */
    int bf16_insn;
} ssm__avx512_step_ctx;

static ssm__scratch ssm__avx512_step_scratch(const ssm_state_update_params *p) {
    ssm__scratch s;
    s.shared = 0;
    s.per_worker = sizeof(float) * (size_t)(4 * ssm__avx512_round16(p->N) + 8 * SSM__AVX512_RUN);
    return s;
}

/* dst[f - f0] = X[.., h, p] for the flattened f = h*P + p in [f0, f1); off addresses (h, p) = 0. */
static SSM__AVX512_TARGET void ssm__avx512_gather_hp(float *dst, const void *base, ssm_dtype dt, int64_t off,
                                                     int64_t st_h, int64_t st_p, int64_t P, int64_t f0, int64_t f1) {
    int64_t f = f0;
    if (st_h == P * st_p) {
        ssm__avx512_load_row(dst, base, dt, off + f0 * st_p, st_p, f1 - f0);
        return;
    }
    while (f < f1) {
        const int64_t h = f / P, p_ = f % P, n = ssm__min64(P - p_, f1 - f);
        ssm__avx512_load_row(dst + (f - f0), base, dt, off + h * st_h + p_ * st_p, st_p, n);
        f += n;
    }
}

static SSM__AVX512_TARGET void ssm__avx512_scatter_hp(void *base, ssm_dtype dt, int64_t off, int64_t st_h,
                                                      int64_t st_p, int64_t P, int64_t f0, int64_t f1,
                                                      const float *src, int bf16_insn) {
    int64_t f = f0;
    if (st_h == P * st_p) {
        ssm__avx512_store_row(base, dt, off + f0 * st_p, st_p, src, f1 - f0, bf16_insn);
        return;
    }
    while (f < f1) {
        const int64_t h = f / P, p_ = f % P, n = ssm__min64(P - p_, f1 - f);
        ssm__avx512_store_row(base, dt, off + h * st_h + p_ * st_p, st_p, src + (f - f0), n, bf16_insn);
        f += n;
    }
}

/* One state row: s = dA s + dtx B; returns sum_n s C. Unit stride; B, C zero-padded to 16.
   a2: A * log2(e) per element, or NULL to use the row's decay dA. */
static SSM__AVX512_TARGET float ssm__avx512_step_row(float *s, int64_t N, const float *Bv, const float *Cv,
                                                     const float *a, float dtp, float dA, float dtx) {
    const __m512 dav = _mm512_set1_ps(dA), dtl = _mm512_set1_ps(dtp * 1.44269504089f), dxv = _mm512_set1_ps(dtx);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t n;
    for (n = 0; n < N; n += 16) {
        const __mmask16 m = ssm__avx512_mask(N - n);
        const __m512 decay = a ? ssm__avx512_exp2(_mm512_mul_ps(dtl, ssm__avx512_ldm(m, a + n))) : dav;
        const __m512 v = _mm512_fmadd_ps(decay, ssm__avx512_ldm(m, s + n), _mm512_mul_ps(dxv, _mm512_load_ps(Bv + n)));
        ssm__avx512_stm(s + n, m, v);
        if ((n >> 4) & 1) acc1 = _mm512_mask3_fmadd_ps(v, _mm512_load_ps(Cv + n), acc1, m);
        else acc0 = _mm512_mask3_fmadd_ps(v, _mm512_load_ps(Cv + n), acc0, m);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* The state (for writing) and A bytes SSM__AVX512_STEP_AHEAD past a contiguous row's, i.e. the
   rows a few iterations on where rows are contiguous (as in the usual (Ns, H, P, N) layouts;
   elsewhere the prefetches are merely wasted). The hardware prefetchers restart at every 4 KiB
   page: cold cpu.step.m1 (64-byte rows, 1 thread, f32) took 0.53 ms without, 0.26 ms with;
   cpu.step.m2 1.30 -> 1.25 ms (2-core Sapphire-Rapids-class VM; 4 KiB ahead: 0.27 and 1.32).
   Addresses as integers: they may lie past the end of the arrays, and prefetches never fault. */
#ifndef SSM__AVX512_STEP_AHEAD
#define SSM__AVX512_STEP_AHEAD 2048
#endif
static void ssm__avx512_step_prefetch(const float *row, const float *arow, int64_t N) {
    const uintptr_t r = (uintptr_t)row + SSM__AVX512_STEP_AHEAD, ra = (uintptr_t)arow + SSM__AVX512_STEP_AHEAD;
    int64_t o;
    for (o = 0; o < 4 * N; o += 64) {
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)(r + (uintptr_t)o)));
        if (arow) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(ra + (uintptr_t)o)));
    }
}

/* Heads [f0/P, ..) of batch entry b: the flattened (h, p) range [f0, f1) of one run. */
static SSM__AVX512_TARGET void ssm__avx512_step_run(const ssm__avx512_step_ctx *c, int64_t b, int64_t f0, int64_t f1,
                                                    float *scratch, int64_t *bc_key) {
    const ssm_state_update_params *p = c->p;
    const ssm_dtype dty = p->dtype;
    const int64_t P = p->P, N = p->N, NP = c->NP, n_f = f1 - f0;
    const int64_t s = c->idx.data ? ((const int32_t *)c->idx.data)[b * c->idx.st[0]] : b;
    float *Bv = scratch, *Cv = Bv + NP, *rowbuf = Cv + NP, *abuf = rowbuf + NP;
    float *X = abuf + NP, *DT = X + SSM__AVX512_RUN, *DTX = DT + SSM__AVX512_RUN, *DA = DTX + SSM__AVX512_RUN;
    float *GATE = DA + SSM__AVX512_RUN, *SK = GATE + SSM__AVX512_RUN, *Y = SK + SSM__AVX512_RUN;
    float *TMP = Y + SSM__AVX512_RUN;
    float *state = (float *)c->state.data;
    const float *A = (const float *)c->A.data;
    const int64_t *st = c->state.st;
    int64_t f, i;
    if (s < 0) {   /* padding entry: output 0, no state touched */
        for (i = 0; i < n_f; ++i) Y[i] = 0.0f;
        ssm__avx512_scatter_hp(c->out.data, dty, b * c->out.st[0], c->out.st[1], c->out.st[2], P, f0, f1, Y, c->bf16_insn);
        return;
    }
    {   /* B and C of the run's group, unless the previous run already holds them */
        const int64_t g = (f0 / P) / c->per_group;
        if (bc_key[0] != b || bc_key[1] != g) {
            for (i = 0; i < NP; ++i) Bv[i] = Cv[i] = 0.0f;
            ssm__avx512_load_row(Bv, c->Bm.data, dty, b * c->Bm.st[0] + g * c->Bm.st[1], c->Bm.st[2], N);
            ssm__avx512_load_row(Cv, c->Cm.data, dty, b * c->Cm.st[0] + g * c->Cm.st[1], c->Cm.st[2], N);
            bc_key[0] = b;
            bc_key[1] = g;
        }
    }
    ssm__avx512_gather_hp(X, c->x.data, dty, b * c->x.st[0], c->x.st[1], c->x.st[2], P, f0, f1);
    ssm__avx512_gather_hp(DT, c->dt.data, dty, b * c->dt.st[0], c->dt.st[1], c->dt.st[2], P, f0, f1);
    if (c->dtbias.data) ssm__avx512_gather_hp(TMP, c->dtbias.data, SSM_F32, 0, c->dtbias.st[0], c->dtbias.st[1], P, f0, f1);
    if (c->a_per_row) ssm__avx512_gather_hp(DA, A, SSM_F32, 0, c->A.st[0], c->A.st[1], P, f0, f1);
    for (i = 0; i < n_f; i += 16) {   /* dt' = clamp(softplus(dt + bias)); dt'x; exp(dt'A) */
        const __mmask16 m = ssm__avx512_mask(n_f - i);
        __m512 d = ssm__avx512_ldm(m, DT + i);
        if (c->dtbias.data) d = _mm512_add_ps(d, ssm__avx512_ldm(m, TMP + i));
        if (p->dt_softplus) d = ssm__avx512_softplus(d, 20.0f);
        if (p->dt_limit) d = ssm__avx512_clamp(d, p->dt_min, p->dt_max);
        ssm__avx512_stm(DT + i, m, d);
        ssm__avx512_stm(DTX + i, m, _mm512_mul_ps(d, ssm__avx512_ldm(m, X + i)));
        if (c->a_per_row) ssm__avx512_stm(DA + i, m, ssm__avx512_exp(_mm512_mul_ps(d, ssm__avx512_ldm(m, DA + i))));
    }
    for (f = f0; f < f1; ++f) {
        const int64_t h = f / P, p_ = f % P, k = f - f0;
        float *row = state + s * st[0] + h * st[1] + p_ * st[2];
        const float *arow = NULL;
        if (!c->a_per_row) {
            arow = A + h * c->A.st[0] + p_ * c->A.st[1];
            if (c->A.st[2] != 1) {
                ssm__load_f32(abuf, arow, SSM_F32, 0, c->A.st[2], N);
                arow = abuf;
            }
        }
        if (st[3] == 1) {
            ssm__avx512_step_prefetch(row, arow, N);
            Y[k] = ssm__avx512_step_row(row, N, Bv, Cv, arow, DT[k], c->a_per_row ? DA[k] : 0.0f, DTX[k]);
        } else {   /* strided state row: through a contiguous copy */
            ssm__load_f32(rowbuf, row, SSM_F32, 0, st[3], N);
            Y[k] = ssm__avx512_step_row(rowbuf, N, Bv, Cv, arow, DT[k], c->a_per_row ? DA[k] : 0.0f, DTX[k]);
            ssm__store_f32(row, SSM_F32, 0, st[3], rowbuf, N);
        }
    }
    if (c->Dskip.data) ssm__avx512_gather_hp(SK, c->Dskip.data, SSM_F32, 0, c->Dskip.st[0], c->Dskip.st[1], P, f0, f1);
    if (c->z.data) ssm__avx512_gather_hp(GATE, c->z.data, dty, b * c->z.st[0], c->z.st[1], c->z.st[2], P, f0, f1);
    for (i = 0; i < n_f; i += 16) {   /* y = (y + Dskip x) * silu(z) */
        const __mmask16 m = ssm__avx512_mask(n_f - i);
        __m512 y = ssm__avx512_ldm(m, Y + i);
        if (c->Dskip.data) y = _mm512_fmadd_ps(ssm__avx512_ldm(m, SK + i), ssm__avx512_ldm(m, X + i), y);
        if (c->z.data) y = _mm512_mul_ps(y, ssm__avx512_silu(ssm__avx512_ldm(m, GATE + i)));
        ssm__avx512_stm(Y + i, m, y);
    }
    ssm__avx512_scatter_hp(c->out.data, dty, b * c->out.st[0], c->out.st[1], c->out.st[2], P, f0, f1, Y, c->bf16_insn);
}

static SSM__AVX512_TARGET void ssm__avx512_step_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_step_ctx *c = (const ssm__avx512_step_ctx *)vc;
    const int64_t H = c->p->H, P = c->p->P;
    int64_t bc_key[2] = {-1, -1};
    int64_t i = begin;
    while (i < end) {   /* items are (b, h); a run stays in one batch entry and one group */
        const int64_t b = i / H, h = i % H;
        const int64_t h_end = ssm__min64((h / c->per_group + 1) * c->per_group, h + (end - i));
        int64_t f = h * P;
        const int64_t f_end = h_end * P;
        while (f < f_end) {
            const int64_t f1 = ssm__min64(f_end, f + SSM__AVX512_RUN);
            ssm__avx512_step_run(c, b, f, f1, (float *)scratch, bc_key);
            f = f1;
        }
        i += h_end - h;
    }
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_state_update(const ssm_state_update_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__avx512_step_ctx c;
    ssm__step_operands(p, &o);
    c.p = p;
    c.state = ssm__opmview(&o, SSM__SU_STATE);
    c.x = ssm__opview(&o, SSM__SU_X);
    c.dt = ssm__opview(&o, SSM__SU_DT);
    c.A = ssm__opview(&o, SSM__SU_A);
    c.Bm = ssm__opview(&o, SSM__SU_B);
    c.Cm = ssm__opview(&o, SSM__SU_C);
    c.Dskip = ssm__opview(&o, SSM__SU_DSKIP);
    c.z = ssm__opview(&o, SSM__SU_Z);
    c.dtbias = ssm__opview(&o, SSM__SU_DTBIAS);
    c.idx = ssm__opview(&o, SSM__SU_IDX);
    c.out = ssm__opmview(&o, SSM__SU_OUT);
    c.per_group = p->H / ssm__or1(p->G);
    c.NP = ssm__avx512_round16(p->N);
    c.a_per_row = p->N == 1 || c.A.st[2] == 0;
    c.bf16_insn = ssm__avx512_bf16_insn(p->dtype);
    ssm__parallel(run, p->B * p->H, ssm__avx512_step_range, &c);
    return SSM_OK;
}

/* ================================================================ conv1d (SPEC §4)

   Two shapes of the same computation, chosen per call:
   - over time (rows long and time-contiguous, Mamba-1's (B, D, L)): one work item is one channel
     of one sequence; x is converted into ext = [W-1 carried inputs | tile of x] and 16 outputs
     are W FMAs on unaligned loads of ext at offsets 0..W-1, plus bias and SiLU in registers;
   - over channels (decode, short rows, or channel-contiguous layouts such as (B, L, D) through
     strides): one work item is 16 channels of one sequence; weights, carried state and x are
     [time][16 channel] tiles and each output row is W FMAs of whole tiles rows.
   Either way the W-1 inputs left in front of ext at the end are state_last. */

#define SSM__AVX512_CONV_T 256   /* time tile of the time-vectorised shape */
/* How far ahead (bytes) the time-vectorised rows are prefetched: x into L1, out for writing.
   The hardware prefetchers restart at every 4 KiB page and a single core then waits on memory;
   2 KiB ahead took the cold cpu.conv (1 thread, f32) from 11.7 to 16.0 GB/s on a 2-core
   Sapphire-Rapids-class VM (1 and 4 KiB: within a few percent). A prefetch may reach past the
   row (into the next channel's, usually the next item of the same worker): prefetches never
   fault. */
#ifndef SSM__AVX512_CONV_AHEAD
#define SSM__AVX512_CONV_AHEAD 2048
#endif
#define SSM__AVX512_CONV_TC 64   /* time tile of the channel-vectorised shape */

typedef struct ssm__avx512_conv_ctx {
    const ssm_conv1d_params *p;
    ssm__view x, w, bias, s0, idx, cu;
    ssm__mview out, slast;
    int by_channel;
    int64_t nblocks;   /* channel items per sequence: D, or D/16 rounded up */
    int bf16_insn;
} ssm__avx512_conv_ctx;

static int ssm__avx512_conv_by_channel(const ssm_conv1d_params *p, const int64_t *x_st) {
    return p->L < 16 || (x_st[1] == 1 && x_st[2] != 1);
}

static ssm__scratch ssm__avx512_conv_scratch(const ssm_conv1d_params *p) {
    const size_t by_time = 2 * SSM__AVX512_CONV_T, by_chan = 16 * (16 + 16 + SSM__AVX512_CONV_TC + SSM__AVX512_CONV_TC);
    ssm__scratch s;
    (void)p;
    s.shared = 0;
    s.per_worker = sizeof(float) * (by_time > by_chan ? by_time : by_chan);
    return s;
}

/* Sixteen outputs per step from one new input vector: the W shifted input windows are two-source
   permutes (vpermt2ps) of the current and previous vectors, so nothing is staged through memory
   (staging through a buffer and reading it back unaligned cost 2.5x here). Inputs come from a unit-stride row of any dtype,
   outputs go to one; *prev carries the previous 16 inputs (the last W-1 lanes matter) in and out.
   nt is a multiple of 16 except on the last call for a row. */
SSM__VINLINE void ssm__avx512_conv_taps(const void *src, ssm_dtype sdt, int64_t soff, void *dst, ssm_dtype ddt,
                                        int64_t doff, int64_t nt, __m512 *prev, const float *wv, __m512 bias,
                                        int silu, int bf16_insn, const int W) {
    __m512 w[8], last = *prev;
    __m512i shift[8];
    int64_t t;
    int k;
    SSM__UNROLL
    for (k = 0; k < W; ++k) {   /* lane i of window k: lane i + 17 - W + k of [last | cur] */
        w[k] = _mm512_set1_ps(wv[k]);
        shift[k] = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                    _mm512_set1_epi32(17 - W + k));
    }
    /* addresses as integers: the prefetched ones may lie past the end of the row's array */
    const uintptr_t xs = 16 * ssm_dtype_size(sdt), os = 16 * ssm_dtype_size(ddt);
    uintptr_t xa = (uintptr_t)src + xs / 16 * (uintptr_t)soff + SSM__AVX512_CONV_AHEAD;
    uintptr_t oa = (uintptr_t)dst + os / 16 * (uintptr_t)doff + SSM__AVX512_CONV_AHEAD;
    for (t = 0; t < nt; t += 16, xa += xs, oa += os) {
        const __mmask16 m = ssm__avx512_mask(nt - t);
        const __m512 cur = m == 0xffff && sdt == SSM_F32 ? _mm512_loadu_ps((const float *)src + soff + t)
                                                          : ssm__avx512_vload(src, sdt, soff + t, m);
        __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)xa));
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)oa));
        __m512 acc = _mm512_fmadd_ps(w[W - 1], cur, bias);
        if (t >= 16 && m == 0xffff && sdt == SSM_F32) {   /* f32 inside the row: windows are plain loads */
            const float *x = (const float *)src + soff + t - (W - 1);
            SSM__UNROLL
            for (k = 0; k < W - 1; ++k) acc = _mm512_fmadd_ps(w[k], _mm512_loadu_ps(x + k), acc);
        } else {
            SSM__UNROLL
            for (k = 0; k < W - 1; ++k) acc = _mm512_fmadd_ps(w[k], _mm512_permutex2var_ps(last, shift[k], cur), acc);
        }
        if (silu) acc = ssm__avx512_silu(acc);
        if (m == 0xffff && ddt == SSM_F32) _mm512_storeu_ps((float *)dst + doff + t, acc);
        else ssm__avx512_vstore(dst, ddt, doff + t, m, acc, bf16_insn);
        last = cur;
    }
    *prev = last;
}

/* The same over [time][16 channel] tiles: yt[t] = act(bias + sum_k wt[k] ext[t + k]). */
SSM__VINLINE void ssm__avx512_conv_taps16(const float *ext, const float *wt, float *yt, int64_t nt, __m512 bias,
                                          int silu, const int W) {
    __m512 w[8];
    int64_t t;
    int k;
    SSM__UNROLL
    for (k = 0; k < W; ++k) w[k] = _mm512_load_ps(wt + 16 * k);
    for (t = 0; t < nt; ++t) {
        __m512 acc = bias;
        SSM__UNROLL
        for (k = 0; k < W; ++k) acc = _mm512_fmadd_ps(w[k], _mm512_load_ps(ext + 16 * (t + k)), acc);
        if (silu) acc = ssm__avx512_silu(acc);
        _mm512_store_ps(yt + 16 * t, acc);
    }
}

#define SSM__AVX512_CONV_SWITCH(W, CALL) \
    switch (W) {                          \
    case 1: CALL(1); break;               \
    case 2: CALL(2); break;               \
    case 3: CALL(3); break;               \
    case 4: CALL(4); break;               \
    case 5: CALL(5); break;               \
    case 6: CALL(6); break;               \
    case 7: CALL(7); break;               \
    default: CALL(8); break;              \
    }

static SSM__AVX512_TARGET void ssm__avx512_conv_run(const void *src, ssm_dtype sdt, int64_t soff, void *dst,
                                                    ssm_dtype ddt, int64_t doff, int64_t nt, __m512 *prev,
                                                    const float *w, __m512 bias, int silu, int bf16_insn, int W) {
#define SSM__CALL(k) ssm__avx512_conv_taps(src, sdt, soff, dst, ddt, doff, nt, prev, w, bias, silu, bf16_insn, k)
    SSM__AVX512_CONV_SWITCH(W, SSM__CALL)
#undef SSM__CALL
}

static SSM__AVX512_TARGET void ssm__avx512_conv_tile(const float *ext, const float *wt, float *yt, int64_t nt,
                                                     __m512 bias, int silu, int W) {
#define SSM__CALL(k) ssm__avx512_conv_taps16(ext, wt, yt, nt, bias, silu, k)
    SSM__AVX512_CONV_SWITCH(W, SSM__CALL)
#undef SSM__CALL
}
#undef SSM__AVX512_CONV_SWITCH

/* One channel d of one sequence, vectorised over time. Unit-stride rows are read and written in
   place; other strides go through row buffers of SSM__AVX512_CONV_T. */
static SSM__AVX512_TARGET void ssm__avx512_conv_time(const ssm__avx512_conv_ctx *c, int64_t b, int64_t d, int64_t row,
                                                     int64_t t0, int64_t t1, float *scratch) {
    const ssm_conv1d_params *p = c->p;
    const ssm_dtype dty = p->dtype;
    const int64_t W = p->W, n = t1 - t0, sx = c->x.st[2], so = c->out.st[2];
    const int64_t xoff = b * c->x.st[0] + d * c->x.st[1] + t0 * sx, ooff = b * c->out.st[0] + d * c->out.st[1] + t0 * so;
    const float *wrow = (const float *)c->w.data + d * c->w.st[0];
    const __m512 bias = _mm512_set1_ps(ssm__param(c->bias, d * c->bias.st[0], 0.0f));
    float *xbuf = scratch, *ybuf = xbuf + SSM__AVX512_CONV_T;
    float w[8], carry[16] = {0};
    __m512 prev;
    int64_t k, ts;
    for (k = 0; k < W; ++k) w[k] = wrow[k * c->w.st[1]];
    for (k = 0; k < W - 1; ++k)   /* the carried inputs sit in the top lanes of the "previous" vector */
        carry[16 - (W - 1) + k] = ssm__param(c->s0, row * c->s0.st[0] + d * c->s0.st[1] + k * c->s0.st[2], 0.0f);
    prev = _mm512_loadu_ps(carry);
    if (sx == 1 && so == 1) {
        ssm__avx512_conv_run(c->x.data, dty, xoff, c->out.data, dty, ooff, n, &prev, w, bias, p->silu, c->bf16_insn, (int)W);
    } else {
        for (ts = 0; ts < n; ts += SSM__AVX512_CONV_T) {
            const int64_t nt = ssm__min64(SSM__AVX512_CONV_T, n - ts);
            ssm__avx512_load_row(xbuf, c->x.data, dty, xoff + ts * sx, sx, nt);
            ssm__avx512_conv_run(xbuf, SSM_F32, 0, ybuf, SSM_F32, 0, nt, &prev, w, bias, p->silu, 0, (int)W);
            ssm__avx512_store_row(c->out.data, dty, ooff + ts * so, so, ybuf, nt, c->bf16_insn);
        }
    }
    if (c->slast.data)   /* the last W-1 entries of [state0 | x] */
        for (k = 0; k < W - 1; ++k) {
            const int64_t e = n + k;   /* index into [state0 | x] */
            const float v = e < W - 1 ? carry[16 - (W - 1) + e] : ssm__ld(c->x.data, dty, xoff + (e - (W - 1)) * sx);
            ((float *)c->slast.data)[row * c->slast.st[0] + d * c->slast.st[1] + k * c->slast.st[2]] = v;
        }
}

/* Sixteen channels [d0, d0 + nc) of one sequence, vectorised over channels. */
static SSM__AVX512_TARGET void ssm__avx512_conv_chan(const ssm__avx512_conv_ctx *c, int64_t b, int64_t d0, int nc,
                                                     int64_t row, int64_t t0, int64_t t1, float *scratch) {
    const ssm_conv1d_params *p = c->p;
    const int64_t W = p->W, T = SSM__AVX512_CONV_TC;
    float *wt = scratch, *ext = wt + 16 * 16, *yt = ext + 16 * (16 + T);   /* ext rows: W-1 carried + T */
    const __m512 bias = ssm__avx512_param16(c->bias, d0, nc);
    int64_t k, ts, t;
    ssm__avx512_tile_in(wt, 16, c->w.data, SSM_F32, d0 * c->w.st[0], c->w.st[0], c->w.st[1], nc, W);
    if (c->s0.data && W > 1)
        ssm__avx512_tile_in(ext, 16, c->s0.data, SSM_F32, row * c->s0.st[0] + d0 * c->s0.st[1], c->s0.st[1],
                            c->s0.st[2], nc, W - 1);
    else
        for (k = 0; k < W - 1; ++k) _mm512_store_ps(ext + 16 * k, _mm512_setzero_ps());
    for (ts = t0; ts < t1; ts += T) {
        const int64_t nt = ssm__min64(T, t1 - ts);
        /* x rows land after the carried ones; tile_in wants a 16-aligned start, so stage them */
        ssm__avx512_tile_in(yt, 16, c->x.data, p->dtype, b * c->x.st[0] + d0 * c->x.st[1] + ts * c->x.st[2], c->x.st[1],
                            c->x.st[2], nc, nt);
        for (t = 0; t < nt; ++t) _mm512_store_ps(ext + 16 * (W - 1 + t), _mm512_load_ps(yt + 16 * t));
        ssm__avx512_conv_tile(ext, wt, yt, nt, bias, p->silu, (int)W);
        ssm__avx512_tile_out(c->out.data, p->dtype, b * c->out.st[0] + d0 * c->out.st[1] + ts * c->out.st[2],
                             c->out.st[1], c->out.st[2], nc, nt, yt, 16, c->bf16_insn);
        for (k = 0; k < W - 1; ++k) _mm512_store_ps(ext + 16 * k, _mm512_load_ps(ext + 16 * (nt + k)));
    }
    if (c->slast.data && W > 1)
        ssm__avx512_tile_out(c->slast.data, SSM_F32, row * c->slast.st[0] + d0 * c->slast.st[1], c->slast.st[1],
                             c->slast.st[2], nc, W - 1, ext, 16, 0);
}

static SSM__AVX512_TARGET void ssm__avx512_conv_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_conv_ctx *c = (const ssm__avx512_conv_ctx *)vc;
    const ssm_conv1d_params *p = c->p;
    const int64_t nseq = c->cu.data ? p->nseq : p->B;
    int64_t i;
    for (i = begin; i < end; ++i) {
        const int64_t r = i / c->nblocks, j = i % c->nblocks;
        const int64_t d0 = c->by_channel ? 16 * j : j, nc = c->by_channel ? ssm__min64(16, p->D - d0) : 1;
        int64_t b = r, t0 = 0, t1 = p->L, row = r, d;
        if (c->cu.data) {
            b = 0;
            t0 = ssm__cu(c->cu, r);
            t1 = r < nseq ? ssm__cu(c->cu, r + 1) : p->L;
        }
        if (r < nseq && c->idx.data) row = ((const int32_t *)c->idx.data)[r * c->idx.st[0]];
        if (r >= nseq || row < 0) {   /* padding tokens, or a padded cache entry: output 0 */
            for (d = d0; d < d0 + nc; ++d)
                ssm__store_zeros(c->out.data, p->dtype, b * c->out.st[0] + d * c->out.st[1] + t0 * c->out.st[2],
                                 c->out.st[2], t1 - t0);
            continue;
        }
        if (c->by_channel) ssm__avx512_conv_chan(c, b, d0, (int)nc, row, t0, t1, (float *)scratch);
        else ssm__avx512_conv_time(c, b, d0, row, t0, t1, (float *)scratch);
    }
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_conv1d(const ssm_conv1d_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__avx512_conv_ctx c;
    ssm__conv_operands(p, &o);
    c.p = p;
    c.x = ssm__opview(&o, SSM__CV_X);
    c.w = ssm__opview(&o, SSM__CV_W);
    c.bias = ssm__opview(&o, SSM__CV_BIAS);
    c.s0 = ssm__opview(&o, SSM__CV_S0);
    c.idx = ssm__opview(&o, SSM__CV_IDX);
    c.cu = ssm__opview(&o, SSM__CV_CU);
    c.out = ssm__opmview(&o, SSM__CV_OUT);
    c.slast = ssm__opmview(&o, SSM__CV_SLAST);
    c.by_channel = ssm__avx512_conv_by_channel(p, c.x.st);
    c.nblocks = c.by_channel ? (p->D + 15) / 16 : p->D;
    c.bf16_insn = ssm__avx512_bf16_insn(p->dtype);
    ssm__parallel(run, (c.cu.data ? p->nseq + 1 : p->B) * c.nblocks, ssm__avx512_conv_range, &c);
    return SSM_OK;
}

/* ================================================================ ssd (SPEC §3)

   The chunked algorithm of the portable kernel (same work items, same double-precision segment
   sums and clamped decays), with its four GEMM-shaped loops on one register-blocked f32
   micro-kernel: 6 rows x 64 columns of accumulators (24 zmm), each k step one 64-float row of the
   right operand (4 loads) against 6 broadcasts of the left one (about 95% of FMA peak on L1/L2
   tiles). Per chunk of q tokens of one head, on padded tiles (rows of 16-float multiples):

     (1) CB = C Bᵀ               6-row blocks of C against Bᵀ (N x q), lower triangle only
     (5) Y  = e_t (C S)          K = N, then each row scaled by its decay from the chunk start
     (2) Y += M X                M = CB ∘ decay(j..t) ∘ dt'_j built 6 rows at a time, the decays
                                 factored around an anchor (ssm__avx512_ssd_anchor: one exp per
                                 column per 16 rows, not per element), K = tokens before the
                                 block, then the 6x6 diagonal block row by row so that only
                                 j <= t is ever added (masking by selection: a NaN never reaches
                                 an earlier token)
     (3,4) S = e_end S + Bᵀ (w ∘ X)   w_j = decay(j..end) dt'_j scales the rows of X

   C, Bᵀ and CB depend only on the group: with several heads per group a first parallel phase
   converts C and Bᵀ and computes CB once per (chunk, group) into shared scratch, and every head
   reads them from there (saving per head the conversion, the transposes and the C Bᵀ GEMM).
   A worker takes up to SSM__AVX512_SSD_HEADS heads of a sequence through the chunks together,
   chunk by chunk, each head's state S (N x P) in its own scratch tile: a chunk's group block
   (C, Bᵀ, CB: 512 KiB at the canonical shape, more with AMX) is then read from memory once per
   head block and from L2 for the other heads, instead of once per head (measured on a Xeon
   whose last-level cache streams at DRAM speed, 13 GB/s per core, it was a quarter of the
   time), and the heads' rows of x, z and out sit side by side in the same pages. The next
   chunk's rows are prefetched while one computes: one head's rows of a (B, L, H, P) tensor are a
   few hundred bytes every few kilobytes, which the hardware prefetchers do not follow across
   pages. */

#define SSM__AVX512_MR 6   /* micro-kernel rows */
#ifndef SSM__AVX512_SSD_HEADS
#define SSM__AVX512_SSD_HEADS 8   /* heads a worker takes through the chunks together */
#endif

typedef struct ssm__avx512_ssd_ctx {
    const ssm_ssd_params *p;
    ssm__view x, dt, A, Bm, Cm, Dskip, z, dtbias, h0, cu;
    ssm__mview out, hlast;
    int64_t G, per_group, Q, Qe, nseq;
    int64_t QR, NP, PP;        /* Qe, N, P rounded up to 16 */
    int64_t NA;                /* N rounded up to 32 (AMX: the K steps of C Bᵀ) */
    float dt_lo, dt_hi;
    float *shared;             /* per (chunk, group): C, Bᵀ, CB blocks; NULL: each item its own */
    const int64_t *chunks;     /* (b, t0, q) per chunk */
    const int64_t *seq_first;  /* index of each sequence's first chunk */
    int bf16_insn;
    int amx;                   /* the chunk products on AMX tiles (bf16 I/O, see below) */
} ssm__avx512_ssd_ctx;

/* The operands of one chunk that depend only on the group. With AMX, C and BT hold the
   duplicated bf16 pairs of the AMX layouts instead of f32 (same size), plus Cb and Bv. */
typedef struct ssm__avx512_ssd_group {
    float *C;     /* QR x NP */
    float *BT;    /* NP x QR */
    float *CB;    /* QR x QR, lower triangle */
    uint16_t *Cb; /* AMX: QR x NA bf16, C row-major */
    uint32_t *Bv; /* AMX: NA/2 x QR bf16 pairs (B[j][2k], B[j][2k+1]) */
} ssm__avx512_ssd_group;

typedef struct ssm__avx512_ssd_tiles {
    double *cum;               /* QR */
    float *dtp, *e, *w;        /* QR each */
    float *X, *Xw;             /* QR x PP: x, and x scaled by w (AMX: as hi/lo pairs) */
    float *S;                  /* NP x PP per head of a head block (SSM__AVX512_SSD_HEADS) */
    float *M;                  /* MR x QR */
    float *Y;                  /* MR x PP */
    float *dskip, *row;        /* PP each (dskip: per head of a head block) */
    float *sv, *eu;            /* QR and 16: decay factors around a row tile's anchor (M) */
    /* AMX only */
    uint32_t *Xd;              /* QR x PP: x as (x, x) pairs */
    uint32_t *Sp;              /* NP x PP: S as (hi, lo) pairs */
    uint32_t *Ma;              /* 2 x 32 x QR: M as (hi, lo) pairs, two blocks of 32 rows */
    float *Yo, *Yd;            /* 32 x PP: C S and M X of that block */
    ssm__avx512_ssd_group own; /* when the group operands are not shared */
} ssm__avx512_ssd_tiles;

static int ssm__avx512_amx_ready(void);

/* The AMX path serves bf16 I/O only: there every raw operand is exact in bf16, and the f32 ones
   are split in two bf16 terms (see the AMX section). f32 and f16 inputs are not bf16 values. */
static int ssm__avx512_ssd_amx(const ssm_ssd_params *p) { return p->dtype == SSM_BF16 && ssm__avx512_amx_ready(); }

static size_t ssm__avx512_ssd_group_floats(const ssm_ssd_params *p, int amx) {
    const size_t QR = ssm__sz(ssm__avx512_round16(ssm__ssd_qe(p))), NP = ssm__sz(ssm__avx512_round16(p->N));
    const size_t n = ssm__sat_add(ssm__sat_mul(2, ssm__sat_mul(QR, NP)), ssm__sat_mul(QR, QR));
    return amx ? ssm__sat_add(n, ssm__sat_mul(QR, ssm__sz((p->N + 31) & ~(int64_t)31))) : n;   /* Cb, Bv */
}

static size_t ssm__avx512_ssd_floats(const ssm_ssd_params *p, int amx) {
    const size_t QR = ssm__sz(ssm__avx512_round16(ssm__ssd_qe(p))), NP = ssm__sz(ssm__avx512_round16(p->N));
    const size_t PP = ssm__sz(ssm__avx512_round16(p->P));
    size_t n = ssm__sat_mul(5, QR);                                  /* cum (2), dtp, e, w */
    n = ssm__sat_add(n, ssm__sat_mul(2, ssm__sat_mul(QR, PP)));      /* X, Xw */
    n = ssm__sat_add(n, ssm__sat_mul(SSM__AVX512_SSD_HEADS, ssm__sat_mul(NP, PP)));   /* S per head */
    n = ssm__sat_add(n, ssm__sat_mul(SSM__AVX512_MR, QR + PP));      /* M, Y */
    n = ssm__sat_add(n, ssm__sat_mul(SSM__AVX512_SSD_HEADS + 1, PP)); /* dskip per head, row */
    n = ssm__sat_add(n, ssm__sat_add(QR, 16));                       /* sv, eu */
    if (amx) {
        n = ssm__sat_add(n, ssm__sat_mul(ssm__sat_add(QR, NP), PP)); /* Xd, Sp */
        n = ssm__sat_add(n, ssm__sat_mul(32, ssm__sat_add(2 * QR, 2 * PP))); /* Ma (two), Yo, Yd */
    }
    if (!ssm__ssd_shares_cb(p)) n = ssm__sat_add(n, ssm__avx512_ssd_group_floats(p, amx));
    return ssm__sat_add(n, 24 * 16);                                 /* segment alignment */
}

/* Shared: the chunk table (b, t0, q), each sequence's first chunk, then the group blocks. */
static size_t ssm__avx512_ssd_table_bytes(const ssm_ssd_params *p) {
    const size_t chunks = ssm__sz(ssm__ssd_max_chunks(p)), seqs = ssm__sz(ssm__ssd_seqs(p)) + 1;
    return ssm__round64(ssm__sat_mul(sizeof(int64_t), ssm__sat_add(ssm__sat_mul(3, chunks), seqs)));
}

static ssm__scratch ssm__avx512_ssd_scratch(const ssm_ssd_params *p) {
    const int amx = ssm__avx512_ssd_amx(p);
    ssm__scratch s;
    s.per_worker = ssm__sat_mul(sizeof(float), ssm__avx512_ssd_floats(p, amx));
    s.shared = 0;
    if (ssm__ssd_shares_cb(p)) {
        const size_t blocks = ssm__sat_mul(ssm__sz(ssm__ssd_max_chunks(p)), ssm__sz(ssm__or1(p->G)));
        s.shared = ssm__sat_add(ssm__avx512_ssd_table_bytes(p),
                                ssm__sat_mul(sizeof(float), ssm__sat_mul(blocks, ssm__avx512_ssd_group_floats(p, amx))));
    }
    return s;
}

static ssm__avx512_ssd_group ssm__avx512_ssd_group_at(const ssm__avx512_ssd_ctx *c, float *base) {
    ssm__avx512_ssd_group gr;
    gr.C = base;
    gr.BT = gr.C + c->QR * c->NP;
    gr.CB = gr.BT + c->NP * c->QR;
    gr.Cb = c->amx ? (uint16_t *)(void *)(gr.CB + c->QR * c->QR) : NULL;   /* QR x NA halves: 64-byte multiple */
    gr.Bv = c->amx ? (uint32_t *)(void *)(gr.CB + c->QR * c->QR + c->QR * c->NA / 2) : NULL;
    return gr;
}

static ssm__avx512_ssd_tiles ssm__avx512_ssd_carve(const ssm__avx512_ssd_ctx *c, void *scratch) {
    const int64_t QR = c->QR, NP = c->NP, PP = c->PP;
    ssm__avx512_ssd_tiles w;
    float *f = (float *)scratch;
    memset(&w, 0, sizeof w);
    w.cum = (double *)(void *)ssm__avx512_carve(&f, 2 * QR);
    w.dtp = ssm__avx512_carve(&f, QR);
    w.e = ssm__avx512_carve(&f, QR);
    w.w = ssm__avx512_carve(&f, QR);
    w.X = ssm__avx512_carve(&f, QR * PP);
    w.Xw = ssm__avx512_carve(&f, QR * PP);
    w.S = ssm__avx512_carve(&f, SSM__AVX512_SSD_HEADS * NP * PP);
    w.M = ssm__avx512_carve(&f, SSM__AVX512_MR * QR);
    w.Y = ssm__avx512_carve(&f, SSM__AVX512_MR * PP);
    w.dskip = ssm__avx512_carve(&f, SSM__AVX512_SSD_HEADS * PP);
    w.row = ssm__avx512_carve(&f, PP);
    w.sv = ssm__avx512_carve(&f, QR);
    w.eu = ssm__avx512_carve(&f, 16);
    if (c->amx) {
        w.Xd = (uint32_t *)(void *)ssm__avx512_carve(&f, QR * PP);
        w.Sp = (uint32_t *)(void *)ssm__avx512_carve(&f, NP * PP);
        w.Ma = (uint32_t *)(void *)ssm__avx512_carve(&f, 64 * QR);
        w.Yo = ssm__avx512_carve(&f, 32 * PP);
        w.Yd = ssm__avx512_carve(&f, 32 * PP);
    }
    if (!c->shared) {
        const int64_t n = 2 * QR * NP + QR * QR + (c->amx ? QR * c->NA : 0);
        w.own = ssm__avx512_ssd_group_at(c, ssm__avx512_carve(&f, n));
    }
    return w;
}

/* acc[r][v] += sum_{k < K} a[r][k*aks] * b[k*ldb + 16v]: the micro-kernel. R and NV are
   constants after inlining, so acc stays in registers. */
SSM__VINLINE void ssm__avx512_mk(__m512 acc[SSM__AVX512_MR][4], const float *const a[SSM__AVX512_MR], int64_t aks,
                                 const float *b, int64_t ldb, int64_t K, const int R, const int NV) {
    int64_t k;
    int r, v;
    for (k = 0; k < K; ++k) {
        __m512 bv[4];
        SSM__UNROLL
        for (v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + k * ldb + 16 * v);
        SSM__UNROLL
        for (r = 0; r < R; ++r) {
            const __m512 av = _mm512_set1_ps(a[r][k * aks]);
            SSM__UNROLL
            for (v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
}

/* A GEMM-shaped block: out rows r < nrows (row stride ldo) of columns [c0, c0 + 16 NV) =
   scale[r] init[r] (or 0 without init) + A rows x Bm, K terms. Row pointers past nrows repeat
   the last row (their results are dropped), so the kernel always runs 6 rows. */
SSM__VINLINE void ssm__avx512_gemm_block(float *out, int64_t ldo, const float *init, const float *scale, int nrows,
                                         const float *A, int64_t lda, int64_t aks, const float *Bm, int64_t ldb,
                                         int64_t K, int64_t c0, const int NV) {
    __m512 acc[SSM__AVX512_MR][4];
    const float *a[SSM__AVX512_MR];
    int r, v;
    SSM__UNROLL
    for (r = 0; r < SSM__AVX512_MR; ++r) {
        const int rr = r < nrows ? r : nrows - 1;
        a[r] = A + rr * lda;
        SSM__UNROLL
        for (v = 0; v < NV; ++v)
            acc[r][v] = init ? _mm512_mul_ps(_mm512_set1_ps(scale[rr]), _mm512_load_ps(init + rr * ldo + c0 + 16 * v))
                             : _mm512_setzero_ps();
    }
    ssm__avx512_mk(acc, a, aks, Bm + c0, ldb, K, SSM__AVX512_MR, NV);
    for (r = 0; r < nrows; ++r) {
        SSM__UNROLL
        for (v = 0; v < NV; ++v) _mm512_store_ps(out + r * ldo + c0 + 16 * v, acc[r][v]);
    }
}

#define SSM__AVX512_NV_SWITCH(nv, CALL) \
    switch (nv) {                       \
    case 1: CALL(1); break;             \
    case 2: CALL(2); break;             \
    case 3: CALL(3); break;             \
    default: CALL(4); break;            \
    }

/* out[r][c] for all columns [0, cols) (cols a multiple of 16), blocks of 64; A[r][k] at
   A + r*lda + k*aks. */
static SSM__AVX512_TARGET void ssm__avx512_gemm_s(float *out, int64_t ldo, const float *init, const float *scale,
                                                  int nrows, const float *A, int64_t lda, int64_t aks, const float *Bm,
                                                  int64_t ldb, int64_t K, int64_t cols) {
    int64_t c0;
    for (c0 = 0; c0 < cols; c0 += 64) {
        const int64_t nv = ssm__min64(4, (cols - c0) / 16);
#define SSM__CALL(k) ssm__avx512_gemm_block(out, ldo, init, scale, nrows, A, lda, aks, Bm, ldb, K, c0, k)
        SSM__AVX512_NV_SWITCH(nv, SSM__CALL)
#undef SSM__CALL
    }
}

/* The same with row-major A (aks = 1), kept apart so that the k stride is a constant. */
static SSM__AVX512_TARGET void ssm__avx512_gemm(float *out, int64_t ldo, const float *init, const float *scale,
                                                int nrows, const float *A, int64_t lda, const float *Bm, int64_t ldb,
                                                int64_t K, int64_t cols) {
    int64_t c0;
    for (c0 = 0; c0 < cols; c0 += 64) {
        const int64_t nv = ssm__min64(4, (cols - c0) / 16);
#define SSM__CALL(k) ssm__avx512_gemm_block(out, ldo, init, scale, nrows, A, lda, 1, Bm, ldb, K, c0, k)
        SSM__AVX512_NV_SWITCH(nv, SSM__CALL)
#undef SSM__CALL
    }
}

/* (2)'s diagonal block: Y[r] += sum_{jj <= r} M[r][i0 + jj] X[i0 + jj], rows r < nrows. */
static SSM__AVX512_TARGET void ssm__avx512_ssd_diag(float *Y, int64_t ldy, const float *M, int64_t ldm,
                                                    const float *X, int64_t ldx, int64_t i0, int nrows, int64_t cols) {
    int64_t c;
    int r, jj;
    for (r = 0; r < nrows; ++r)
        for (jj = 0; jj <= r; ++jj) {
            const __m512 m = _mm512_set1_ps(M[r * ldm + i0 + jj]);
            const float *x = X + (i0 + jj) * ldx;
            for (c = 0; c < cols; c += 16)
                _mm512_store_ps(Y + r * ldy + c, _mm512_fmadd_ps(m, _mm512_load_ps(x + c), _mm512_load_ps(Y + r * ldy + c)));
        }
}

/* exp(min(seg, 0)) for 16 segments sign * (base - cum[j..j+16)), the difference taken in double
   (SPEC §3: a difference of two large f32 sums would not be accurate); NaN passes (min returns
   its second operand when one is NaN). */
SSM__VINLINE __m512 ssm__avx512_ssd_decay16(double base, const double *cum, double sign) {
    const __m512d bv = _mm512_set1_pd(base), sv = _mm512_set1_pd(sign);
    const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(sv, _mm512_sub_pd(bv, _mm512_loadu_pd(cum))));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(sv, _mm512_sub_pd(bv, _mm512_loadu_pd(cum + 8))));
    const __m512 seg = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    return ssm__avx512_exp(_mm512_min_ps(_mm512_setzero_ps(), seg));
}

/* M = CB ∘ decay(j..i) ∘ dt'_j without an exp per element. For the rows i of the 16-row tile
   [a, a+16) (a a multiple of 16) and the columns j < a, the segment j..i splits at the anchor a
   into (cum_i - cum_a) + (cum_a - cum_j), two non-positive terms (cum never increases), so its
   decay is exp(cum_i - cum_a) exp(cum_a - cum_j): each factor from a double difference rounded
   once and at most 1, as accurate as the direct segment. ssm__avx512_ssd_anchor fills
   sv[j] = exp(cum_a - cum_j) dt'_j for j < a and eu[r] = exp(cum_{a+r} - cum_a): 16 + a exps per
   tile instead of 16 a. The diagonal block [a, a+16) takes the direct segments, selected j <= i
   (a NaN past the diagonal never reaches M). */
SSM__VINLINE void ssm__avx512_ssd_anchor(const ssm__avx512_ssd_tiles *w, int64_t a) {
    int64_t j;
    for (j = 0; j < a; j += 16)
        _mm512_store_ps(w->sv + j, _mm512_mul_ps(ssm__avx512_ssd_decay16(w->cum[a], w->cum + j, 1.0), _mm512_load_ps(w->dtp + j)));
    _mm512_store_ps(w->eu, ssm__avx512_ssd_decay16(w->cum[a], w->cum + a, -1.0));
}

/* Columns [j, j+16) of M's row i (j < anchor a), cb = that row of C Bᵀ. */
SSM__VINLINE __m512 ssm__avx512_ssd_m16(const ssm__avx512_ssd_tiles *w, const float *cb, int64_t i, int64_t a, int64_t j) {
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_load_ps(cb + j), _mm512_load_ps(w->sv + j)), _mm512_set1_ps(w->eu[i - a]));
}

/* Columns [a, a+16) of M's row i (the diagonal block): direct segments, j <= i selected. */
SSM__VINLINE __m512 ssm__avx512_ssd_mdiag16(const ssm__avx512_ssd_tiles *w, const float *cb, int64_t i, int64_t a) {
    const __m512 d = ssm__avx512_ssd_decay16(w->cum[i], w->cum + a, 1.0);
    return _mm512_maskz_mul_ps(ssm__avx512_mask(i + 1 - a), _mm512_mul_ps(_mm512_load_ps(cb + a), d), _mm512_load_ps(w->dtp + a));
}

/* Rows [0, q) of an activation operand (row stride st_row, element stride st_el, n elements)
   into a tile of row stride ld, zero-padded to ld columns. */
static SSM__AVX512_TARGET void ssm__avx512_rows_in(float *tile, int64_t ld, const void *base, ssm_dtype dt, int64_t off,
                                                   int64_t st_row, int64_t st_el, int64_t q, int64_t n) {
    int64_t i, k;
    for (i = 0; i < q; ++i) {
        float *r = tile + i * ld;
        ssm__avx512_load_row(r, base, dt, off + i * st_row, st_el, n);
        for (k = n; k < ld; ++k) r[k] = 0.0f;
    }
}

/* C and Bᵀ of group g for the chunk of row b at t0, as f32, into gr. */
static SSM__AVX512_TARGET void ssm__avx512_ssd_group_in(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_group *gr,
                                                        int64_t b, int64_t g, int64_t t0, int64_t q) {
    const ssm_ssd_params *p = c->p;
    int64_t j;
    ssm__avx512_rows_in(gr->C, c->NP, c->Cm.data, p->dtype, b * c->Cm.st[0] + t0 * c->Cm.st[1] + g * c->Cm.st[2],
                        c->Cm.st[1], c->Cm.st[3], q, p->N);
    for (j = 0; j < q; j += 16)   /* token blocks transposed; lanes past q are 0 */
        ssm__avx512_tile_in(gr->BT + j, c->QR, c->Bm.data, p->dtype,
                            b * c->Bm.st[0] + (t0 + j) * c->Bm.st[1] + g * c->Bm.st[2], c->Bm.st[1], c->Bm.st[3],
                            (int)ssm__min64(16, q - j), p->N);
}

/* C, Bᵀ and (1) C Bᵀ of group g for the chunk of row b at t0, into gr. */
static SSM__AVX512_TARGET void ssm__avx512_ssd_group_load(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_group *gr,
                                                          int64_t b, int64_t g, int64_t t0, int64_t q) {
    int64_t i0;
    ssm__avx512_ssd_group_in(c, gr, b, g, t0, q);
    for (i0 = 0; i0 < q; i0 += SSM__AVX512_MR) {   /* columns up to the block's last row, rounded up to 16 */
        const int nr = (int)ssm__min64(SSM__AVX512_MR, q - i0);
        ssm__avx512_gemm(gr->CB + i0 * c->QR, c->QR, NULL, NULL, nr, gr->C + i0 * c->NP, c->NP, gr->BT, c->QR, c->p->N,
                         ssm__avx512_round16(i0 + nr));
    }
}

/* Floats between the group blocks of shared scratch. */
static int64_t ssm__avx512_ssd_group_stride(const ssm__avx512_ssd_ctx *c) {
    return c->QR * c->NP * 2 + c->QR * c->QR + (c->amx ? c->QR * c->NA : 0);
}

static SSM__AVX512_TARGET void ssm__avx512_ssd_group_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_ssd_ctx *c = (const ssm__avx512_ssd_ctx *)vc;
    const int64_t per = ssm__avx512_ssd_group_stride(c);
    int64_t i;
    (void)scratch;
    for (i = begin; i < end; ++i) {
        const int64_t *ch = c->chunks + 3 * (i / c->G);
        const ssm__avx512_ssd_group gr = ssm__avx512_ssd_group_at(c, c->shared + i * per);
        ssm__avx512_ssd_group_load(c, &gr, ch[0], i % c->G, ch[1], ch[2]);
    }
}

/* The per-head part every chunk starts with: dt' (bias, softplus, clamp) and its running sum
   cum (in double), x as f32 rows, the decays e from the chunk start (5) and w to its end (3, 4). */
static SSM__AVX512_TARGET void ssm__avx512_ssd_prologue(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_tiles *w,
                                                        int64_t b, int64_t h, int64_t t0, int64_t q) {
    const ssm_ssd_params *p = c->p;
    const ssm_dtype dty = p->dtype;
    const double a = (double)((const float *)c->A.data)[h * c->A.st[0]];
    const __m512 bias = _mm512_set1_ps(ssm__param(c->dtbias, h * c->dtbias.st[0], 0.0f));
    int64_t i;
    double cum = 0.0;
    ssm__avx512_load_row(w->dtp, c->dt.data, dty, b * c->dt.st[0] + t0 * c->dt.st[1] + h * c->dt.st[2], c->dt.st[1], q);
    for (i = 0; i < q; i += 16) {
        const __mmask16 m = ssm__avx512_mask(q - i);
        __m512 v = _mm512_add_ps(ssm__avx512_ldm(m, w->dtp + i), bias);
        if (p->dt_softplus) v = ssm__avx512_softplus(v, 20.0f);
        ssm__avx512_stm(w->dtp + i, m, ssm__avx512_clamp(v, c->dt_lo, c->dt_hi));
    }
    for (i = 0; i < q; ++i) {
        cum += (double)w->dtp[i] * a;
        w->cum[i] = cum;
    }
    for (i = q; i < c->QR; ++i) {   /* defined values past the chunk (read, never used) */
        w->cum[i] = cum;
        w->dtp[i] = 0.0f;
    }
    ssm__avx512_rows_in(w->X, c->PP, c->x.data, dty, b * c->x.st[0] + t0 * c->x.st[1] + h * c->x.st[2], c->x.st[1],
                        c->x.st[3], q, p->P);
    for (i = 0; i < q; i += 16) {
        _mm512_store_ps(w->e + i, ssm__avx512_ssd_decay16(0.0, w->cum + i, -1.0));   /* segments cum_i - 0 */
        _mm512_store_ps(w->w + i, _mm512_mul_ps(ssm__avx512_ssd_decay16(w->cum[q - 1], w->cum + i, 1.0),
                                                _mm512_load_ps(w->dtp + i)));
    }
}

/* Output token t from its row y of Y (PP floats, overwritten) and x row: (y + Dskip x) silu(z). */
static SSM__AVX512_TARGET void ssm__avx512_ssd_emit(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_tiles *w,
                                                    int64_t b, int64_t h, int64_t t, float *y, const float *x) {
    const ssm_ssd_params *p = c->p;
    const ssm_dtype dty = p->dtype;
    int64_t k;
    if (c->z.data)
        ssm__avx512_load_row(w->row, c->z.data, dty, b * c->z.st[0] + t * c->z.st[1] + h * c->z.st[2], c->z.st[3], p->P);
    for (k = 0; k < p->P; k += 16) {
        __m512 v = _mm512_fmadd_ps(_mm512_load_ps(w->dskip + k), _mm512_load_ps(x + k), _mm512_load_ps(y + k));
        if (c->z.data) v = _mm512_mul_ps(v, ssm__avx512_silu(_mm512_load_ps(w->row + k)));
        _mm512_store_ps(y + k, v);
    }
    ssm__avx512_store_row(c->out.data, dty, b * c->out.st[0] + t * c->out.st[1] + h * c->out.st[2], c->out.st[3], y, p->P,
                          c->bf16_insn);
}

/* The chunk a worker computes after this one (the next of the sequence, else the first of its
   next work item); q == 0: none. */
typedef struct ssm__avx512_ssd_next {
    int64_t b, h, t0, q;
} ssm__avx512_ssd_next;

/* Rows [r0, r1) of the next chunk's operands (x, dt; B and C when not shared), into L2 while
   this one computes (z and out: ssm__avx512_ssd_prefetch_epilogue). The chunk loops call it a
   few rows at a time, spread over the chunk: issued all at once, a chunk's thousands of prefetches fill the miss queues and the core stalls
   on them (seen in perf as time on the prefetch instructions themselves). */
static void ssm__avx512_ssd_prefetch(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_next *nx, int64_t r0,
                                     int64_t r1) {
    const ssm_ssd_params *p = c->p;
    const int64_t b = nx->b, h = nx->h, t0 = nx->t0 + r0, g = h / c->per_group, n = ssm__min64(r1, nx->q) - r0;
    if (n <= 0) return;
    ssm__avx512_prefetch_rows(c->x.data, p->dtype, b * c->x.st[0] + t0 * c->x.st[1] + h * c->x.st[2], c->x.st[1], c->x.st[3], n, p->P, SSM__PF_L2);
    ssm__avx512_prefetch_rows(c->dt.data, p->dtype, b * c->dt.st[0] + t0 * c->dt.st[1] + h * c->dt.st[2], c->dt.st[1], 1, n, 1, SSM__PF_L2);
    if (!c->shared) {
        ssm__avx512_prefetch_rows(c->Cm.data, p->dtype, b * c->Cm.st[0] + t0 * c->Cm.st[1] + g * c->Cm.st[2], c->Cm.st[1],
                                  c->Cm.st[3], n, p->N, SSM__PF_L2);
        ssm__avx512_prefetch_rows(c->Bm.data, p->dtype, b * c->Bm.st[0] + t0 * c->Bm.st[1] + g * c->Bm.st[2], c->Bm.st[1],
                                  c->Bm.st[3], n, p->N, SSM__PF_L2);
    }
}

/* The z and out rows of token t, into L1 (out for writing) a few tokens before the epilogue
   reaches them. Prefetched into L2 a chunk ahead instead, with x, many of them were gone again
   (the group block, S and the chunk tiles share L2) and the epilogue waited on memory: moving
   them here took the AMX path on cpu.ssd.m2 from 20.1 to 17.5-18 ms (2-core Sapphire-Rapids-
   class VM). */
#define SSM__AVX512_SSD_AHEAD 4   /* tokens */
static void ssm__avx512_ssd_prefetch_epilogue(const ssm__avx512_ssd_ctx *c, int64_t b, int64_t h, int64_t t) {
    const ssm_ssd_params *p = c->p;
    ssm__avx512_prefetch_rows(c->z.data, p->dtype, b * c->z.st[0] + t * c->z.st[1] + h * c->z.st[2], 0, c->z.st[3], 1, p->P,
                              SSM__PF_L1);
    ssm__avx512_prefetch_rows(c->out.data, p->dtype, b * c->out.st[0] + t * c->out.st[1] + h * c->out.st[2], 0, c->out.st[3],
                              1, p->P, SSM__PF_WRITE);
}

static SSM__AVX512_TARGET void ssm__avx512_ssd_chunk(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_tiles *w,
                                                     const ssm__avx512_ssd_group *gr, int64_t b, int64_t h, int64_t t0,
                                                     int64_t q, int state_zero, const ssm__avx512_ssd_next *nx) {
    const int64_t N = c->p->N, QR = c->QR, NP = c->NP, PP = c->PP;
    int64_t i0, j, n0, k, anchor = -1;

    ssm__avx512_ssd_prologue(c, w, b, h, t0, q);

    /* outputs, 6 tokens at a time */
    for (i0 = 0; i0 < q; i0 += SSM__AVX512_MR) {
        const int nr = (int)ssm__min64(SSM__AVX512_MR, q - i0);
        int r;
        for (r = 0; r < nr; ++r) {   /* M row i up to column i (the anchor: the row's 16-row tile) */
            const int64_t ii = i0 + r, a = ii & ~(int64_t)15;
            const float *cb = gr->CB + ii * QR;
            if (a != anchor) ssm__avx512_ssd_anchor(w, anchor = a);
            for (j = 0; j < a; j += 16) _mm512_store_ps(w->M + r * QR + j, ssm__avx512_ssd_m16(w, cb, ii, a, j));
            _mm512_store_ps(w->M + r * QR + a, ssm__avx512_ssd_mdiag16(w, cb, ii, a));
        }
        if (state_zero)   /* (2) on top of nothing, or of (5) */
            ssm__avx512_gemm(w->Y, PP, NULL, NULL, nr, w->M, QR, w->X, PP, i0, PP);
        else {
            ssm__avx512_gemm(w->Y, PP, NULL, NULL, nr, gr->C + i0 * NP, NP, w->S, PP, N, PP);
            ssm__avx512_gemm(w->Y, PP, w->Y, w->e + i0, nr, w->M, QR, w->X, PP, i0, PP);
        }
        ssm__avx512_ssd_diag(w->Y, PP, w->M, QR, w->X, PP, i0, nr, PP);
        for (r = 0; r < nr; ++r) {
            if (i0 + r + SSM__AVX512_SSD_AHEAD < q) ssm__avx512_ssd_prefetch_epilogue(c, b, h, t0 + i0 + r + SSM__AVX512_SSD_AHEAD);
            ssm__avx512_ssd_emit(c, w, b, h, t0 + i0 + r, w->Y + r * PP, w->X + (i0 + r) * PP);
        }
        ssm__avx512_ssd_prefetch(c, nx, i0 * nx->q / q, (i0 + nr) * nx->q / q);
    }

    /* (3, 4) S = e_end S + Bᵀ (w ∘ X) */
    for (j = 0; j < q; ++j) {
        const __m512 wj = _mm512_set1_ps(w->w[j]);
        for (k = 0; k < PP; k += 16) _mm512_store_ps(w->Xw + j * PP + k, _mm512_mul_ps(wj, _mm512_load_ps(w->X + j * PP + k)));
    }
    {
        float e_end[SSM__AVX512_MR];
        int r;
        for (r = 0; r < SSM__AVX512_MR; ++r) e_end[r] = w->e[q - 1];
        for (n0 = 0; n0 < N; n0 += SSM__AVX512_MR) {
            const int nr = (int)ssm__min64(SSM__AVX512_MR, N - n0);
            ssm__avx512_gemm(w->S + n0 * PP, PP, state_zero ? NULL : w->S + n0 * PP, e_end, nr, gr->BT + n0 * QR, QR,
                             w->Xw, PP, q, PP);
        }
    }
}

/* ================================================================ ssd on AMX-BF16 tiles

   With bf16 I/O on a CPU with AMX-BF16 (Sapphire Rapids and later) the four chunk products run
   on the tile unit: tdpbf16ps multiplies a 16 x 32 bf16 tile by a 32 x 16 one into 16 x 16 f32
   accumulators, 16 times the work of an AVX-512 FMA per instruction. Everything else (dt', the
   decays, M, the epilogue) is the f32 code above.

   Precision (SPEC §7). A product of two bf16 numbers is exact in f32, so a raw bf16 operand
   (x, B, C as they came in) costs nothing. The f32 operands (S, M = CB ∘ decay ∘ dt', w ∘ x) are
   split v = hi + lo into two bf16 terms: hi is v with its low 16 bits dropped (it cannot round
   up to inf), lo = v - hi (exact in f32) rounded to bf16, so hi + lo is v to 2^-16 relative.
   The split goes into the pairs of the instruction itself: tdpbf16ps adds
   a[2k] b[2k] + a[2k+1] b[2k+1], so a split operand stores the pair (hi, lo) where the raw one
   stores its value twice (x, x); which term takes which half of the pair does not matter. Each
   such product then costs twice the instructions of a raw one, with no extra accumulators or
   passes. On cpu.ssd.m2 the bf16 outputs stay at the rounding floor
   (relative L2 = 1.00 x floor) and h_last within 5e-6 relative L2 of float64 (its bound: 1e-4).
   A NaN or inf in x reaches the earlier tokens of its 32-token block through M's zeros above
   the diagonal (0 x NaN): inside the chunk, as SPEC §0 allows; never another sequence or head.

   Tiles: one configuration for everything, all eight 16 rows x 64 bytes; every product is the
   same 2 x 2 block (accumulators tmm0-3, left tiles tmm4-5, right tiles tmm6-7), 4 loads per 4
   tdpbf16ps. Operand layouts (words are 32-bit bf16 pairs; rows padded with zeros to whole tiles
   where a padding value would meet a real one):

     (1) CB = C Bᵀ        C row-major bf16 (QR x NA) x Bv, pairs (B[j][2k], B[j][2k+1]) (NA/2 x QR)
     (5) Y_off = C S      C as (c, c) words (QR x NP) x S as (hi, lo) words (NP x PP)
     (2) Y_diag = M X     M as (hi, lo) words (32 rows x QR) x X as (x, x) words (QR x PP)
     (3,4) S = e S + Bᵀ (w ∘ X)   Bᵀ as (b, b) words (NP x QR) x (w ∘ X) as (hi, lo) words (QR x PP),
                          accumulating onto e_end S loaded into the accumulators

   M is built 16 rows at a time around an anchor, as in the FMA path (ssm__avx512_ssd_anchor).

   Linux hands out the tile state only on request (arch_prctl(ARCH_REQ_XCOMP_PERM,
   XFEATURE_XTILEDATA)); before it the first tile instruction raises SIGILL. The request is made
   once per process, the first time an SSD call (or its workspace query) asks; if it is refused,
   or SSM_NO_AMX is set in the environment, the f32 FMA path runs. Each worker loads the tile
   configuration at the start of its range of work items and releases the tiles at the end (the
   configuration is per thread).

   The tile work runs through a small engine (below) that the vector loops advance a K step at
   a time, so that both units stay busy. gcc's tile intrinsics are asm statements that do not
   say they read memory: a compiler fence at every engine step keeps the stores that built the
   operands in front of the tile loads.

   Where the time goes (16-core Emerald Rapids VM, gcc 13, cpu.ssd.m2, 1 thread, medians of 20
   calls; the VM's cores vary by 10-60% from minute to minute, so only runs side by side are
   compared): the whole path 29.7-30.6 ms (f32 on FMA: 49.5 ms); with the tile instructions
   compiled out, i.e. the vector work alone, 17.6-17.9 ms; with the tile loads and stores but
   no tdpbf16ps, 26-27 ms. The tile loads (1.6 MB per chunk and head, from L2) and the vector
   work mostly do not overlap, and the vector work alone is already about a third of the f32
   time: 3x needs both shrunk. */

#define SSM__AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#define SSM__AMX_INLINE static inline __attribute__((always_inline)) SSM__AMX_TARGET
#define SSM__AMX_FENCE() __asm__ __volatile__("" ::: "memory")

#ifdef SSM__AMX_EMULATE
/* Test hook (private): the tile instructions in software, so that the AMX path's layouts and
   edges can be tested on any CPU with AVX512-BF16. Not for production: it is slow. */
static __thread unsigned char ssm__amx_emu_tiles[8][16][64];
static void ssm__amx_emu_load(int t, const void *base, int64_t ld) {
    int r;
    for (r = 0; r < 16; ++r) memcpy(ssm__amx_emu_tiles[t][r], (const char *)base + r * ld, 64);
}
static void ssm__amx_emu_store(int t, void *base, int64_t ld) {
    int r;
    for (r = 0; r < 16; ++r) memcpy((char *)base + r * ld, ssm__amx_emu_tiles[t][r], 64);
}
static float ssm__amx_emu_bf(const unsigned char *p) {
    uint16_t h;
    uint32_t u;
    float f;
    memcpy(&h, p, 2);
    u = (uint32_t)h << 16;
    memcpy(&f, &u, 4);
    return f;
}
static void ssm__amx_emu_dp(int c, int a, int b) {
    int m, n, k;
    for (m = 0; m < 16; ++m)
        for (n = 0; n < 16; ++n) {
            float acc;
            memcpy(&acc, ssm__amx_emu_tiles[c][m] + 4 * n, 4);
            for (k = 0; k < 16; ++k) {
                acc += ssm__amx_emu_bf(ssm__amx_emu_tiles[a][m] + 4 * k) * ssm__amx_emu_bf(ssm__amx_emu_tiles[b][k] + 4 * n);
                acc += ssm__amx_emu_bf(ssm__amx_emu_tiles[a][m] + 4 * k + 2) * ssm__amx_emu_bf(ssm__amx_emu_tiles[b][k] + 4 * n + 2);
            }
            memcpy(ssm__amx_emu_tiles[c][m] + 4 * n, &acc, 4);
        }
}
#define SSM__TILE_CONFIG() ((void)0)
#define SSM__TILE_RELEASE() ((void)0)
#define SSM__TILE_ZERO(t) memset(ssm__amx_emu_tiles[t], 0, sizeof ssm__amx_emu_tiles[t])
#define SSM__TILE_LOAD(t, base, ld) ssm__amx_emu_load(t, base, ld)
#define SSM__TILE_STORE(t, base, ld) ssm__amx_emu_store(t, base, ld)
#define SSM__TILE_DP(c, a, b) ssm__amx_emu_dp(c, a, b)
#else
/* Palette 1: eight tiles of 16 rows x 64 bytes (ldtilecfg's 64-byte operand). */
typedef struct ssm__amx_config {
    unsigned char palette, start_row, reserved[14];
    uint16_t colsb[16];
    unsigned char rows[16];
} ssm__amx_config;
static const ssm__amx_config ssm__amx_cfg __attribute__((aligned(64))) = {
    1, 0, {0}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};
#define SSM__TILE_CONFIG() _tile_loadconfig(&ssm__amx_cfg)
#define SSM__TILE_RELEASE() _tile_release()
#define SSM__TILE_ZERO(t) _tile_zero(t)
#define SSM__TILE_LOAD(t, base, ld) _tile_loadd(t, base, ld)
#define SSM__TILE_STORE(t, base, ld) _tile_stored(t, base, ld)
#define SSM__TILE_DP(c, a, b) _tile_dpbf16ps(c, a, b)
#endif

/* arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18) as a raw system call
   (number 158 on x86-64): syscall() is not declared under strict C11. 0 means granted. */
SSM__UNUSED static int ssm__amx_request_permission(void) {
#if defined(__linux__)
    long r;
    __asm__ __volatile__("syscall" : "=a"(r) : "0"(158L), "D"(0x1023L), "S"(18L) : "rcx", "r11", "memory");
    return r == 0;
#else
    return 0;   /* other systems: not known to grant tile state this way; the FMA path runs */
#endif
}

static int ssm__avx512_amx_ready(void) {
    static volatile int state = 0;   /* 0: not asked yet; racing first calls ask twice: harmless */
    if (!state) {
        const ssm__cpu_features *f = ssm__cpu();
        const char *off = getenv("SSM_NO_AMX");
        int ok = f->avx512 && f->avx512_bf16 && !(off && *off && strcmp(off, "0") != 0);
#ifndef SSM__AMX_EMULATE
        ok = ok && f->amx_bf16 && ssm__amx_request_permission();
#endif
        state = ok ? 1 : -1;
    }
    return state > 0;
}

/* Word permutes: word k of the result is word idx[k] of (a, b) (b's words are 32..63). */
SSM__AMX_INLINE __m512i ssm__amx_idx(int lo_base, int lo_step, int hi_base, int hi_step) {   /* word 2p, word 2p+1 */
    const __m512i p = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lo = _mm512_add_epi32(_mm512_set1_epi32(lo_base), _mm512_mullo_epi32(p, _mm512_set1_epi32(lo_step)));
    const __m512i hi = _mm512_add_epi32(_mm512_set1_epi32(hi_base), _mm512_mullo_epi32(p, _mm512_set1_epi32(hi_step)));
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

/* 16 f32 values as (lo, hi) words, each in its own 32-bit lane: hi is v's upper half as it
   stands, lo = v - hi rounded to bf16 by adding half of the dropped part to the bits (lo is far
   from overflow: |lo| < 2^-7 |v|). Single-uop integer and float operations, no shuffles (the
   pair order does not matter: see the section comment). Infinite v gets lo = 0 (inf - inf would
   make it NaN). A NaN stays NaN: if its payload is all in the low half, hi is inf
   but lo = v - hi is a quiet NaN whose upper half is a bf16 NaN. */
SSM__AMX_INLINE __m512i ssm__amx_split16(__m512 v) {
    const __m512i hi = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0xffff0000u));
    const __m512 lo = _mm512_maskz_sub_ps((__mmask16)~_mm512_fpclass_ps_mask(v, 0x18), v, _mm512_castsi512_ps(hi));
    return _mm512_or_si512(hi, _mm512_srli_epi32(_mm512_add_epi32(_mm512_castps_si512(lo), _mm512_set1_epi32(0x8000)), 16));
}

/* 16 f32 values that are bf16 numbers (low halves 0) as (v, v) words. */
SSM__AMX_INLINE __m512i ssm__amx_dup16(__m512 v) {
    const __m512i u = _mm512_castps_si512(v);
    return _mm512_or_si512(u, _mm512_srli_epi32(u, 16));
}

/* The tile engine. A product out [+]= A B is a job of 2 x 2 blocks of 16 x 16 tiles
   (accumulators tmm0-3, A's row tiles in tmm4-5, B's column tiles in tmm6-7), each block a run
   of K steps of 4 tile loads and 4 tdpbf16ps. ssm__amx_pump advances the block in flight by one
   K step (starting or finishing blocks as needed), and the vector code that builds the next
   operands and writes the outputs calls it once per row: the tile unit then works through the
   products while the vector units do the rest. (Tile instructions issued in one long run would
   fill the reorder buffer, and the vector work behind them would wait for them to retire.)
   Urgent jobs (products the next outputs wait for) start before background ones; a started
   block always runs to its end, since it owns the accumulators. */

typedef struct ssm__amx_job {
    char *out;
    const char *a, *b;
    int64_t ldo, lda, ldb;   /* row strides in bytes; A's row tiles 16 lda apart, B's column tiles 64 bytes */
    int64_t rt, ct, ksteps;  /* row tiles, column tiles, K steps */
    int64_t r, n;            /* the next block's first row and column tile */
    int acc_in;              /* accumulate onto out, else overwrite it */
} ssm__amx_job;

#define SSM__AMX_QUEUE 4

typedef struct ssm__amx_engine {
    ssm__amx_job queue[2][SSM__AMX_QUEUE];   /* [0]: urgent, [1]: background; FIFO */
    int count[2];
    /* the block in flight */
    char *out;
    const char *a, *b;
    int64_t ldo, lda, ldb, ksteps, k;
    int nr, nc, busy, urgent;
} ssm__amx_engine;

static void ssm__amx_init(ssm__amx_engine *e) { memset(e, 0, sizeof *e); }

/* Queues out (rows x cols floats, multiples of 16, row stride ldo floats) [+]= A B. */
static void ssm__amx_push(ssm__amx_engine *e, int urgent, float *out, int64_t ldo, int acc_in, int64_t rows,
                          int64_t cols, const void *a, int64_t lda, const void *b, int64_t ldb, int64_t ksteps);

/* One K step of the block in flight. */
SSM__AMX_INLINE void ssm__amx_kstep(const ssm__amx_engine *e) {
    const char *a = e->a + 64 * e->k, *b = e->b + 16 * e->k * e->ldb;
    SSM__TILE_LOAD(4, a, e->lda);
    SSM__TILE_LOAD(6, b, e->ldb);
    SSM__TILE_DP(0, 4, 6);
    if (e->nc > 1) {
        SSM__TILE_LOAD(7, b + 64, e->ldb);
        SSM__TILE_DP(1, 4, 7);
    }
    if (e->nr > 1) {
        SSM__TILE_LOAD(5, a + 16 * e->lda, e->lda);
        SSM__TILE_DP(2, 5, 6);
        if (e->nc > 1) SSM__TILE_DP(3, 5, 7);
    }
}

/* Starts the next block (urgent jobs first); 0 when there is none. */
static SSM__AMX_TARGET int ssm__amx_start(ssm__amx_engine *e) {
    const int u = e->count[0] ? 0 : 1;
    ssm__amx_job *j = &e->queue[u][0];
    char *o;
    if (!e->count[u]) return 0;
    e->urgent = u == 0;
    e->nr = (int)ssm__min64(2, j->rt - j->r);
    e->nc = (int)ssm__min64(2, j->ct - j->n);
    e->out = o = j->out + 16 * j->r * j->ldo + 64 * j->n;
    e->a = j->a + 16 * j->r * j->lda;
    e->b = j->b + 64 * j->n;
    e->ldo = j->ldo;
    e->lda = j->lda;
    e->ldb = j->ldb;
    e->ksteps = j->ksteps;
    e->k = 0;
    e->busy = 1;
    if (j->acc_in) {
        SSM__TILE_LOAD(0, o, e->ldo);
        if (e->nc > 1) SSM__TILE_LOAD(1, o + 64, e->ldo);
        if (e->nr > 1) SSM__TILE_LOAD(2, o + 16 * e->ldo, e->ldo);
        if (e->nr > 1 && e->nc > 1) SSM__TILE_LOAD(3, o + 16 * e->ldo + 64, e->ldo);
    } else {
        SSM__TILE_ZERO(0);
        SSM__TILE_ZERO(1);
        SSM__TILE_ZERO(2);
        SSM__TILE_ZERO(3);
    }
    if ((j->n += 2) >= j->ct) {   /* the job's next block; the job leaves the queue after its last */
        j->n = 0;
        if ((j->r += 2) >= j->rt) {
            int i;
            for (i = 1; i < e->count[u]; ++i) e->queue[u][i - 1] = e->queue[u][i];
            --e->count[u];
        }
    }
    return 1;
}

/* One K step of tile work (and the start or end of a block around it); 0 when there was none.
   Inlined: it runs once per row of the vector loops. */
SSM__AMX_INLINE int ssm__amx_pump(ssm__amx_engine *e) {
    SSM__AMX_FENCE();   /* the operands stored so far, before the tile loads */
    if (!e->busy && !ssm__amx_start(e)) return 0;
    if (e->k < e->ksteps) ssm__amx_kstep(e);
    if (++e->k >= e->ksteps) {
        char *o = e->out;
        SSM__TILE_STORE(0, o, e->ldo);
        if (e->nc > 1) SSM__TILE_STORE(1, o + 64, e->ldo);
        if (e->nr > 1) SSM__TILE_STORE(2, o + 16 * e->ldo, e->ldo);
        if (e->nr > 1 && e->nc > 1) SSM__TILE_STORE(3, o + 16 * e->ldo + 64, e->ldo);
        e->busy = 0;
    }
    SSM__AMX_FENCE();
    return 1;
}

/* Runs the urgent jobs (all == 0) or every job (all == 1) to their end. */
static SSM__AMX_TARGET void ssm__amx_drain(ssm__amx_engine *e, int all) {
    while (all || e->count[0] || (e->busy && e->urgent))
        if (!ssm__amx_pump(e)) break;
}

static void ssm__amx_push(ssm__amx_engine *e, int urgent, float *out, int64_t ldo, int acc_in, int64_t rows,
                          int64_t cols, const void *a, int64_t lda, const void *b, int64_t ldb, int64_t ksteps) {
    const int u = urgent ? 0 : 1;
    ssm__amx_job *j;
    if (rows <= 0 || cols <= 0) return;
    if (e->count[u] == SSM__AMX_QUEUE) ssm__amx_drain(e, 1);   /* never with the callers below */
    j = &e->queue[u][e->count[u]++];
    j->out = (char *)out;
    j->a = (const char *)a;
    j->b = (const char *)b;
    j->ldo = 4 * ldo;
    j->lda = lda;
    j->ldb = ldb;
    j->rt = rows / 16;
    j->ct = cols / 16;
    j->ksteps = ksteps;
    j->r = j->n = 0;
    j->acc_in = acc_in;
}

/* The group operands in AMX layouts, from the f32 C and Bᵀ of ssm__avx512_ssd_group_in, then
   (1) CB. C and BT are turned into (v, v) words in place, after Cb and Bv are taken from them. */
static SSM__AMX_TARGET void ssm__amx_ssd_group_prep(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_group *gr,
                                                    int64_t q) {
    const int64_t N = c->p->N, QR = c->QR, NP = c->NP, NA = c->NA, q16 = ssm__avx512_round16(q);
    const __m512i seq = ssm__amx_idx(1, 4, 3, 4), pair = ssm__amx_idx(1, 2, 33, 2);
    ssm__amx_engine e;
    int64_t i, k, j;
    for (i = q; i < q16; ++i)   /* rows past the chunk: 0, not stale values */
        for (k = 0; k < NP; k += 16) _mm512_store_ps(gr->C + i * NP + k, _mm512_setzero_ps());
    for (i = 0; i < q16; ++i) {   /* Cb: 32 values of a C row per vector, zeros to NA */
        uint16_t *dst = gr->Cb + i * NA;
        for (k = 0; k < NA; k += 32) {
            const __m512 v0 = k < NP ? _mm512_load_ps(gr->C + i * NP + k) : _mm512_setzero_ps();
            const __m512 v1 = k + 16 < NP ? _mm512_load_ps(gr->C + i * NP + k + 16) : _mm512_setzero_ps();
            _mm512_store_si512((void *)(dst + k), _mm512_permutex2var_epi16(_mm512_castps_si512(v0), seq, _mm512_castps_si512(v1)));
        }
    }
    for (k = 0; k < NA / 2; ++k) {   /* Bv row k: rows 2k, 2k+1 of Bᵀ interleaved; rows >= N are 0 */
        const float *r0 = 2 * k < N ? gr->BT + 2 * k * QR : NULL, *r1 = 2 * k + 1 < N ? gr->BT + (2 * k + 1) * QR : NULL;
        for (j = 0; j < q16; j += 16) {
            const __m512 v0 = r0 ? _mm512_load_ps(r0 + j) : _mm512_setzero_ps();
            const __m512 v1 = r1 ? _mm512_load_ps(r1 + j) : _mm512_setzero_ps();
            _mm512_store_si512((void *)(gr->Bv + k * QR + j),
                               _mm512_permutex2var_epi16(_mm512_castps_si512(v0), pair, _mm512_castps_si512(v1)));
        }
    }
    for (i = 0; i < q16; ++i)
        for (k = 0; k < NP; k += 16)
            _mm512_store_si512((void *)(gr->C + i * NP + k), ssm__amx_dup16(_mm512_load_ps(gr->C + i * NP + k)));
    for (k = 0; k < NP; ++k)
        for (j = 0; j < q16; j += 16)
            _mm512_store_si512((void *)(gr->BT + k * QR + j),
                               k < N ? ssm__amx_dup16(_mm512_load_ps(gr->BT + k * QR + j)) : _mm512_setzero_si512());
    ssm__amx_init(&e);
    for (i = 0; i < q16; i += 32) {   /* (1): row pairs of tiles against the column tiles up to them */
        ssm__amx_push(&e, 0, gr->CB + i * QR, QR, 0, ssm__min64(32, q16 - i), ssm__min64(i + 32, q16), gr->Cb + i * NA,
                      2 * NA, gr->Bv, 4 * QR, NA / 32);
        ssm__amx_drain(&e, 1);
    }
}

/* Rows [a, a+16) of M (as (hi, lo) words in Ma, row r of the block at Ma + (r0 + r) QR) for
   columns [0, kcols): see ssm__avx512_ssd_anchor; 0 past row q and past the diagonal. */
static SSM__AMX_TARGET void ssm__amx_ssd_mtile(const ssm__avx512_ssd_tiles *w, const ssm__avx512_ssd_group *gr,
                                               int64_t QR, int64_t a, int64_t q, int64_t kcols, uint32_t *Ma,
                                               ssm__amx_engine *e) {
    int64_t j, r;
    ssm__avx512_ssd_anchor(w, a);
    for (r = 0; r < 16; ++r) {
        const int64_t i = a + r;
        uint32_t *row = Ma + r * QR;
        ssm__amx_pump(e);
        if (i >= q) {
            for (j = 0; j < kcols; j += 16) _mm512_store_si512((void *)(row + j), _mm512_setzero_si512());
            continue;
        }
        {
            const float *cb = gr->CB + i * QR;
            for (j = 0; j < a; j += 16) _mm512_store_si512((void *)(row + j), ssm__amx_split16(ssm__avx512_ssd_m16(w, cb, i, a, j)));
            _mm512_store_si512((void *)(row + a), ssm__amx_split16(ssm__avx512_ssd_mdiag16(w, cb, i, a)));
            for (j = a + 16; j < kcols; j += 16) _mm512_store_si512((void *)(row + j), _mm512_setzero_si512());
        }
    }
}

static SSM__AMX_TARGET void ssm__amx_ssd_chunk(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_tiles *w,
                                              const ssm__avx512_ssd_group *gr, int64_t b, int64_t h, int64_t t0,
                                              int64_t q, int state_zero, const ssm__avx512_ssd_next *nx) {
    const int64_t QR = c->QR, NP = c->NP, PP = c->PP, q16 = ssm__avx512_round16(q);
    ssm__amx_engine e;
    int64_t i0, j, k, r;

    ssm__avx512_ssd_prologue(c, w, b, h, t0, q);
    for (j = 0; j < q16; ++j) {   /* X as (x, x) and w ∘ X as (hi, lo); rows past the chunk 0 */
        const __m512 wj = _mm512_set1_ps(j < q ? w->w[j] : 0.0f);
        for (k = 0; k < PP; k += 16) {
            const __m512 x = j < q ? _mm512_load_ps(w->X + j * PP + k) : _mm512_setzero_ps();
            _mm512_store_si512((void *)(w->Xd + j * PP + k), ssm__amx_dup16(x));
            _mm512_store_si512((void *)((uint32_t *)(void *)w->Xw + j * PP + k), ssm__amx_split16(_mm512_mul_ps(wj, x)));
        }
    }
    if (!state_zero) {   /* S as (hi, lo) for (5) (its rows >= N are 0), then e_end S for (3, 4) */
        const __m512 e_end = _mm512_set1_ps(w->e[q - 1]);
        for (k = 0; k < NP * PP; k += 16) {
            const __m512 v = _mm512_load_ps(w->S + k);
            _mm512_store_si512((void *)(w->Sp + k), ssm__amx_split16(v));
            _mm512_store_ps(w->S + k, _mm512_mul_ps(e_end, v));
        }
    }

    /* (3, 4) S = e_end S + Bᵀ (w ∘ X) in the background: nothing else in the chunk reads S now;
       e_end S is loaded into the accumulators */
    ssm__amx_init(&e);
    ssm__amx_push(&e, 0, w->S, PP, !state_zero, NP, PP, gr->BT, 4 * QR, w->Xw, 4 * PP, q16 / 16);

    /* outputs, 32 tokens at a time: the products of a block run while M of the next one is
       built (two M buffers), and the state update while a block's outputs are written */
    ssm__amx_ssd_mtile(w, gr, QR, 0, q, ssm__avx512_round16(ssm__min64(32, q)), w->Ma, &e);
    if (q16 > 16) ssm__amx_ssd_mtile(w, gr, QR, 16, q, ssm__avx512_round16(ssm__min64(32, q)), w->Ma + 16 * QR, &e);
    for (i0 = 0; i0 < q; i0 += 32) {
        const int64_t rows = ssm__min64(32, q16 - i0), kcols = ssm__avx512_round16(ssm__min64(i0 + 32, q));
        uint32_t *Ma = w->Ma + ((i0 / 32) & 1) * 32 * QR, *Mn = w->Ma + (((i0 / 32) & 1) ^ 1) * 32 * QR;
        if (!state_zero)   /* (5) */
            ssm__amx_push(&e, 1, w->Yo, PP, 0, rows, PP, (const uint32_t *)(const void *)gr->C + i0 * NP, 4 * NP, w->Sp,
                          4 * PP, NP / 16);
        ssm__amx_push(&e, 1, w->Yd, PP, 0, rows, PP, Ma, 4 * QR, w->Xd, 4 * PP, kcols / 16);   /* (2) */
        if (i0 + 32 < q) {   /* M of the next block */
            const int64_t kn = ssm__avx512_round16(ssm__min64(i0 + 64, q));
            ssm__amx_ssd_mtile(w, gr, QR, i0 + 32, q, kn, Mn, &e);
            if (q16 > i0 + 48) ssm__amx_ssd_mtile(w, gr, QR, i0 + 48, q, kn, Mn + 16 * QR, &e);
        }
        ssm__amx_drain(&e, 0);
        for (r = 0; r < 32 && i0 + r < q; ++r) {
            float *y = w->Yd + r * PP;
            if (!state_zero) {
                const __m512 ev = _mm512_set1_ps(w->e[i0 + r]);
                for (k = 0; k < PP; k += 16)
                    _mm512_store_ps(y + k, _mm512_fmadd_ps(ev, _mm512_load_ps(w->Yo + r * PP + k), _mm512_load_ps(y + k)));
            }
            if (i0 + r + SSM__AVX512_SSD_AHEAD < q) ssm__avx512_ssd_prefetch_epilogue(c, b, h, t0 + i0 + r + SSM__AVX512_SSD_AHEAD);
            ssm__avx512_ssd_emit(c, w, b, h, t0 + i0 + r, y, w->X + (i0 + r) * PP);
            ssm__avx512_ssd_prefetch(c, nx, (i0 + r) * nx->q / q, (i0 + r + 1) * nx->q / q);
            ssm__amx_pump(&e);
        }
    }
    ssm__amx_drain(&e, 1);
}

static SSM__AMX_TARGET void ssm__amx_ssd_group_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_ssd_ctx *c = (const ssm__avx512_ssd_ctx *)vc;
    const int64_t per = ssm__avx512_ssd_group_stride(c);
    int64_t i;
    (void)scratch;
    SSM__TILE_CONFIG();
    for (i = begin; i < end; ++i) {
        const int64_t *ch = c->chunks + 3 * (i / c->G);
        const ssm__avx512_ssd_group gr = ssm__avx512_ssd_group_at(c, c->shared + i * per);
        ssm__avx512_ssd_group_in(c, &gr, ch[0], i % c->G, ch[1], ch[2]);
        ssm__amx_ssd_group_prep(c, &gr, ch[2]);
    }
    SSM__TILE_RELEASE();
}

/* Head k of a head block: its Dskip row and initial state S[n][p] = h0[sr, h, p, n] (or 0). */
static SSM__AVX512_TARGET void ssm__avx512_ssd_head_in(const ssm__avx512_ssd_ctx *c, float *S, float *dskip, int64_t sr,
                                                       int64_t h) {
    const int64_t N = c->p->N, P = c->p->P, PP = c->PP;
    int64_t k, p0;
    for (k = 0; k < PP; ++k) dskip[k] = k < P ? ssm__param(c->Dskip, h * c->Dskip.st[0] + k * c->Dskip.st[1], 0.0f) : 0.0f;
    for (p0 = 0; p0 < P; p0 += 16) {
        if (c->h0.data)
            ssm__avx512_tile_in(S + p0, PP, c->h0.data, SSM_F32, sr * c->h0.st[0] + h * c->h0.st[1] + p0 * c->h0.st[2],
                                c->h0.st[2], c->h0.st[3], (int)ssm__min64(16, P - p0), N);
        else
            for (k = 0; k < N; ++k) _mm512_store_ps(S + k * PP + p0, _mm512_setzero_ps());
    }
    for (k = N * PP; k < c->NP * PP; k += 16) _mm512_store_ps(S + k, _mm512_setzero_ps());   /* rows past N: 0 */
}

/* Heads [h0, h0 + nh) of one sequence (row b, tokens [t0, t1), state row sr, first chunk ci),
   chunk by chunk (see the section comment); after: the chunk that follows the block's last. */
static SSM__AVX512_TARGET void ssm__avx512_ssd_heads(const ssm__avx512_ssd_ctx *c, const ssm__avx512_ssd_tiles *w,
                                                     int64_t b, int64_t sr, int64_t h0, int64_t nh, int64_t t0,
                                                     int64_t t1, int64_t ci, const ssm__avx512_ssd_next *after) {
    const ssm_ssd_params *p = c->p;
    const int64_t N = p->N, P = p->P, PP = c->PP, SS = c->NP * PP;
    const int64_t per = ssm__avx512_ssd_group_stride(c);
    ssm__avx512_ssd_tiles wk = *w;
    int state_zero = c->h0.data == NULL;
    int64_t k, ts, q, p0;
    for (k = 0; k < nh; ++k) ssm__avx512_ssd_head_in(c, w->S + k * SS, w->dskip + k * PP, sr, h0 + k);
    for (ts = t0; ts < t1; ts += q, ++ci) {   /* steps by q, not Q: ts + Q may overflow for a huge Q */
        q = ssm__min64(c->Q, t1 - ts);
        for (k = 0; k < nh; ++k) {
            const int64_t h = h0 + k, g = h / c->per_group;
            ssm__avx512_ssd_next nx = *after;
            ssm__avx512_ssd_group gr;
            if (k + 1 < nh || t1 - ts > q) {   /* the next head of this chunk, else the block's next chunk */
                nx.b = b;
                nx.h = k + 1 < nh ? h + 1 : h0;
                nx.t0 = k + 1 < nh ? ts : ts + q;
                nx.q = k + 1 < nh ? q : ssm__min64(c->Q, t1 - ts - q);
            }
            wk.S = w->S + k * SS;
            wk.dskip = w->dskip + k * PP;
            if (c->shared) {
                gr = ssm__avx512_ssd_group_at(c, c->shared + (ci * c->G + g) * per);
            } else if (c->amx) {
                gr = w->own;
                ssm__avx512_ssd_group_in(c, &gr, b, g, ts, q);
                ssm__amx_ssd_group_prep(c, &gr, q);
            } else {
                gr = w->own;
                ssm__avx512_ssd_group_load(c, &gr, b, g, ts, q);
            }
            if (c->amx) ssm__amx_ssd_chunk(c, &wk, &gr, b, h, ts, q, state_zero, &nx);
            else ssm__avx512_ssd_chunk(c, &wk, &gr, b, h, ts, q, state_zero, &nx);
        }
        state_zero = 0;
    }
    if (c->hlast.data)   /* written after h0 was read: h_last may alias h0 */
        for (k = 0; k < nh; ++k)
            for (p0 = 0; p0 < P; p0 += 16)
                ssm__avx512_tile_out(c->hlast.data, SSM_F32, sr * c->hlast.st[0] + (h0 + k) * c->hlast.st[1] + p0 * c->hlast.st[2],
                                     c->hlast.st[2], c->hlast.st[3], (int)ssm__min64(16, P - p0), N, w->S + k * SS + p0, PP, 0);
}

/* The first chunk of work item i (sequence i / H, head i % H); q = 0 past the range's end or for
   the padding item. */
static ssm__avx512_ssd_next ssm__avx512_ssd_first(const ssm__avx512_ssd_ctx *c, int64_t i, int64_t end) {
    const int64_t s = i / c->p->H;
    ssm__avx512_ssd_next nx;
    nx.b = c->cu.data ? 0 : s;
    nx.h = i % c->p->H;
    nx.t0 = c->cu.data && s < c->nseq ? ssm__cu(c->cu, s) : 0;
    nx.q = i >= end || s >= c->nseq ? 0 : ssm__min64(c->Q, (c->cu.data ? ssm__cu(c->cu, s + 1) : c->p->L) - nx.t0);
    return nx;
}

static SSM__AVX512_TARGET void ssm__avx512_ssd_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_ssd_ctx *c = (const ssm__avx512_ssd_ctx *)vc;
    const ssm_ssd_params *p = c->p;
    ssm__avx512_ssd_tiles w = ssm__avx512_ssd_carve(c, scratch);
    int64_t i, t, n;
    for (i = begin; i < end; i += n) {   /* head blocks: consecutive heads of one sequence */
        const int64_t s = i / p->H, h = i % p->H, ci = c->seq_first ? c->seq_first[ssm__min64(s, c->nseq)] : 0;
        ssm__avx512_ssd_next after;
        n = ssm__min64(ssm__min64(end - i, p->H - h), SSM__AVX512_SSD_HEADS);
        after = ssm__avx512_ssd_first(c, i + n, end);
        if (!c->cu.data) {
            ssm__avx512_ssd_heads(c, &w, s, s, h, n, 0, p->L, ci, &after);
        } else if (s < c->nseq) {
            ssm__avx512_ssd_heads(c, &w, 0, s, h, n, ssm__cu(c->cu, s), ssm__cu(c->cu, s + 1), ci, &after);
        } else {   /* tokens past the last sequence are padding: written as 0 */
            int64_t k;
            for (k = h; k < h + n; ++k)
                for (t = ssm__cu(c->cu, c->nseq); t < p->L; ++t)
                    ssm__store_zeros(c->out.data, p->dtype, t * c->out.st[1] + k * c->out.st[2], c->out.st[3], p->P);
        }
    }
}

/* The same on AMX tiles: the tile configuration is per thread, so each range loads its own. */
static SSM__AMX_TARGET void ssm__amx_ssd_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    SSM__TILE_CONFIG();
    ssm__avx512_ssd_range(vc, begin, end, scratch);
    SSM__TILE_RELEASE();
}

/* The chunk table: (b, t0, q) of every chunk, sequence by sequence, and each sequence's first. */
static int64_t ssm__avx512_ssd_list(const ssm__avx512_ssd_ctx *c, int64_t *list, int64_t *first) {
    const ssm_ssd_params *p = c->p;
    int64_t s, t, q, n = 0;
    for (s = 0; s < c->nseq; ++s) {
        const int64_t b = c->cu.data ? 0 : s;
        const int64_t t0 = c->cu.data ? ssm__cu(c->cu, s) : 0, t1 = c->cu.data ? ssm__cu(c->cu, s + 1) : p->L;
        first[s] = n;
        for (t = t0; t < t1; t += q) {
            q = ssm__min64(c->Q, t1 - t);
            list[3 * n] = b;
            list[3 * n + 1] = t;
            list[3 * n + 2] = q;
            ++n;
        }
    }
    first[c->nseq] = n;
    return n;
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_ssd(const ssm_ssd_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__avx512_ssd_ctx c;
    ssm__ssd_operands(p, &o);
    c.p = p;
    c.x = ssm__opview(&o, SSM__SD_X);
    c.dt = ssm__opview(&o, SSM__SD_DT);
    c.A = ssm__opview(&o, SSM__SD_A);
    c.Bm = ssm__opview(&o, SSM__SD_B);
    c.Cm = ssm__opview(&o, SSM__SD_C);
    c.Dskip = ssm__opview(&o, SSM__SD_DSKIP);
    c.z = ssm__opview(&o, SSM__SD_Z);
    c.dtbias = ssm__opview(&o, SSM__SD_DTBIAS);
    c.h0 = ssm__opview(&o, SSM__SD_H0);
    c.cu = ssm__opview(&o, SSM__SD_CU);
    c.out = ssm__opmview(&o, SSM__SD_OUT);
    c.hlast = ssm__opmview(&o, SSM__SD_HLAST);
    c.G = ssm__or1(p->G);
    c.per_group = p->H / c.G;
    c.Q = ssm__ssd_chunk(p);
    c.Qe = ssm__ssd_qe(p);
    c.nseq = ssm__ssd_seqs(p);
    c.QR = ssm__avx512_round16(c.Qe);
    c.NP = ssm__avx512_round16(p->N);
    c.PP = ssm__avx512_round16(p->P);
    c.NA = (p->N + 31) & ~(int64_t)31;
    c.amx = ssm__avx512_ssd_amx(p);
    c.dt_lo = p->dt_limit && p->dt_min > 0.0f ? p->dt_min : 0.0f;   /* dt' >= 0: every decay <= 1 */
    c.dt_hi = p->dt_limit ? p->dt_max : INFINITY;
    c.bf16_insn = ssm__avx512_bf16_insn(p->dtype);
    c.shared = NULL;
    c.chunks = NULL;
    c.seq_first = NULL;
    if (ssm__ssd_shares_cb(p)) {   /* phase 1: C, Bᵀ and C Bᵀ once per (chunk, group) */
        int64_t *list = (int64_t *)(void *)run->shared, *first = list + 3 * ssm__ssd_max_chunks(p);
        const int64_t n_chunks = ssm__avx512_ssd_list(&c, list, first);
        c.chunks = list;
        c.seq_first = first;
        c.shared = (float *)(void *)(run->shared + ssm__avx512_ssd_table_bytes(p));
        ssm__parallel(run, n_chunks * c.G, c.amx ? ssm__amx_ssd_group_range : ssm__avx512_ssd_group_range, &c);
    }
    ssm__parallel(run, (c.nseq + (c.cu.data ? 1 : 0)) * p->H, c.amx ? ssm__amx_ssd_range : ssm__avx512_ssd_range, &c);
    return SSM_OK;
}

/* ================================================================ hsa_select (SPEC §5)

   The portable kernel's work items and selection (heap of the K best, emitted by a downward scan
   of marks), with the scores vectorised: each eligible chunk's landmark is one R-long dot
   product, 16 lanes at a time. */

static SSM__AVX512_TARGET void ssm__avx512_hsel_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__hsel_ctx *c = (const ssm__hsel_ctx *)vc;
    const ssm_hsa_select_params *p = c->p;
    const int64_t R = p->R, RP = ssm__avx512_round16(R);
    const float inv_sqrt_r = 1.0f / sqrtf((float)R);
    int64_t *heap = (int64_t *)scratch;
    float *q = (float *)(heap + ssm__avx512_round16(c->kmax)), *lrow = q + RP, *r = lrow + RP;
    unsigned char *mark = (unsigned char *)(r + ssm__avx512_round16(p->C));
    const int direct = p->dtype == SSM_F32 && c->lmk.st[3] == 1;
    int64_t it, ch, e;
    for (e = R; e < RP; ++e) q[e] = lrow[e] = 0.0f;
    for (it = begin; it < end; ++it) {
        const int64_t b = it / (p->Lq * p->HR), t = (it / p->HR) % p->Lq, h = it % p->HR;
        const int64_t n_el = ssm__hsel_eligible(p, p->q_offset + t);
        const int64_t io = b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2];
        const int64_t wo = b * c->w.st[0] + t * c->w.st[1] + h * c->w.st[2];
        ssm__avx512_load_row(q, c->qr.data, p->dtype, b * c->qr.st[0] + t * c->qr.st[1] + h * c->qr.st[2], c->qr.st[3], R);
        for (ch = 0; ch < n_el; ++ch) {   /* r[c] = <q, lmk[c]> / sqrt(R) */
            const int64_t off = b * c->lmk.st[0] + ch * c->lmk.st[1] + h * c->lmk.st[2];
            const float *l = direct ? (const float *)c->lmk.data + off : lrow;
            __m512 acc = _mm512_setzero_ps();
            if (!direct) ssm__avx512_load_row(lrow, c->lmk.data, p->dtype, off, c->lmk.st[3], R);
            for (e = 0; e < R; e += 16)
                acc = _mm512_fmadd_ps(_mm512_load_ps(q + e), ssm__avx512_ldm(ssm__avx512_mask(R - e), l + e), acc);
            r[ch] = _mm512_reduce_add_ps(acc) * inv_sqrt_r;
        }
        ssm__hsel_emit(c, r, n_el, heap, mark, io, wo);
    }
}

static ssm__scratch ssm__avx512_hsel_scratch(const ssm_hsa_select_params *p) {
    ssm__scratch s;
    const size_t RP = ssm__sz(ssm__avx512_round16(p->R)), CP = ssm__sz(ssm__avx512_round16(p->C));
    size_t bytes = ssm__sat_mul(sizeof(int64_t), ssm__sz(ssm__avx512_round16(ssm__hsel_kmax(p))));   /* heap */
    bytes = ssm__sat_add(bytes, ssm__sat_mul(sizeof(float), ssm__sat_add(2 * RP, CP)));               /* q, row, scores */
    s.shared = 0;
    s.per_worker = ssm__sat_add(bytes, CP);                                                             /* marks */
    return s;
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_hsa_select(const ssm_hsa_select_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__hsel_ctx c;
    ssm__hsel_operands(p, &o);
    c.p = p;
    c.qr = ssm__opview(&o, SSM__HS_QR);
    c.lmk = ssm__opview(&o, SSM__HS_LMK);
    c.idx = ssm__opmview(&o, SSM__HS_IDX);
    c.w = ssm__opmview(&o, SSM__HS_W);
    c.kmax = ssm__hsel_kmax(p);
    ssm__parallel(run, p->B * p->Lq * p->HR, ssm__avx512_hsel_range, &c);
    return SSM_OK;
}

/* ================================================================ hsa_attention (SPEC §5)

   One work item is one (batch, query token, KV head) with all G = HQ/HK query heads together, as
   in the portable kernel, so each selected chunk is read once for the G heads. The G heads are
   the 16 lanes of a vector, which makes every step of a slot a micro-GEMM or a lane-wise op:

     scores  Sᵀ (S x G)  = K_chunk (S x E) · (scale qᵀ) (E x G)    6-row micro-kernel over keys
     softmax per lane    max, exp and sum down the S rows: no horizontal reductions
     output  O (G x Ev) += (Pᵀ scaled by w/l) (G x S) · V_chunk (S x Ev)

   f32 K and V with unit element stride (and Ev a multiple of 16) are read in place; other dtypes
   and layouts are converted into chunk tiles first. With sm_n > 0 the extra denominator term is
   an implicit logit 0, so the running maximum starts at 0 and no exp overflows.

   With bf16 I/O on a CPU with AMX-BF16 the two products run on the tiles instead, a batch of
   chunks at a time (ssm__amx_hatt_item): cpu.hsa bf16, 1 thread, 205 -> 120-125 ms on a 2-core
   Sapphire-Rapids-class VM (f32 on FMA: 153 ms). What remains is mostly reading the selected
   chunks (K and V, 8 KiB each here, from L3 for most slots: the pairs for the tiles take 25 and
   29 ms) and the softmax (16 ms); prefetching the next chunks made it slower. */

#define SSM__AVX512_HATT_BUCKETS 256
#define SSM__AMX_HATT_BATCH 8   /* chunks per AMX product batch (see ssm__amx_hatt_item) */

typedef struct ssm__avx512_hatt_ctx {
    const ssm_hsa_attention_params *p;
    ssm__view q, k, v, idx, w;
    ssm__mview o, lse;
    int64_t G, Ev, GP, EP, EvP;
    float scale;
    float ones[SSM__AVX512_MR];   /* the accumulator's scale in the output micro-GEMM */
    int k_direct, v_direct, bf16_insn;
    int amx;                      /* bf16 I/O with AMX tiles: ssm__amx_hatt_item */
    int64_t EA, SP;               /* AMX: E rounded up to 32, S to 16 */
    /* the work by buckets of items (see ssm__avx512_hatt_balance); nbuckets 0: items split evenly */
    int64_t n, nbuckets;
    double cum[SSM__AVX512_HATT_BUCKETS + 1];
} ssm__avx512_hatt_ctx;

/* lse of slot i for the G heads of item (b, t, h): vals[g], or -inf where vals is NULL (an
   empty slot). */
static void ssm__avx512_hatt_lse(const ssm__avx512_hatt_ctx *c, int64_t b, int64_t t, int64_t h, int64_t i,
                                 const float *vals) {
    float *lse = (float *)c->lse.data;
    int64_t g;
    if (!lse) return;
    for (g = 0; g < c->G; ++g)
        lse[b * c->lse.st[0] + t * c->lse.st[1] + (h * c->G + g) * c->lse.st[2] + i * c->lse.st[3]] = vals ? vals[g] : -INFINITY;
}

/* Workers get equal work, not equal item counts. In causal use the first tokens have fewer than
   K eligible chunks (the rest of their slots are -1), so the first worker's share of an even
   split was the lightest: cpu.hsa took 1.80x the 1-thread speed on 2 threads (2-core
   Sapphire-Rapids-class VM), its slots splitting 48:52. Before the parallel phase one pass over
   idx sums the work of SSM__AVX512_HATT_BUCKETS buckets of consecutive items (a selected chunk:
   5, an item: 1, the cost of its q and o rows); each worker then maps the item range
   ssm__parallel gave it to the one holding the same fraction of the work, interpolating inside
   a bucket. The map is monotone with f(0) = 0 and f(n) = n, so the workers' ranges still tile
   the items, and each stays contiguous (neighbouring tokens share q, o and idx pages). A
   scattered item order balanced as well but lost 8% on 1 thread. */
static SSM__AVX512_TARGET void ssm__avx512_hatt_balance(ssm__avx512_hatt_ctx *c, int64_t n, int threads) {
    const ssm_hsa_attention_params *p = c->p;
    int64_t j, it, i;
    c->n = n;
    c->nbuckets = threads > 1 && n >= 2 * SSM__AVX512_HATT_BUCKETS ? SSM__AVX512_HATT_BUCKETS : 0;
    c->cum[0] = 0.0;
    for (j = 0; j < c->nbuckets; ++j) {
        double work = 0.0;
        for (it = n * j / c->nbuckets; it < n * (j + 1) / c->nbuckets; ++it) {
            const int64_t b = it / (p->Lq * p->HK), t = (it / p->HK) % p->Lq, h = it % p->HK;
            const int32_t *idx = (const int32_t *)c->idx.data + b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2];
            work += 1.0;
            for (i = 0; i < p->K; ++i) work += idx[i * c->idx.st[3]] >= 0 ? 5.0 : 0.0;
        }
        c->cum[j + 1] = c->cum[j] + work;
    }
}

/* The item where the first x / n of the work begins (see ssm__avx512_hatt_balance). */
static int64_t ssm__avx512_hatt_item(const ssm__avx512_hatt_ctx *c, int64_t x) {
    const int64_t n = c->n, nb = c->nbuckets;
    double target;
    int64_t j = 0, lo, hi;
    if (nb == 0 || x <= 0 || x >= n) return x;
    target = c->cum[nb] * ((double)x / (double)n);
    while (j + 1 < nb && c->cum[j + 1] <= target) ++j;
    lo = n * j / nb;
    hi = n * (j + 1) / nb;
    return lo + (int64_t)((double)(hi - lo) * ((target - c->cum[j]) / (c->cum[j + 1] - c->cum[j])));
}

/* bf16 I/O on a CPU with AMX-BF16 takes the tile path (see ssm__amx_hatt_item). */
static int ssm__avx512_hatt_amx(const ssm_hsa_attention_params *p) {
    return p->dtype == SSM_BF16 && ssm__avx512_amx_ready();
}

static ssm__scratch ssm__avx512_hatt_scratch(const ssm_hsa_attention_params *p) {
    const size_t G = ssm__sz(ssm__avx512_round16(p->HQ / p->HK)), E = ssm__sz(ssm__avx512_round16(p->E));
    const size_t Ev = ssm__sz(ssm__avx512_round16(ssm__hatt_ev(p))), S = ssm__sz(p->S);
    size_t n = ssm__sat_mul(E, G);                                     /* scale qᵀ */
    n = ssm__sat_add(n, ssm__sat_mul(G, Ev));                          /* O */
    n = ssm__sat_add(n, ssm__sat_mul(S, G));                           /* scores / probabilities */
    n = ssm__sat_add(n, ssm__sat_mul(S, ssm__sat_add(E, Ev)));         /* K and V chunk tiles */
    n = ssm__sat_add(n, 4 * G + 16 * 8);                               /* per-lane vectors, alignment */
    if (ssm__avx512_hatt_amx(p)) {   /* see ssm__amx_hatt_bufs */
        const size_t EA = ssm__sz((p->E + 31) & ~(int64_t)31), SP = ssm__sz(ssm__avx512_round16(p->S));
        const size_t bsp = ssm__sat_mul(ssm__sz(ssm__min64(ssm__or1(p->K), SSM__AMX_HATT_BATCH)), SP);   /* a batch's keys */
        n = ssm__sat_add(n, ssm__sat_mul(G, EA) / 2 + ssm__sat_mul(EA / 2, bsp) + ssm__sat_mul(2 * G, bsp));   /* qa, Kw, S2, Pa */
        n = ssm__sat_add(n, ssm__sat_add(ssm__sat_mul(SP, G), ssm__sat_mul(bsp, Ev)));                       /* Sc, Vd */
        n = ssm__sat_add(n, 16 * 8);
    }
    ssm__scratch s;
    s.shared = 0;
    s.per_worker = ssm__sat_mul(sizeof(float), n);
    return s;
}

/* Scores Sᵀ[j][g] (S rows of GP) into probabilities times wi / l, down the rows, 16 heads per
   vector; lse_out (GP) gets m + log l. */
static SSM__AVX512_TARGET void ssm__avx512_hatt_softmax(const ssm__avx512_hatt_ctx *c, float *Sc, float wi, float *lse_out) {
    const ssm_hsa_attention_params *p = c->p;
    const int64_t S = p->S, GP = c->GP;
    int64_t j, g0;
    for (g0 = 0; g0 < GP; g0 += 16) {   /* softmax down the rows, 16 heads per vector */
        __m512 m = _mm512_load_ps(Sc + g0), l = _mm512_setzero_ps(), f;
        for (j = 1; j < S; ++j) m = _mm512_max_ps(_mm512_load_ps(Sc + j * GP + g0), m);   /* NaN spreads via l */
        if (p->sm_n > 0.0f) {   /* the sm_n term is a logit 0: max(m, 0), NaN kept */
            m = _mm512_max_ps(_mm512_setzero_ps(), m);
            l = _mm512_mul_ps(_mm512_set1_ps(p->sm_n), ssm__avx512_exp(_mm512_sub_ps(_mm512_setzero_ps(), m)));
        }
        for (j = 0; j < S; ++j) {
            const __m512 e = ssm__avx512_exp(_mm512_sub_ps(_mm512_load_ps(Sc + j * GP + g0), m));
            _mm512_store_ps(Sc + j * GP + g0, e);
            l = _mm512_add_ps(l, e);
        }
        f = _mm512_div_ps(_mm512_set1_ps(wi), l);
        for (j = 0; j < S; ++j) _mm512_store_ps(Sc + j * GP + g0, _mm512_mul_ps(_mm512_load_ps(Sc + j * GP + g0), f));
        if (lse_out) _mm512_store_ps(lse_out + g0, _mm512_add_ps(m, ssm__avx512_log_core(l)));
    }
}

/* One slot: chunk ch with weight wi, for item (b, t, h); O accumulates. */
static SSM__AVX512_TARGET void ssm__avx512_hatt_slot(const ssm__avx512_hatt_ctx *c, int64_t b, int64_t h, int64_t ch,
                                                     float wi, float *qT, float *O, float *Sc, float *Kt, float *Vt,
                                                     float *lse_out) {
    const ssm_hsa_attention_params *p = c->p;
    const int64_t S = p->S, E = p->E, G = c->G, GP = c->GP, EP = c->EP, EvP = c->EvP;
    const int64_t koff = b * c->k.st[0] + ch * S * c->k.st[1] + h * c->k.st[2];
    const int64_t voff = b * c->v.st[0] + ch * S * c->v.st[1] + h * c->v.st[2];
    const float *Kc, *Vc;
    int64_t lda, ldv, i0;
    if (c->k_direct) {
        Kc = (const float *)c->k.data + koff;
        lda = c->k.st[1];
    } else {
        ssm__avx512_rows_in(Kt, EP, c->k.data, p->dtype, koff, c->k.st[1], c->k.st[3], S, E);
        Kc = Kt;
        lda = EP;
    }
    if (c->v_direct) {
        Vc = (const float *)c->v.data + voff;
        ldv = c->v.st[1];
    } else {
        ssm__avx512_rows_in(Vt, EvP, c->v.data, p->dtype, voff, c->v.st[1], c->v.st[3], S, c->Ev);
        Vc = Vt;
        ldv = EvP;
    }
    for (i0 = 0; i0 < S; i0 += SSM__AVX512_MR)   /* Sᵀ[j][g] = <k_j, scale q_g> */
        ssm__avx512_gemm(Sc + i0 * GP, GP, NULL, NULL, (int)ssm__min64(SSM__AVX512_MR, S - i0), Kc + i0 * lda, lda, qT, GP,
                         E, GP);
    ssm__avx512_hatt_softmax(c, Sc, wi, lse_out);
    for (i0 = 0; i0 < G; i0 += SSM__AVX512_MR)   /* O[g] += sum_j P[j][g] V[j] */
        ssm__avx512_gemm_s(O + i0 * EvP, EvP, O + i0 * EvP, c->ones, (int)ssm__min64(SSM__AVX512_MR, G - i0), Sc + i0, 1,
                           GP, Vc, ldv, S, EvP);
}

/* AMX (bf16 I/O): the slots of an item in batches of up to SSM__AMX_HATT_BATCH chunks, each batch
   two tile products. q, K and V are bf16 numbers, so the products of raw pairs are exact; only
   P, in f32, is split in two bf16 terms (see the SSD's AMX section; same engine and tile
   configuration):

     scores  S (GP x nb SP)  = q (GP x EA bf16, row-major) · [Kᵀ of each chunk] as pairs (K[j][2k], K[j][2k+1])
     softmax per chunk       the FMA path's, on a transpose Sᵀ[j][g] times the scale
     output  O (GP x EvP)   += [P of each chunk] as (hi, lo) pairs [g][j] · [V of each chunk] as (v, v) pairs [j][n]

   Batching matters: one small product per chunk ran at a quarter of the tile unit's speed (the
   two products per slot cost 50 of 142 ms on cpu.hsa bf16; 2-core Sapphire-Rapids-class VM). The
   output product sums over the batch's chunks in one run of K steps. Everything is padded with
   zeros to whole tiles (E to 32, S and Ev to 16): a padded key or value meets only zeros. */
typedef struct ssm__amx_hatt_bufs {
    uint16_t *qa;   /* GP x EA: q rows as they are */
    uint32_t *Kw;   /* EA/2 x batch SP: K pairs, chunk s at column s SP */
    float *S2;      /* GP x batch SP: scores */
    float *Sc;      /* SP x GP: one chunk's scores transposed, then its probabilities */
    uint32_t *Pa;   /* GP x batch SP: P as (hi, lo) */
    uint32_t *Vd;   /* batch SP x EvP: V as (v, v), chunk s from row s SP */
    float *lse;     /* GP */
} ssm__amx_hatt_bufs;

static int64_t ssm__amx_hatt_batch(const ssm_hsa_attention_params *p) {
    return ssm__min64(ssm__or1(p->K), SSM__AMX_HATT_BATCH);
}

/* Kw columns [s SP, s SP + SP) from chunk ch: 16 x 16 word transposes of K's rows. */
static SSM__AMX_TARGET void ssm__amx_hatt_kpairs(const ssm__avx512_hatt_ctx *c, const ssm__amx_hatt_bufs *u, int64_t ld,
                                                 int64_t s, int64_t koff) {
    const int64_t S = c->p->S, E = c->p->E, SP = c->SP, st_j = c->k.st[1], st_e = c->k.st[3];
    const uint16_t *K = (const uint16_t *)c->k.data;
    __m512 r[16];
    int64_t j0, k0, n;
    int x;
    for (j0 = 0; j0 < SP; j0 += 16)
        for (k0 = 0; k0 < c->EA / 2; k0 += 16) {
            for (x = 0; x < 16; ++x) {
                const int64_t j = j0 + x, e0 = 2 * k0;
                if (j >= S || e0 >= E) {
                    r[x] = _mm512_setzero_ps();
                } else if (st_e == 1 && E - e0 >= 32) {   /* plain loads where they can: see vload */
                    r[x] = _mm512_loadu_ps((const void *)(K + koff + j * st_j + e0));
                } else if (st_e == 1) {
                    r[x] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi16((__mmask32)((1u << (E - e0)) - 1u), K + koff + j * st_j + e0));
                } else {
                    uint16_t tmp[32];
                    for (n = 0; n < 32; ++n) tmp[n] = e0 + n < E ? K[koff + j * st_j + (e0 + n) * st_e] : 0;
                    r[x] = _mm512_castsi512_ps(_mm512_loadu_si512((const void *)tmp));
                }
            }
            ssm__avx512_transpose16(r);
            for (x = 0; x < 16; ++x) _mm512_store_ps((float *)(void *)(u->Kw + (k0 + x) * ld + s * SP + j0), r[x]);
        }
}

/* Vd rows [s SP, s SP + SP) from chunk ch: (V[j][n], V[j][n]), 0 past S and Ev. */
static SSM__AMX_TARGET void ssm__amx_hatt_vpairs(const ssm__avx512_hatt_ctx *c, const ssm__amx_hatt_bufs *u, int64_t s,
                                                 int64_t voff) {
    const int64_t S = c->p->S, Ev = c->Ev, EvP = c->EvP, SP = c->SP, st_j = c->v.st[1], st_e = c->v.st[3];
    const uint16_t *V = (const uint16_t *)c->v.data;
    int64_t j, n;
    int x;
    for (j = 0; j < SP; ++j)
        for (n = 0; n < EvP; n += 16) {
            __m512i v = _mm512_setzero_si512();
            if (j < S && n < Ev) {
                const __mmask16 m = ssm__avx512_mask(Ev - n);
                if (st_e == 1 && m == 0xffff) {
                    v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(V + voff + j * st_j + n)));
                } else if (st_e == 1) {
                    v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, V + voff + j * st_j + n));
                } else {
                    uint32_t tmp[16];
                    for (x = 0; x < 16; ++x) tmp[x] = n + x < Ev ? V[voff + j * st_j + (n + x) * st_e] : 0u;
                    v = _mm512_loadu_si512((const void *)tmp);
                }
            }
            _mm512_store_si512((void *)(u->Vd + (s * SP + j) * EvP + n), _mm512_or_si512(v, _mm512_slli_epi32(v, 16)));
        }
}

/* One batch: chunks ch[0..nb) with weights wv of item (b, t, h), slot numbers slot[] (for lse);
   O accumulates. */
static SSM__AMX_TARGET void ssm__amx_hatt_run(const ssm__avx512_hatt_ctx *c, const ssm__amx_hatt_bufs *u, float *O,
                                              int64_t b, int64_t t, int64_t h, const int64_t *ch, const float *wv,
                                              const int64_t *slot, int64_t nb) {
    const ssm_hsa_attention_params *p = c->p;
    const int64_t S = p->S, GP = c->GP, EvP = c->EvP, EA = c->EA, SP = c->SP;
    const int64_t ld = ssm__amx_hatt_batch(p) * SP;   /* row stride (words, floats) of Kw, S2, Pa */
    const __m512 scale = _mm512_set1_ps(c->scale);
    ssm__amx_engine e;
    __m512 r[16];
    int64_t s, j, j0, g0;
    int x;
    for (s = 0; s < nb; ++s)
        ssm__amx_hatt_kpairs(c, u, ld, s, b * c->k.st[0] + ch[s] * S * c->k.st[1] + h * c->k.st[2]);
    ssm__amx_init(&e);
    ssm__amx_push(&e, 0, u->S2, ld, 0, GP, nb * SP, u->qa, 2 * EA, u->Kw, 4 * ld, EA / 32);
    ssm__amx_drain(&e, 1);
    for (s = 0; s < nb; ++s) {
        for (j0 = 0; j0 < SP; j0 += 16)   /* Sᵀ[j][g] = scale S[g][j] */
            for (g0 = 0; g0 < GP; g0 += 16) {
                for (x = 0; x < 16; ++x) r[x] = _mm512_load_ps(u->S2 + (g0 + x) * ld + s * SP + j0);
                ssm__avx512_transpose16(r);
                for (x = 0; x < 16; ++x) _mm512_store_ps(u->Sc + (j0 + x) * GP + g0, _mm512_mul_ps(scale, r[x]));
            }
        ssm__avx512_hatt_softmax(c, u->Sc, wv[s], c->lse.data ? u->lse : NULL);
        ssm__avx512_hatt_lse(c, b, t, h, slot[s], u->lse);
        for (j = S; j < SP; ++j)   /* padded keys: probability 0 */
            for (g0 = 0; g0 < GP; g0 += 16) _mm512_store_ps(u->Sc + j * GP + g0, _mm512_setzero_ps());
        for (j0 = 0; j0 < SP; j0 += 16)   /* Pa[g][j] = P[j][g] as (hi, lo) */
            for (g0 = 0; g0 < GP; g0 += 16) {
                for (x = 0; x < 16; ++x) r[x] = _mm512_load_ps(u->Sc + (j0 + x) * GP + g0);
                ssm__avx512_transpose16(r);
                for (x = 0; x < 16; ++x) _mm512_store_si512((void *)(u->Pa + (g0 + x) * ld + s * SP + j0), ssm__amx_split16(r[x]));
            }
        ssm__amx_hatt_vpairs(c, u, s, b * c->v.st[0] + ch[s] * S * c->v.st[1] + h * c->v.st[2]);
    }
    ssm__amx_push(&e, 0, O, EvP, 1, GP, EvP, u->Pa, 4 * ld, u->Vd, 4 * EvP, nb * SP / 16);
    ssm__amx_drain(&e, 1);
}

/* All slots of item (b, t, h) into O (GP x EvP, zeroed here); lse -inf for empty slots. */
static SSM__AMX_TARGET void ssm__amx_hatt_item(const ssm__avx512_hatt_ctx *c, const ssm__amx_hatt_bufs *u, float *O,
                                               int64_t b, int64_t t, int64_t h) {
    const ssm_hsa_attention_params *p = c->p;
    const int64_t G = c->G, GP = c->GP, E = p->E, EA = c->EA, EvP = c->EvP, batch = ssm__amx_hatt_batch(p);
    const int64_t iw = b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2];
    const int64_t ww = b * c->w.st[0] + t * c->w.st[1] + h * c->w.st[2];
    const uint16_t *q = (const uint16_t *)c->q.data;
    int64_t ch[SSM__AMX_HATT_BATCH], slot[SSM__AMX_HATT_BATCH];
    float wv[SSM__AMX_HATT_BATCH];
    int64_t g, k, i, nb = 0;
    for (g = 0; g < GP; ++g) {   /* q rows as they are (bf16), zeros past E and G */
        const int64_t qo = g < G ? b * c->q.st[0] + t * c->q.st[1] + (h * G + g) * c->q.st[2] : 0;
        for (k = 0; k < EA; k += 32) {
            const __mmask32 m = g >= G || k >= E ? 0 : E - k >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (E - k)) - 1u);
            uint16_t *dst = u->qa + g * EA + k;
            if (!m) {
                _mm512_store_si512((void *)dst, _mm512_setzero_si512());
            } else if (c->q.st[3] == 1 && m == 0xffffffffu) {
                _mm512_store_si512((void *)dst, _mm512_loadu_si512((const void *)(q + qo + k)));
            } else if (c->q.st[3] == 1) {
                _mm512_store_si512((void *)dst, _mm512_maskz_loadu_epi16(m, q + qo + k));
            } else {
                int64_t x;
                for (x = 0; x < 32; ++x) dst[x] = k + x < E ? q[qo + (k + x) * c->q.st[3]] : 0;
            }
        }
    }
    for (k = 0; k < GP * EvP; k += 16) _mm512_store_ps(O + k, _mm512_setzero_ps());
    for (i = 0; i < p->K; ++i) {
        const int64_t chi = ((const int32_t *)c->idx.data)[iw + i * c->idx.st[3]];
        if (chi < 0) {
            ssm__avx512_hatt_lse(c, b, t, h, i, NULL);
            continue;
        }
        ch[nb] = chi;
        wv[nb] = ((const float *)c->w.data)[ww + i * c->w.st[3]];
        slot[nb++] = i;
        if (nb == batch) {
            ssm__amx_hatt_run(c, u, O, b, t, h, ch, wv, slot, nb);
            nb = 0;
        }
    }
    if (nb) ssm__amx_hatt_run(c, u, O, b, t, h, ch, wv, slot, nb);
}

static SSM__AVX512_TARGET void ssm__avx512_hatt_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    const ssm__avx512_hatt_ctx *c = (const ssm__avx512_hatt_ctx *)vc;
    const ssm_hsa_attention_params *p = c->p;
    const int64_t G = c->G, E = p->E, S = p->S, K = p->K, GP = c->GP, EP = c->EP, EvP = c->EvP;
    float *f = (float *)scratch;
    float *qT = ssm__avx512_carve(&f, EP * GP), *O = ssm__avx512_carve(&f, GP * EvP), *Sc = ssm__avx512_carve(&f, S * GP);
    float *Kt = ssm__avx512_carve(&f, S * EP), *Vt = ssm__avx512_carve(&f, S * EvP), *lse = ssm__avx512_carve(&f, GP);
    ssm__amx_hatt_bufs u;
    const int64_t first = ssm__avx512_hatt_item(c, begin), last = ssm__avx512_hatt_item(c, end);
    int64_t it, g, g0, i, k;
    memset(&u, 0, sizeof u);
    if (c->amx) {   /* see ssm__amx_hatt_bufs */
        const int64_t bsp = ssm__amx_hatt_batch(p) * c->SP;
        u.qa = (uint16_t *)(void *)ssm__avx512_carve(&f, GP * c->EA / 2);
        u.Kw = (uint32_t *)(void *)ssm__avx512_carve(&f, c->EA / 2 * bsp);
        u.S2 = ssm__avx512_carve(&f, GP * bsp);
        u.Sc = ssm__avx512_carve(&f, c->SP * GP);
        u.Pa = (uint32_t *)(void *)ssm__avx512_carve(&f, GP * bsp);
        u.Vd = (uint32_t *)(void *)ssm__avx512_carve(&f, bsp * EvP);
        u.lse = lse;
    }
    for (it = first; it < last; ++it) {
        const int64_t b = it / (p->Lq * p->HK), t = (it / p->HK) % p->Lq, h = it % p->HK;
        const int64_t iw = b * c->idx.st[0] + t * c->idx.st[1] + h * c->idx.st[2];
        const int64_t ww = b * c->w.st[0] + t * c->w.st[1] + h * c->w.st[2];
        if (c->amx) {
            ssm__amx_hatt_item(c, &u, O, b, t, h);
        } else {
            for (g0 = 0; g0 < G; g0 += 16)   /* qᵀ (E x G), G heads in lanes */
                ssm__avx512_tile_in(qT + g0, GP, c->q.data, p->dtype, b * c->q.st[0] + t * c->q.st[1] + (h * G + g0) * c->q.st[2],
                                    c->q.st[2], c->q.st[3], (int)ssm__min64(16, G - g0), E);
            for (k = 0; k < E * GP; k += 16) _mm512_store_ps(qT + k, _mm512_mul_ps(_mm512_load_ps(qT + k), _mm512_set1_ps(c->scale)));
            for (k = 0; k < G * EvP; k += 16) _mm512_store_ps(O + k, _mm512_setzero_ps());
            for (i = 0; i < K; ++i) {
                const int64_t ch = ((const int32_t *)c->idx.data)[iw + i * c->idx.st[3]];
                const float wi = ((const float *)c->w.data)[ww + i * c->w.st[3]];
                if (ch >= 0) ssm__avx512_hatt_slot(c, b, h, ch, wi, qT, O, Sc, Kt, Vt, c->lse.data ? lse : NULL);
                ssm__avx512_hatt_lse(c, b, t, h, i, ch >= 0 ? lse : NULL);
            }
        }
        for (g = 0; g < G; ++g)
            ssm__avx512_store_row(c->o.data, p->dtype, b * c->o.st[0] + t * c->o.st[1] + (h * G + g) * c->o.st[2], c->o.st[3],
                                  O + g * EvP, c->Ev, c->bf16_insn);
    }
}

/* The tile configuration is per thread: each range loads its own. */
static SSM__AMX_TARGET void ssm__amx_hatt_range(void *vc, int64_t begin, int64_t end, void *scratch) {
    SSM__TILE_CONFIG();
    ssm__avx512_hatt_range(vc, begin, end, scratch);
    SSM__TILE_RELEASE();
}

static SSM__AVX512_TARGET ssm_status ssm__avx512_hsa_attention(const ssm_hsa_attention_params *p, const ssm__run *run) {
    ssm__operands o;
    ssm__avx512_hatt_ctx c;
    int r;
    ssm__hatt_operands(p, &o);
    c.p = p;
    c.q = ssm__opview(&o, SSM__HA_Q);
    c.k = ssm__opview(&o, SSM__HA_K);
    c.v = ssm__opview(&o, SSM__HA_V);
    c.idx = ssm__opview(&o, SSM__HA_IDX);
    c.w = ssm__opview(&o, SSM__HA_W);
    c.o = ssm__opmview(&o, SSM__HA_O);
    c.lse = ssm__opmview(&o, SSM__HA_LSE);
    c.G = p->HQ / p->HK;
    c.Ev = ssm__hatt_ev(p);
    c.GP = ssm__avx512_round16(c.G);
    c.EP = ssm__avx512_round16(p->E);
    c.EvP = ssm__avx512_round16(c.Ev);
    c.scale = p->scale != 0.0f ? p->scale : 1.0f / sqrtf((float)p->E);
    for (r = 0; r < SSM__AVX512_MR; ++r) c.ones[r] = 1.0f;
    c.k_direct = p->dtype == SSM_F32 && c.k.st[3] == 1;
    c.v_direct = p->dtype == SSM_F32 && c.v.st[3] == 1 && c.Ev % 16 == 0;
    c.bf16_insn = ssm__avx512_bf16_insn(p->dtype);
    c.amx = ssm__avx512_hatt_amx(p);
    c.EA = (p->E + 31) & ~(int64_t)31;
    c.SP = ssm__avx512_round16(p->S);
    ssm__avx512_hatt_balance(&c, p->B * p->Lq * p->HK, run->threads);
    ssm__parallel(run, p->B * p->Lq * p->HK, c.amx ? ssm__amx_hatt_range : ssm__avx512_hatt_range, &c);
    return SSM_OK;
}

/* ================================================================ the backend table */

#define SSM__AVX512_DTYPES ((1u << SSM_F32) | (1u << SSM_F16) | (1u << SSM_BF16))

SSM__UNUSED static const ssm__backend ssm__avx512_backend = {
    SSM_ISA_AVX512,
    {SSM__AVX512_DTYPES, SSM__AVX512_DTYPES, SSM__AVX512_DTYPES, SSM__AVX512_DTYPES, SSM__AVX512_DTYPES, SSM__AVX512_DTYPES},
    ssm__avx512_selective_scan, ssm__avx512_state_update, ssm__avx512_ssd, ssm__avx512_conv1d, ssm__avx512_hsa_select,
    ssm__avx512_hsa_attention,
    ssm__avx512_scan_scratch, ssm__avx512_step_scratch, ssm__avx512_ssd_scratch, ssm__avx512_conv_scratch,
    ssm__avx512_hsel_scratch, ssm__avx512_hatt_scratch,
};
#define SSM__AVX512_BACKEND ssm__avx512_backend


#endif /* SSM__IMPLEMENTATION_DONE && !SSM__AVX512_EMITTED */
