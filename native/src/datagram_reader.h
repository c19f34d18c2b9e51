// DatagramReader: watches a datagram socket with libuv and reads it in batches with recvmmsg.
//
// One buffer of batchSize * bufferSize bytes is allocated once. Every batch lands in it, datagram i
// at offset i * bufferSize, and JavaScript is called once per batch with
//   (buffer, count, spans, truncated, readErrors)
// where spans[2i], spans[2i + 1] are datagram i's offset and length. The buffer and spans are reused:
// they are valid only during the call.
//
// Lifetime. The uv_poll_t lives in a Core that outlives the JavaScript object until uv_close has
// finished, because libuv owns the handle until then. The Core is closed by close(), by the
// object's finalizer, or by the environment's async cleanup hook when a worker thread (or the
// process) shuts down; whichever comes first. Until the descriptor is closed, the object holds a
// strong reference to itself, so an open socket is never collected out from under the loop.
#pragma once

#include <errno.h>
#include <napi.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <vector>

#include "errors.h"
#include "reader_callbacks.h"

namespace kennel {

class DatagramReader : public Napi::ObjectWrap<DatagramReader> {
 public:
  static constexpr uint32_t kMaxBufferSize = 16 * 1024 * 1024;
  static constexpr uint32_t kMaxBatchSize = 1024;

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "DatagramReader",
                       {
                           InstanceMethod<&DatagramReader::Close>("close"),
                           InstanceMethod<&DatagramReader::JsRef>("ref"),
                           InstanceMethod<&DatagramReader::JsUnref>("unref"),
                           InstanceMethod<&DatagramReader::Stats>("stats"),
                           InstanceMethod<&DatagramReader::Pause>("pause"),
                           InstanceMethod<&DatagramReader::Resume>("resume"),
                           InstanceAccessor<&DatagramReader::GetFd>("fd"),
                           InstanceAccessor<&DatagramReader::GetClosed>("closed"),
                           InstanceAccessor<&DatagramReader::GetLastError>("lastError"),
                       });
  }

  // new DatagramReader(fd, bufferSize, batchSize, maxBatchesPerWake, onBatch)
  // Takes ownership of fd: close() closes it.
  explicit DatagramReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatagramReader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsFunction()) {
      ThrowTypeError(env, "DatagramReader(fd, bufferSize, batchSize, maxBatchesPerWake, onBatch)");
      return;
    }
    const int fd = info[0].As<Napi::Number>().Int32Value();
    const uint32_t bufferSize = info[1].As<Napi::Number>().Uint32Value();
    const uint32_t batchSize = info[2].As<Napi::Number>().Uint32Value();
    const uint32_t maxBatches = info[3].As<Napi::Number>().Uint32Value();
    if (fd < 0 || bufferSize == 0 || bufferSize > kMaxBufferSize || batchSize == 0 || batchSize > kMaxBatchSize ||
        maxBatches == 0 || static_cast<uint64_t>(bufferSize) * batchSize > kMaxBufferSize * 4ULL) {
      Napi::RangeError::New(env, "DatagramReader: fd >= 0, 1 <= bufferSize <= 16 MiB, 1 <= batchSize <= 1024, "
                                 "maxBatchesPerWake >= 1, bufferSize * batchSize <= 64 MiB")
          .ThrowAsJavaScriptException();
      return;
    }
    bufferSize_ = bufferSize;
    batchSize_ = batchSize;
    maxBatchesPerWake_ = maxBatches;

    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(bufferSize) * batchSize);
    if (env.IsExceptionPending()) return;
    Napi::Uint32Array spans = Napi::Uint32Array::New(env, static_cast<size_t>(batchSize) * 2);
    if (env.IsExceptionPending()) return;
    buffer_ = Napi::Persistent(buffer);
    spans_ = Napi::Persistent(spans);
    callback_ = Napi::Persistent(info[4].As<Napi::Function>());
    async_ = new Napi::AsyncContext(env, "KennelDatagramReader", info.This().As<Napi::Object>());

    msgs_.resize(batchSize);
    iovs_.resize(batchSize);

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "DatagramReader: no event loop").ThrowAsJavaScriptException();
      return;
    }
    Core* core = new Core();
    core->fd = fd;
    core->owner = this;
    core->poll.data = core;
    int rc = uv_poll_init(loop, &core->poll, fd);
    if (rc != 0) {
      delete core;  // never initialised: nothing for libuv to close
      ThrowSystemError(env, -rc, "uv_poll_init");
      return;
    }
    core_ = core;
    rc = uv_poll_start(&core->poll, UV_READABLE, OnPoll);
    if (rc != 0) {
      core->fd = -1;  // the caller still owns fd when construction fails
      core->owner = nullptr;
      BeginClose(core);
      core_ = nullptr;
      ThrowSystemError(env, -rc, "uv_poll_start");
      return;
    }
    napi_add_async_cleanup_hook(env, OnEnvCleanup, core, &core->hook);
    Ref();  // an open reader is reachable from the loop, not only from JavaScript
    referenced_ = true;
  }

  ~DatagramReader() override {
    if (core_ != nullptr) {
      core_->owner = nullptr;
      BeginClose(core_);
      core_ = nullptr;
    }
    delete async_;
  }

 private:
  struct Core {
    uv_poll_t poll;
    int fd = -1;
    bool closing = false;
    DatagramReader* owner = nullptr;
    napi_async_cleanup_hook_handle hook = nullptr;
  };

  static void BeginClose(Core* core) {
    if (core->closing) return;
    core->closing = true;
    uv_poll_stop(&core->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&core->poll), OnClosed);
  }

  static void OnClosed(uv_handle_t* handle) {
    Core* core = static_cast<Core*>(handle->data);
    DatagramReader* owner = core->owner;
    if (core->fd >= 0) close(core->fd);
    if (core->hook != nullptr) napi_remove_async_cleanup_hook(core->hook);
    delete core;
    if (owner != nullptr) owner->AfterClose();
  }

  // The descriptor is closed: call close()'s callback and let the object be collected.
  void AfterClose() {
    core_ = nullptr;
    if (detached_) return;
    FinishClose(this, closeCallback_, async_, &referenced_, &callbackErrors_);
  }

  // The environment is going away (worker terminated, process exiting): stop without calling JS.
  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
    Core* core = static_cast<Core*>(arg);
    if (core->owner != nullptr) core->owner->detached_ = true;
    BeginClose(core);
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Core* core = static_cast<Core*>(handle->data);
    DatagramReader* self = core->owner;
    if (core->closing || self == nullptr || self->detached_) return;
    if (status < 0) {
      // libuv could not poll the descriptor (EBADF, say): count it, stop polling, tell JS once.
      self->lastErrno_ = -status;
      self->readErrors_++;
      self->pendingErrors_++;
      self->StopPolling();
      self->Deliver(0, 0);
      return;
    }
    if (events & UV_READABLE) self->Drain();
  }

  void StopPolling() {
    stoppedByError_ = true;
    if (core_ != nullptr && !core_->closing) uv_poll_stop(&core_->poll);
  }

  bool Usable() const { return core_ != nullptr && !core_->closing && !detached_; }

  static bool IsFatal(int err) { return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EINVAL; }

  // Reads until the socket is empty or maxBatchesPerWake batches have been delivered; the poll is
  // level-triggered, so anything left wakes us again on the next loop iteration.
  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (uint32_t round = 0; round < maxBatchesPerWake_ && Usable() && !paused_; round++) {
      Napi::Buffer<uint8_t> buffer = buffer_.Value();
      Napi::Uint32Array spans = spans_.Value();
      // JavaScript may have transferred the buffer to another thread; never write into freed memory.
      if (buffer.ArrayBuffer().IsDetached() || spans.ArrayBuffer().IsDetached()) {
        lastErrno_ = EFAULT;
        readErrors_++;
        pendingErrors_++;
        StopPolling();
        Deliver(0, 0);
        return;
      }
      uint8_t* base = buffer.Data();
      for (uint32_t i = 0; i < batchSize_; i++) {
        iovs_[i].iov_base = base + static_cast<size_t>(i) * bufferSize_;
        iovs_[i].iov_len = bufferSize_;
        mmsghdr& m = msgs_[i];
        m.msg_hdr.msg_name = nullptr;
        m.msg_hdr.msg_namelen = 0;
        m.msg_hdr.msg_iov = &iovs_[i];
        m.msg_hdr.msg_iovlen = 1;
        m.msg_hdr.msg_control = nullptr;
        m.msg_hdr.msg_controllen = 0;
        m.msg_hdr.msg_flags = 0;
        m.msg_len = 0;
      }
      int n;
      do {
        n = recvmmsg(core_->fd, msgs_.data(), batchSize_, MSG_DONTWAIT, nullptr);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) return;
        lastErrno_ = err;
        readErrors_++;
        pendingErrors_++;
        if (IsFatal(err)) StopPolling();
        Deliver(0, 0);
        return;
      }
      if (n == 0) return;
      uint32_t* out = spans.Data();
      uint32_t truncated = 0;
      for (int i = 0; i < n; i++) {
        const uint32_t len = msgs_[i].msg_len;
        out[2 * i] = static_cast<uint32_t>(i) * bufferSize_;
        out[2 * i + 1] = len;
        bytes_ += len;
        // MSG_TRUNC: the datagram was longer than bufferSize and only its first bytes were kept,
        // which is what the agent's fixed read buffer does too.
        if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) truncated++;
      }
      packets_ += n;
      truncated_ += truncated;
      batches_++;
      if (!Deliver(static_cast<uint32_t>(n), truncated)) return;
      if (static_cast<uint32_t>(n) < batchSize_) return;  // the queue is (very likely) empty
    }
  }

  // False when JavaScript could not be called or threw: the caller stops reading for this wake.
  bool Deliver(uint32_t count, uint32_t truncated) {
    if (detached_) return false;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value args[5] = {
        buffer_.Value(),
        Napi::Number::New(env, count),
        spans_.Value(),
        Napi::Number::New(env, truncated),
        Napi::Number::New(env, pendingErrors_),
    };
    pendingErrors_ = 0;
    napi_value result;
    // MakeCallback (not Call): runs in the reader's async context and drains process.nextTick and
    // promise jobs afterwards, as any I/O callback does.
    napi_status status = napi_make_callback(env, static_cast<napi_async_context>(*async_), Value(),
                                            callback_.Value(), 5, args, &result);
    if (status == napi_ok) return true;
    RaiseCallbackError(env, &callbackErrors_);
    return false;
  }

  // close([callback]): stops polling and closes the descriptor; callback runs once it is closed.
  // The object stays referenced until then, so the callback always comes.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() > 0 && info[0].IsFunction()) {
      if (core_ == nullptr || !closeCallback_.IsEmpty()) {
        Napi::Error::New(env, "DatagramReader: already closed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      closeCallback_ = Napi::Persistent(info[0].As<Napi::Function>());
    }
    if (core_ != nullptr) BeginClose(core_);  // core_ is cleared in OnClosed
    return env.Undefined();
  }

  // pause(): stop polling (the kernel buffer fills meanwhile); resume(): poll again. A read
  // error that stopped polling for good is not undone by resume().
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (Usable() && !paused_ && !stoppedByError_) {
      paused_ = true;
      uv_poll_stop(&core_->poll);
    }
    return info.This();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (Usable() && paused_) {
      paused_ = false;
      if (!stoppedByError_) uv_poll_start(&core_->poll, UV_READABLE, OnPoll);
    }
    return info.This();
  }

  Napi::Value JsRef(const Napi::CallbackInfo& info) {
    if (Usable()) uv_ref(reinterpret_cast<uv_handle_t*>(&core_->poll));
    return info.This();
  }

  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (Usable()) uv_unref(reinterpret_cast<uv_handle_t*>(&core_->poll));
    return info.This();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", Napi::Number::New(env, packets_));
    o.Set("bytes", Napi::Number::New(env, bytes_));
    o.Set("truncated", Napi::Number::New(env, truncated_));
    o.Set("readErrors", Napi::Number::New(env, readErrors_));
    o.Set("batches", Napi::Number::New(env, batches_));
    o.Set("callbackErrors", Napi::Number::New(env, callbackErrors_));
    return o;
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_ != nullptr && !core_->closing ? core_->fd : -1);
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !Usable()); }

  Napi::Value GetLastError(const Napi::CallbackInfo& info) {
    if (lastErrno_ == 0) return info.Env().Undefined();
    return Napi::String::New(info.Env(), uv_err_name(-lastErrno_));
  }

  Core* core_ = nullptr;
  bool referenced_ = false;
  bool detached_ = false;  // the environment is shutting down: JavaScript must not be called
  bool paused_ = false;
  bool stoppedByError_ = false;
  Napi::Reference<Napi::Buffer<uint8_t>> buffer_;
  Napi::Reference<Napi::Uint32Array> spans_;
  Napi::FunctionReference callback_;
  Napi::FunctionReference closeCallback_;
  Napi::AsyncContext* async_ = nullptr;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  uint32_t bufferSize_ = 0;
  uint32_t batchSize_ = 0;
  uint32_t maxBatchesPerWake_ = 0;
  uint32_t pendingErrors_ = 0;
  int lastErrno_ = 0;
  double packets_ = 0;
  double bytes_ = 0;
  double truncated_ = 0;
  double readErrors_ = 0;
  double batches_ = 0;
  double callbackErrors_ = 0;
};

}  // namespace kennel
