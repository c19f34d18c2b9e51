// kennel's native addon: the Unix datagram socket Node lacks, batched datagram reads (recvmmsg)
// for DogStatsD over UDS and UDP, the DogStatsD tokenizer (tokenize.h) and the context key of a
// batch of samples (context_key.h). One Napi::Addon per
// environment, so every worker thread that loads it gets its own state; nothing here is
// process-global (the tokenizer has none).
#include <napi.h>

#include <string>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "datagram_reader.h"
#include "context_key_napi.h"
#include "errors.h"
#include "sockets.h"
#include "threaded_reader.h"
#include "tokenize_napi.h"

namespace kennel {

namespace {

bool OptionalInt(Napi::Object options, const char* key, int min, int max, int* out) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<int>(d))) return false;
  *out = static_cast<int>(d);
  return true;
}

}  // namespace

class KennelNative : public Napi::Addon<KennelNative> {
 public:
  KennelNative(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceMethod<&KennelNative::OpenUnixDatagram>("openUnixDatagram"),
                             InstanceMethod<&KennelNative::OpenUdp>("openUdp"),
                             InstanceMethod<&KennelNative::SendUnixDatagram>("sendUnixDatagram"),
                             InstanceMethod<&KennelNative::ProbeUnixDatagram>("probeUnixDatagram"),
                             InstanceMethod<&KennelNative::ReceiveBufferSize>("receiveBufferSize"),
                             InstanceMethod<&KennelNative::TrimMemory>("trimMemory"),
                             InstanceValue("DatagramReader", DatagramReader::Init(env)),
                             InstanceValue("ThreadedDatagramReader", ThreadedDatagramReader::Init(env)),
                             InstanceValue("maxUnixPathLength", Napi::Number::New(env, kMaxUnixPath)),
                             InstanceValue("tokenize", Napi::Value(env, tokenize::TokenizeFunction(env))),
                             InstanceValue("tokenizerKernel", Napi::String::New(env, tokenize::KernelName())),
                             InstanceValue("tokenizeKernels", Napi::Value(env, tokenize::KernelFunctions(env))),
                             InstanceValue("keyBatch", Napi::Value(env, context_key::KeyBatchFunction(env))),
                         });
  }

  ~KennelNative() {
    if (senderFd_ >= 0) close(senderFd_);
  }

 private:
  // trimMemory() -> true when memory went back to the system, false when none did, undefined
  // without glibc. glibc keeps the pages of freed chunks resident unless they sit at the top of
  // a heap; malloc_trim(0) gives back every whole free page of every arena (MADV_DONTNEED).
  // Node's Buffers and the addon's slabs live in malloc, so without it a burst's freed memory
  // stays in RSS for good. The Go agent's runtime scavenger returns freed pages the same way.
  Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
    return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
    return info.Env().Undefined();
#endif
  }

  // openUnixDatagram(path, { rcvbuf }) -> fd
  Napi::Value OpenUnixDatagram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "openUnixDatagram(path, { rcvbuf })");
    int rcvbuf = 0;
    if (info.Length() > 1 && info[1].IsObject() &&
        !OptionalInt(info[1].As<Napi::Object>(), "rcvbuf", 0, 0x7fffffff, &rcvbuf)) {
      return ThrowTypeError(env, "openUnixDatagram: rcvbuf must be a non-negative integer");
    }
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    const char* syscall = "";
    const int fd = kennel::OpenUnixDatagram(path, rcvbuf, &syscall);
    if (fd < 0) return ThrowSystemError(env, -fd, syscall, path);
    return Napi::Number::New(env, fd);
  }

  // openUdp(host, port, { rcvbuf, reusePort }) -> { fd, port }
  Napi::Value OpenUdp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
      return ThrowTypeError(env, "openUdp(host, port, { rcvbuf, reusePort })");
    }
    const double p = info[1].As<Napi::Number>().DoubleValue();
    if (!(p >= 0 && p <= 65535) || p != static_cast<double>(static_cast<int>(p))) {
      return ThrowTypeError(env, "openUdp: port must be an integer from 0 to 65535");
    }
    int port = static_cast<int>(p);
    int rcvbuf = 0;
    bool reusePort = false;
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object options = info[2].As<Napi::Object>();
      if (!OptionalInt(options, "rcvbuf", 0, 0x7fffffff, &rcvbuf)) {
        return ThrowTypeError(env, "openUdp: rcvbuf must be a non-negative integer");
      }
      reusePort = options.Get("reusePort").ToBoolean().Value();
    }
    const std::string host = info[0].As<Napi::String>().Utf8Value();
    const char* syscall = "";
    const int fd = kennel::OpenUdp(host, &port, rcvbuf, reusePort, &syscall);
    if (fd < 0) return ThrowSystemError(env, -fd, syscall, host);
    Napi::Object result = Napi::Object::New(env);
    result.Set("fd", fd);
    result.Set("port", port);
    return result;
  }

  // sendUnixDatagram(path, data | data[]) -> datagrams sent. Never blocks: stops at the first
  // EAGAIN (the receiver's queue is full) and returns how many went out. For tests and tools;
  // Node itself cannot send on a Unix datagram socket.
  Napi::Value SendUnixDatagram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !(info[1].IsTypedArray() || info[1].IsArray())) {
      return ThrowTypeError(env, "sendUnixDatagram(path, Uint8Array | Uint8Array[])");
    }
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    sockaddr_un addr;
    socklen_t len;
    if (!UnixAddress(path, &addr, &len)) return ThrowSystemError(env, errno, "sendto", path);
    if (senderFd_ < 0) {
      senderFd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (senderFd_ < 0) return ThrowSystemError(env, errno, "socket");
    }
    std::vector<Napi::Value> items;
    if (info[1].IsArray()) {
      Napi::Array array = info[1].As<Napi::Array>();
      const uint32_t n = array.Length();
      items.reserve(n);
      for (uint32_t i = 0; i < n; i++) items.push_back(array.Get(i));
    } else {
      items.push_back(info[1]);
    }
    uint32_t sent = 0;
    for (Napi::Value item : items) {
      if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        return ThrowTypeError(env, "sendUnixDatagram: each datagram must be a Uint8Array or Buffer");
      }
      Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
      ssize_t r;
      do {
        r = sendto(senderFd_, bytes.Data(), bytes.ByteLength(), MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<sockaddr*>(&addr), len);
      } while (r < 0 && errno == EINTR);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (sent > 0) break;  // report the count; the next call surfaces the error
        return ThrowSystemError(env, errno, "sendto", path);
      }
      sent++;
    }
    return Napi::Number::New(env, sent);
  }

  // probeUnixDatagram(path) -> null when a process is receiving on the socket at path, else the
  // error code connect() gave ("ECONNREFUSED" for a stale socket file, "ENOENT" for none).
  Napi::Value ProbeUnixDatagram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "probeUnixDatagram(path)");
    const int err = kennel::ProbeUnixDatagram(info[0].As<Napi::String>().Utf8Value());
    if (err == 0) return env.Null();
    return Napi::String::New(env, uv_err_name(-err));
  }

  // receiveBufferSize(fd) -> the SO_RCVBUF the kernel granted
  Napi::Value ReceiveBufferSize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(env, "receiveBufferSize(fd)");
    const int r = kennel::ReceiveBufferSize(info[0].As<Napi::Number>().Int32Value());
    if (r < 0) return ThrowSystemError(env, -r, "getsockopt");
    return Napi::Number::New(env, r);
  }

  int senderFd_ = -1;
};

}  // namespace kennel

using kennel::KennelNative;
NODE_API_ADDON(KennelNative)
