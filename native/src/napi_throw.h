// Raising a TypeError or a RangeError from a C-API (napi_callback) entry point: the entries that
// skip node-addon-api's wrappers because they run per packet or per batch (tokenize_napi.h,
// context_key_napi.h) check their arguments with the same error types their JavaScript twins use.
#pragma once

#include <node_api.h>

namespace kennel {

// Throws a RangeError (`range`) or a TypeError with `message`; returns nullptr for the caller to return.
inline napi_value ThrowArgumentError(napi_env env, bool range, const char* message) {
  if (range) {
    napi_throw_range_error(env, nullptr, message);
  } else {
    napi_throw_type_error(env, nullptr, message);
  }
  return nullptr;
}

}  // namespace kennel
