// The DogStatsD context key of packages/core/src/hash/context-key.ts (ContextKeyBuilder) and
// packages/aggregator/src/context-keyer.ts (ContextKeyer.fromRawTags), bit for bit: the same
// 64-bit hash (hash64.ts: two 32-bit lanes, 8 bytes a step, MurmurHash3 x86_128's cross-add and
// fmix32 to finish), the same tag-set rule (the XOR of the distinct tags' hashes) and the same
// agent rules for which tags are left out (the last `host:` tag is the host; `dd.internal.
// entity_id:`, `dd.internal.card:` and `dd.internal.jmx_check_name:` go, as in the agent's
// enrich.go). The shard keys a whole batch of samples in one call with this instead of keying
// each line in JavaScript; packages/aggregator/test/native-keys.prop.test.ts checks it against the JavaScript keyer
// on generated tag lists.
//
// Words are read little-endian with memcpy (x86-64 and arm64 are little-endian; a big-endian
// build would have to swap them to match the JavaScript DataView reads).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace kennel {
namespace context_key {

constexpr uint32_t kM1 = 0x9e3779b1u;
constexpr uint32_t kM2 = 0x85ebca77u;
constexpr uint32_t kF1 = 0x85ebca6bu;
constexpr uint32_t kF2 = 0xc2b2ae35u;
constexpr uint32_t kTagSeedLo = 0x7a6b5c4du;
constexpr uint32_t kTagSeedHi = 0x1f2e3d4cu;
constexpr uint32_t kHostSeedLo = 0x1b873593u;
constexpr uint32_t kHostSeedHi = 0x68e31da4u;
constexpr uint32_t kKeySeedLo = 0x2545f491u;
constexpr uint32_t kKeySeedHi = 0x4f6cdd1du;

struct Lanes {
  uint32_t h1;
  uint32_t h2;
};

inline uint32_t Rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

inline void Step(Lanes& s, uint32_t k1, uint32_t k2) {
  s.h1 = Rotl((s.h1 ^ k1) * kM1, 13) + s.h2;
  s.h2 = Rotl((s.h2 ^ k2) * kM2, 17) + s.h1;
}

// The block steps over p[0, n), a last partial block zero-padded. `limit` is the end of the
// readable buffer: when 8 bytes can be read there, the tail is one load and a mask, not a copy.
inline void Absorb(Lanes& s, const uint8_t* p, size_t n, const uint8_t* limit) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    Step(s, static_cast<uint32_t>(w), static_cast<uint32_t>(w >> 32));
  }
  if (i < n) {
    const size_t r = n - i;
    uint64_t w = 0;
    if (p + i + 8 <= limit) {
      memcpy(&w, p + i, 8);
      w &= ~uint64_t{0} >> (8 * (8 - r));
    } else {
      memcpy(&w, p + i, r);
    }
    Step(s, static_cast<uint32_t>(w), static_cast<uint32_t>(w >> 32));
  }
}

// The first ',' in [s, end), or end: 8 bytes at a time (a zero byte of w ^ ",,,,,,,," is a
// comma; the lowest flagged byte of the classic zero-byte test is always a true one).
inline const uint8_t* FindComma(const uint8_t* s, const uint8_t* end) {
  constexpr uint64_t kCommas = 0x2c2c2c2c2c2c2c2cull;
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  while (s + 8 <= end) {
    uint64_t w;
    memcpy(&w, s, 8);
    w ^= kCommas;
    const uint64_t z = (w - kOnes) & ~w & kHighs;
    if (z != 0) return s + (__builtin_ctzll(z) >> 3);
    s += 8;
  }
  while (s < end && *s != ',') s++;
  return s;
}

inline uint32_t Fmix(uint32_t h) {
  h ^= h >> 16;
  h *= kF1;
  h ^= h >> 13;
  h *= kF2;
  h ^= h >> 16;
  return h;
}

inline Lanes Finish(Lanes s, size_t len) {
  uint32_t h1 = s.h1 ^ static_cast<uint32_t>(len);
  uint32_t h2 = s.h2 ^ static_cast<uint32_t>(len);
  h1 += h2;
  h2 += h1;
  h1 = Fmix(h1);
  h2 = Fmix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

// hashBytes64 of hash64.ts.
inline Lanes HashBytes(const uint8_t* p, size_t n, uint32_t seedLo, uint32_t seedHi, const uint8_t* limit) {
  Lanes s = {seedLo, seedHi};
  Absorb(s, p, n, limit);
  return Finish(s, n);
}

inline bool StartsWith(const uint8_t* p, size_t n, const char* word, size_t len) {
  return n >= len && memcmp(p, word, len) == 0;
}

inline bool IsHostTag(const uint8_t* p, size_t n) { return StartsWith(p, n, "host:", 5); }

// context-keyer.ts's isInternalOriginTag, with its guard (first byte 'd', longer than 12).
inline bool IsInternalOriginTag(const uint8_t* p, size_t n) {
  if (n <= 12 || p[0] != 'd' || memcmp(p, "dd.internal.", 12) != 0) return false;
  const uint8_t* r = p + 12;
  const size_t m = n - 12;
  return StartsWith(r, m, "entity_id:", 10) || StartsWith(r, m, "card:", 5) || StartsWith(r, m, "jmx_check_name:", 15);
}

// Keys contexts from a name and a raw comma-separated tag list. Holds the distinct tag hashes of
// the current key: a hostile line with thousands of tags costs linear time (an open-addressing
// set stamped with a generation past kSmall distinct tags), the usual handful a short scan.
class Keyer {
 public:
  static constexpr int kSmall = 16;

  // name p[nameOff, +nameLen), tags p[tagsOff, +tagsLen); defaultHost is hashBytes64 of the
  // default host with the host seeds (ContextKeyer's defaultHostHash). Bytes up to `limit` (the
  // end of the buffer) may be read, never used.
  Lanes Key(const uint8_t* p, size_t nameOff, size_t nameLen, size_t tagsOff, size_t tagsLen, Lanes defaultHost,
            const uint8_t* limit) {
    count_ = 0;
    large_ = false;
    uint32_t setLo = 0;
    uint32_t setHi = 0;
    const uint8_t* host = nullptr;
    size_t hostLen = 0;
    if (tagsLen > 0) {
      const uint8_t* t = p + tagsOff;
      const uint8_t* end = t + tagsLen;
      const uint8_t* s = t;
      for (;;) {
        const uint8_t* e = FindComma(s, end);
        const size_t n = static_cast<size_t>(e - s);
        if (IsHostTag(s, n)) {
          host = s + 5;
          hostLen = n - 5;
        } else if (!IsInternalOriginTag(s, n)) {
          const Lanes h = HashBytes(s, n, kTagSeedLo, kTagSeedHi, limit);
          if (InsertUnique(h.h1, h.h2)) {
            setLo ^= h.h1;
            setHi ^= h.h2;
          }
        }
        if (e == end) break;
        s = e + 1;
      }
    }
    const Lanes hostHash = host != nullptr ? HashBytes(host, hostLen, kHostSeedLo, kHostSeedHi, limit) : defaultHost;
    Lanes st = {setLo ^ kKeySeedLo, setHi ^ kKeySeedHi};
    Absorb(st, p + nameOff, nameLen, limit);
    Step(st, hostHash.h1, hostHash.h2);
    return Finish(st, nameLen);
  }

  ~Keyer() { delete[] slots_; }

 private:
  struct Slot {
    uint32_t gen;
    uint32_t lo;
    uint32_t hi;
  };

  bool InsertUnique(uint32_t lo, uint32_t hi) {
    if (!large_) {
      for (int j = 0; j < count_; j++) {
        if (smallLo_[j] == lo && smallHi_[j] == hi) return false;
      }
      if (count_ < kSmall) {
        smallLo_[count_] = lo;
        smallHi_[count_] = hi;
        count_++;
        return true;
      }
      ToLarge();
    }
    return InsertLarge(lo, hi);
  }

  void ToLarge() {
    large_ = true;
    if (++gen_ == 0) {
      for (size_t i = 0; i < cap_; i++) slots_[i].gen = 0;
      gen_ = 1;
    }
    const int n = count_;
    count_ = 0;
    for (int j = 0; j < n; j++) InsertLarge(smallLo_[j], smallHi_[j]);
  }

  bool InsertLarge(uint32_t lo, uint32_t hi) {
    if ((static_cast<size_t>(count_) + 1) * 2 > cap_) Grow();
    const size_t mask = cap_ - 1;
    for (size_t slot = lo & mask;; slot = (slot + 1) & mask) {
      Slot& sl = slots_[slot];
      if (sl.gen != gen_) {
        sl = {gen_, lo, hi};
        count_++;
        return true;
      }
      if (sl.lo == lo && sl.hi == hi) return false;
    }
  }

  void Grow() {
    const size_t cap = cap_ == 0 ? 64 : cap_ * 2;
    Slot* next = new Slot[cap]();
    const size_t mask = cap - 1;
    for (size_t i = 0; i < cap_; i++) {
      if (slots_[i].gen != gen_) continue;
      size_t slot = slots_[i].lo & mask;
      while (next[slot].gen == gen_) slot = (slot + 1) & mask;
      next[slot] = slots_[i];
    }
    delete[] slots_;
    slots_ = next;
    cap_ = cap;
  }

  int count_ = 0;
  bool large_ = false;
  uint32_t smallLo_[kSmall];
  uint32_t smallHi_[kSmall];
  Slot* slots_ = nullptr;
  size_t cap_ = 0;
  uint32_t gen_ = 0;
};

// The keys of the raw forms last seen: the hash of a sample's raw bytes (name and tag list as
// written, and where the name ends) maps to the key Keyer computed for them. Traffic repeats a
// few thousand contexts, so most samples cost one hash of their bytes and one probe instead of a
// hash per tag, the host and internal-tag checks and the set de-duplication. Direct-mapped, a
// slot overwritten on conflict, so a flood of new contexts costs the probe and nothing more.
//
// A raw form is trusted by its 64-bit hash, as the agent trusts its 64-bit context keys
// (ckey.ContextKey): two raw forms that collide would share a key, with a chance of about
// n^2 / 2^65 among n distinct raw forms.
class KeyCache {
 public:
  static constexpr size_t kSlots = size_t{1} << 16;  // 1 MiB per thread that keys batches

  // The key of the raw form p[off, +nameLen + tagsLen), from the cache or computed by `keyer`.
  Lanes Key(Keyer& keyer, const uint8_t* p, size_t off, size_t nameLen, size_t tagsLen, Lanes defaultHost,
            const uint8_t* limit) {
    const Lanes raw = HashBytes(p + off, nameLen + tagsLen, kRawSeedLo ^ static_cast<uint32_t>(nameLen), kRawSeedHi, limit);
    Slot& s = slots_[raw.h1 & (kSlots - 1)];
    if (s.used && s.rawLo == raw.h1 && s.rawHi == raw.h2) return {s.keyLo, s.keyHi};
    const Lanes key = keyer.Key(p, off, nameLen, off + nameLen, tagsLen, defaultHost, limit);
    s = {raw.h1, raw.h2, key.h1, key.h2, true};
    return key;
  }

  // Forgets every raw form (the default host changed: the cached keys are another host's).
  void Clear() {
    for (Slot& s : slots_) s.used = false;
  }

 private:
  static constexpr uint32_t kRawSeedLo = 0x3c6ef372u;
  static constexpr uint32_t kRawSeedHi = 0xa54ff53au;

  struct Slot {
    uint32_t rawLo;
    uint32_t rawHi;
    uint32_t keyLo;
    uint32_t keyHi;
    bool used;
  };

  Slot slots_[kSlots] = {};
};

}  // namespace context_key
}  // namespace kennel
