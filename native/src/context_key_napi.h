// keyBatch(bytes, ints, count, layout) -> samples keyed: the JavaScript entry of context_key.h.
// A shard calls it once per batch of up to 8,192 samples (packages/aggregator, wire/sample-batch.ts
// describes the batch), so the per-call cost of N-API does not matter and the C API is used, as
// for tokenize. `layout` is a Uint32Array:
//   [stride, iKeyLo, iKeyHi, iType, iBytes, iNameLen, iTagsLen, flag, hostLo, hostHi]
// Sample k's fields are ints[k * stride + iField]. For each sample whose type has `flag` set, the
// key of bytes[off, +nameLen) and the tag list bytes[off + nameLen, +tagsLen) is written to
// iKeyLo/iKeyHi and the flag is cleared; consecutive samples with the same offset (the values of
// one multi-value line) share a key. (hostLo, hostHi) is the default host's hash.
//
// Every range is checked before anything is read: a sample whose bytes lie outside `bytes`
// throws a RangeError naming it, after the samples before it were keyed.
#pragma once

#include <node_api.h>

#include "napi_throw.h"

#include <memory>

#include "context_key.h"

namespace kennel {
namespace context_key {

inline bool TypedArray(napi_env env, napi_value v, napi_typedarray_type want, size_t* length, void** data) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) == napi_ok && type == want;
}

inline napi_value KeyBatch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  size_t byteLength;
  void* bytesData;
  if (!TypedArray(env, argv[0], napi_uint8_array, &byteLength, &bytesData)) {
    return ThrowArgumentError(env, false, "keyBatch: bytes must be a Uint8Array");
  }
  size_t intsLength;
  void* intsData;
  if (!TypedArray(env, argv[1], napi_uint32_array, &intsLength, &intsData)) {
    return ThrowArgumentError(env, false, "keyBatch: ints must be a Uint32Array");
  }
  double countD;
  if (napi_get_value_double(env, argv[2], &countD) != napi_ok) {
    return ThrowArgumentError(env, false, "keyBatch: count must be a number");
  }
  size_t layoutLength;
  void* layoutData;
  if (!TypedArray(env, argv[3], napi_uint32_array, &layoutLength, &layoutData) || layoutLength < 10) {
    return ThrowArgumentError(env, false, "keyBatch: layout must be a Uint32Array of 10");
  }
  const uint32_t* layout = static_cast<const uint32_t*>(layoutData);
  const size_t stride = layout[0];
  const uint32_t iLo = layout[1], iHi = layout[2], iType = layout[3], iBytes = layout[4], iName = layout[5],
                 iTags = layout[6], flag = layout[7];
  const Lanes host = {layout[8], layout[9]};
  if (stride == 0 || iLo >= stride || iHi >= stride || iType >= stride || iBytes >= stride || iName >= stride ||
      iTags >= stride) {
    return ThrowArgumentError(env, true, "keyBatch: every field index must be below the stride");
  }
  if (!(countD >= 0) || countD != static_cast<double>(static_cast<size_t>(countD)) ||
      static_cast<size_t>(countD) > intsLength / stride) {
    return ThrowArgumentError(env, true, "keyBatch: count must be an integer with count * stride <= ints.length");
  }
  const size_t count = static_cast<size_t>(countD);
  const uint8_t* bytes = static_cast<const uint8_t*>(bytesData);
  uint32_t* ints = static_cast<uint32_t*>(intsData);
  // One cache per thread (each shard worker keys its own batches), made on first use; its keys
  // are for one default host, so a call with another host starts it afresh.
  thread_local std::unique_ptr<KeyCache> cache;
  thread_local Lanes cacheHost = {0, 0};
  if (!cache) {
    cache.reset(new KeyCache());
    cacheHost = host;
  } else if (cacheHost.h1 != host.h1 || cacheHost.h2 != host.h2) {
    cache->Clear();
    cacheHost = host;
  }
  Keyer keyer;
  size_t keyed = 0;
  int64_t lastOff = -1;
  Lanes key = {0, 0};
  for (size_t k = 0; k < count; k++) {
    uint32_t* s = ints + k * stride;
    if ((s[iType] & flag) == 0) continue;
    const uint64_t off = s[iBytes];
    const uint64_t nameLen = s[iName];
    const uint64_t tagsLen = s[iTags];
    if (off + nameLen + tagsLen > byteLength) {
      return ThrowArgumentError(env, true, "keyBatch: a sample's bytes lie outside the buffer");
    }
    if (static_cast<int64_t>(off) != lastOff) {
      key = cache->Key(keyer, bytes, off, nameLen, tagsLen, host, bytes + byteLength);
      lastOff = static_cast<int64_t>(off);
    }
    s[iLo] = key.h1;
    s[iHi] = key.h2;
    s[iType] &= ~flag;
    keyed++;
  }
  napi_value result;
  napi_create_double(env, static_cast<double>(keyed), &result);
  return result;
}

inline napi_value KeyBatchFunction(napi_env env) {
  napi_value fn = nullptr;
  napi_create_function(env, "keyBatch", NAPI_AUTO_LENGTH, KeyBatch, nullptr, &fn);
  return fn;
}

}  // namespace context_key
}  // namespace kennel
