// What both datagram readers (datagram_reader.h, threaded_reader.h) do when they call JavaScript
// back outside a batch: close()'s callback, and a callback that threw.
#pragma once

#include <napi.h>

namespace kennel {

// A JavaScript callback threw. Same as a throwing 'message' listener on a dgram socket: an
// uncaught exception. When the environment is stopping, Node refuses it and it is dropped.
inline void RaiseCallbackError(Napi::Env env, double* callbackErrors) {
  (*callbackErrors)++;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

// The descriptor is closed: calls close()'s callback once (in the reader's async context) and
// drops the reader's self-reference, so that the object can be collected.
template <typename Reader>
void FinishClose(Reader* reader, Napi::FunctionReference& closeCallback, Napi::AsyncContext* async, bool* referenced,
                 double* callbackErrors) {
  Napi::Env env = reader->Env();
  Napi::HandleScope scope(env);
  if (!closeCallback.IsEmpty()) {
    Napi::Function fn = closeCallback.Value();
    closeCallback.Reset();
    napi_value result;
    if (napi_make_callback(env, static_cast<napi_async_context>(*async), reader->Value(), fn, 0, nullptr, &result) !=
        napi_ok) {
      RaiseCallbackError(env, callbackErrors);
    }
  }
  if (*referenced) {
    *referenced = false;
    reader->Unref();
  }
}

}  // namespace kennel
