// The DogStatsD tokenizer: every structural delimiter of a packet, in order, in one pass.
//
// Output entry: (position << 2) | kind, position absolute in the buffer, kind
//   0 '\n', 1 '|', 2 ',', 3 ':'
// A ':' is written only before the first '|' of its line (the name's colon and the value
// separators; tag colons are not structure); a ',' only after it (tag separators; the commas of
// an event's `{title,text}` header are not written). '\n' and '|' are always written. This is the
// layout of benchmarks/RESULTS.md ("What would reach 6x"); the codec walks it instead of calling
// Buffer.indexOf. The JavaScript twin is native/lib/tokenize.ts: same entries, same count.
//
// How: 64 bytes at a time, one 64-bit mask per delimiter (SSE2: four 16-byte compares each;
// AVX2, when the CPU has it: two 32-byte compares). Which bytes lie before their line's first
// pipe is a bit trick on those masks (see PrePipe), with one bit of state carried from block to
// block, so the colon/comma filter costs no branch per byte. Then one tzcnt per written entry
// (see EmitBlock). Entries past the returned count may be overwritten.
// The last partial block is copied into a zeroed 64-byte block (zero is no delimiter).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define KENNEL_TOKENIZE_X64 1
#endif

namespace kennel {
namespace tokenize {

constexpr uint32_t kNewline = 0;
constexpr uint32_t kPipe = 1;
constexpr uint32_t kComma = 2;
constexpr uint32_t kColon = 3;
/** Positions must fit 30 bits. */
constexpr size_t kMaxEnd = (size_t{1} << 30) - 1;

struct Masks {
  uint64_t nl;
  uint64_t pipe;
  uint64_t comma;
  uint64_t colon;
};

inline Masks ScalarBlock(const uint8_t* p) {
  Masks m = {0, 0, 0, 0};
  for (int i = 0; i < 64; i++) {
    const uint64_t bit = uint64_t{1} << i;
    const uint8_t c = p[i];
    if (c == '\n') m.nl |= bit;
    if (c == '|') m.pipe |= bit;
    if (c == ',') m.comma |= bit;
    if (c == ':') m.colon |= bit;
  }
  return m;
}

#ifdef KENNEL_TOKENIZE_X64
__attribute__((always_inline)) inline Masks Sse2Block(const uint8_t* p) {
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i pipe = _mm_set1_epi8('|');
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i colon = _mm_set1_epi8(':');
  Masks m = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const int shift = 16 * i;
    m.nl |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, nl)))) << shift;
    m.pipe |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, pipe)))) << shift;
    m.comma |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, comma)))) << shift;
    m.colon |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, colon)))) << shift;
  }
  return m;
}

__attribute__((target("avx2"), always_inline)) inline uint64_t Avx2Mask(__m256i lo, __m256i hi, __m256i v) {
  const uint64_t l = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)));
  const uint64_t h = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)));
  return l | (h << 32);
}

__attribute__((target("avx2"), always_inline)) inline Masks Avx2Block(const uint8_t* p) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  Masks m;
  m.nl = Avx2Mask(lo, hi, _mm256_set1_epi8('\n'));
  m.pipe = Avx2Mask(lo, hi, _mm256_set1_epi8('|'));
  m.comma = Avx2Mask(lo, hi, _mm256_set1_epi8(','));
  m.colon = Avx2Mask(lo, hi, _mm256_set1_epi8(':'));
  return m;
}
#endif

// The bytes of a block that lie before their line's first pipe (not counting pipes and
// newlines themselves). `pre` is 1 when the block starts before its line's first pipe (the
// packet's start, or the last '|' or '\n' of the previous block was a '\n').
//
// Z = bytes that are neither '|' nor '\n'. A line's pre-pipe stretch is the run of Z that starts
// right after its '\n' (or at bit 0 when `pre`) and ends at the next '|' or '\n'. Adding a 1 at
// the start of a run of ones clears the whole run by carry and touches nothing else, so
// Z & ~(Z + starts) is exactly those runs. A start that is itself a '|' or '\n' (an empty
// stretch) is dropped first (& Z); runs that reach bit 63 just carry out.
inline uint64_t PrePipe(uint64_t nl, uint64_t pipe, uint64_t pre) {
  const uint64_t z = ~(nl | pipe);
  const uint64_t starts = ((nl << 1) | pre) & z;
  return z & ~(z + starts);
}

/** Whether the next block starts before its line's first pipe. */
inline uint64_t CarryPre(uint64_t nl, uint64_t pipe, uint64_t pre) {
  const uint64_t m = nl | pipe;
  if (m == 0) return pre;
  return (nl >> (63 - __builtin_clzll(m))) & 1;
}

// Writes the entries of one block (its masks), whose first byte is at `pos`. Returns false (and
// writes nothing) when they do not fit in out[n, cap). Plain integer code, so it inlines into
// every kernel whatever its target.
//
// A block holds about 5 entries on DogStatsD traffic (97-byte lines, 7.3 entries a line). A loop
// that stops after the last one mispredicts its exit about once a block, so entries are written
// 4 or 8 at a time whatever the count (as simdjson's flatten_bits does), the extra writes landing
// past the count where the next block overwrites them; near the end of `out`, where they might
// not fit, the exact loop runs instead. Measured on the benchmark corpus (AVX2): 25 -> 17 to 21 ns a line.
__attribute__((always_inline)) inline uint32_t Entry(uint64_t& emit, uint64_t k0, uint64_t k1, uint32_t pos) {
  // The top bit keeps ctz defined once the mask is spent (see EmitBlock); it never changes the
  // lowest set bit of a mask that has one.
  const uint32_t i = static_cast<uint32_t>(__builtin_ctzll(emit | (uint64_t{1} << 63)));
  emit &= emit - 1;
  // kind bit 0: '|' or ':'; kind bit 1: ',' or ':'.
  return ((pos + i) << 2) | static_cast<uint32_t>((k0 >> i) & 1) | (static_cast<uint32_t>((k1 >> i) & 1) << 1);
}

__attribute__((always_inline)) inline bool EmitBlock(const Masks& m, uint32_t pos, uint64_t* pre, uint32_t* out,
                                                     size_t* n, size_t cap) {
  const uint64_t r = PrePipe(m.nl, m.pipe, *pre);
  *pre = CarryPre(m.nl, m.pipe, *pre);
  uint64_t emit = m.nl | m.pipe | (m.colon & r) | (m.comma & ~r);
  if (emit == 0) return true;
  const size_t k = *n;
  const size_t count = static_cast<size_t>(__builtin_popcountll(emit));
  if (k + count > cap) return false;
  const uint64_t k0 = m.pipe | m.colon;
  const uint64_t k1 = m.comma | m.colon;
  uint32_t* o = out + k;
  if (k + (count > 4 ? (count > 8 ? count : 8) : 4) <= cap) {
    // Entries past `count` come from a spent mask: garbage, overwritten by the next block or
    // beyond the returned count.
    o[0] = Entry(emit, k0, k1, pos);
    o[1] = Entry(emit, k0, k1, pos);
    o[2] = Entry(emit, k0, k1, pos);
    o[3] = Entry(emit, k0, k1, pos);
    if (count > 4) {
      o[4] = Entry(emit, k0, k1, pos);
      o[5] = Entry(emit, k0, k1, pos);
      o[6] = Entry(emit, k0, k1, pos);
      o[7] = Entry(emit, k0, k1, pos);
      for (size_t j = 8; j < count; j++) o[j] = Entry(emit, k0, k1, pos);
    }
  } else {
    for (size_t j = 0; j < count; j++) o[j] = Entry(emit, k0, k1, pos);
  }
  *n = k + count;
  return true;
}

// One kernel per block function. Written out (a macro, not a template) because GCC will not
// inline a target("avx2") block function into a template instantiated without that target.
#define KENNEL_TOKENIZE_KERNEL(NAME, ATTRS, BLOCK)                                                  \
  ATTRS inline int64_t NAME(const uint8_t* buf, size_t start, size_t end, uint32_t* out, size_t cap) { \
    size_t n = 0;                                                                                    \
    uint64_t pre = 1;                                                                                \
    size_t i = start;                                                                                \
    for (; i + 64 <= end; i += 64) {                                                                 \
      if (!EmitBlock(BLOCK(buf + i), static_cast<uint32_t>(i), &pre, out, &n, cap)) return -1;       \
    }                                                                                                \
    if (i < end) {                                                                                   \
      alignas(64) uint8_t tail[64];                                                                  \
      memset(tail, 0, sizeof tail);                                                                  \
      memcpy(tail, buf + i, end - i);                                                                \
      if (!EmitBlock(BLOCK(tail), static_cast<uint32_t>(i), &pre, out, &n, cap)) return -1;          \
    }                                                                                                \
    return static_cast<int64_t>(n);                                                                  \
  }

KENNEL_TOKENIZE_KERNEL(TokenizeScalar, , ScalarBlock)
#ifdef KENNEL_TOKENIZE_X64
KENNEL_TOKENIZE_KERNEL(TokenizeSse2, , Sse2Block)
KENNEL_TOKENIZE_KERNEL(TokenizeAvx2, __attribute__((target("avx2"))), Avx2Block)
#endif
#undef KENNEL_TOKENIZE_KERNEL

using TokenizeFn = int64_t (*)(const uint8_t*, size_t, size_t, uint32_t*, size_t);

/** The fastest kernel this CPU runs: AVX2 when it has it, else SSE2 (x86-64 baseline), else scalar. */
inline TokenizeFn Best() {
#ifdef KENNEL_TOKENIZE_X64
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return TokenizeAvx2;
  return TokenizeSse2;
#else
  return TokenizeScalar;
#endif
}

}  // namespace tokenize
}  // namespace kennel
