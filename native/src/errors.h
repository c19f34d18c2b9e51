// System errors shaped like Node's own (`err.code`, `err.errno`, `err.syscall`, `err.path`), so the
// TypeScript side can name the cause without knowing it came from C++.
#pragma once

#include <napi.h>
#include <uv.h>

#include <string>

namespace kennel {

// `err` is a positive errno. The message reads like Node's: "EACCES: permission denied, bind '/p'".
inline Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path = "") {
  // libuv's codes are negated errno values on Unix, so it names and describes them for us.
  const char* code = uv_err_name(-err);
  const char* text = uv_strerror(-err);
  std::string message = std::string(code) + ": " + text + ", " + syscall;
  if (!path.empty()) message += " '" + path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object value = error.Value();
  value.Set("code", code);
  value.Set("errno", -err);
  value.Set("syscall", syscall);
  if (!path.empty()) value.Set("path", path);
  return error;
}

inline Napi::Value ThrowSystemError(Napi::Env env, int err, const char* syscall, const std::string& path = "") {
  SystemError(env, err, syscall, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace kennel
