// tokenize(buf, start, end, out) -> count, or -1 when out is too small: the JavaScript entry of
// tokenize.h, with the best kernel for this CPU. One call covers a whole packet, so it is called
// about once per 1.4 to 8 KB. `tokenizeKernels` has the same function for each kernel this CPU
// runs ({ avx2, sse2, scalar }), so tests check every one against the JavaScript twin and
// benchmarks can compare them.
//
// Written against the C API (napi_callback), not Napi::CallbackInfo: this runs once per packet
// and the wrapper adds work for nothing (a CallbackInfo, an Env, and Napi::Value checks on each
// argument). Arguments are checked exactly as the JavaScript twin (native/lib/tokenize.ts) checks
// them, with the same error types and messages.
#pragma once

#include <node_api.h>

#include "napi_throw.h"

#include <cmath>

#include "tokenize.h"

namespace kennel {
namespace tokenize {

// An integer index argument as a double; false when it is not a number.
inline bool Index(napi_env env, napi_value v, double* out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

template <TokenizeFn* K>
inline napi_value Tokenize(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  // Missing arguments read as undefined, so they fail the checks below as in JavaScript.

  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return ThrowArgumentError(env, false, "tokenize: buf must be a Uint8Array");
  }
  double start;
  double end;
  if (!Index(env, argv[1], &start) || !Index(env, argv[2], &end)) {
    return ThrowArgumentError(env, false, "tokenize: start and end must be numbers");
  }
  napi_typedarray_type outType;
  size_t cap;
  void* outData;
  if (napi_get_typedarray_info(env, argv[3], &outType, &cap, &outData, nullptr, nullptr) != napi_ok ||
      outType != napi_uint32_array) {
    return ThrowArgumentError(env, false, "tokenize: out must be a Uint32Array");
  }
  // !(a <= b) also rejects NaN.
  if (!(start >= 0) || !(start <= end) || !(end <= static_cast<double>(length)) || std::floor(start) != start ||
      std::floor(end) != end) {
    return ThrowArgumentError(env, true, "tokenize: need integers 0 <= start <= end <= buf.length");
  }
  if (end > static_cast<double>(kMaxEnd)) return ThrowArgumentError(env, true, "tokenize: end must be below 2^30");

  const int64_t n = (*K)(static_cast<const uint8_t*>(data), static_cast<size_t>(start),
                             static_cast<size_t>(end), static_cast<uint32_t*>(outData), cap);
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(n), &result);
  return result;
}

// The kernels, as variables so the entry points are templates on their address (no indirection
// through Kernel()'s guard on every call).
inline TokenizeFn gBest = Best();
inline TokenizeFn gScalar = TokenizeScalar;
#ifdef KENNEL_TOKENIZE_X64
inline TokenizeFn gSse2 = TokenizeSse2;
inline TokenizeFn gAvx2 = TokenizeAvx2;
#endif

inline napi_value Function(napi_env env, napi_callback cb) {
  napi_value fn = nullptr;
  napi_create_function(env, "tokenize", NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  return fn;
}

inline napi_value TokenizeFunction(napi_env env) { return Function(env, Tokenize<&gBest>); }

inline napi_value KernelFunctions(napi_env env) {
  napi_value kernels = nullptr;
  napi_create_object(env, &kernels);
  napi_set_named_property(env, kernels, "scalar", Function(env, Tokenize<&gScalar>));
#ifdef KENNEL_TOKENIZE_X64
  napi_set_named_property(env, kernels, "sse2", Function(env, Tokenize<&gSse2>));
  if (gBest == TokenizeAvx2) napi_set_named_property(env, kernels, "avx2", Function(env, Tokenize<&gAvx2>));
#endif
  return kernels;
}

inline const char* KernelName() {
#ifdef KENNEL_TOKENIZE_X64
  return gBest == TokenizeAvx2 ? "avx2" : "sse2";
#else
  return "scalar";
#endif
}

}  // namespace tokenize
}  // namespace kennel
