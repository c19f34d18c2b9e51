// ThreadedDatagramReader: reads a datagram socket on its own thread, into a ring of slabs that
// JavaScript drains on the event loop.
//
// Why a thread: a loopback UDP socket drops datagrams as soon as its receive buffer is full, and a
// 16 MiB buffer holds only about 100 ms of DogStatsD traffic at a million lines a second (a
// 1,400-byte datagram costs 2,304 bytes of it). A garbage collection or a flush on the JavaScript
// thread lasts that long at times, so a reader on the event loop loses datagrams while the mean
// rate is well within reach. netdata reads from a dedicated C thread for the same reason. Here the
// reader thread only calls recvmmsg and copies each datagram, packed, into the current slab, so a
// pause on the JavaScript thread fills slabs instead of the kernel buffer.
//
// Ring. `slabCount` slabs of `slabSize` bytes, each a Buffer created here (owned by JavaScript's
// heap) with its own spans array. A slab is in one of three places: the reader thread's current
// slab, the `ready` queue (filled, waiting for JavaScript), or the `free` queue. The thread hands
// the current slab over when it is full, when the socket is empty and JavaScript has nothing left
// to do (low latency when idle), or 2 ms after its first datagram otherwise; while JavaScript is
// behind, slabs fill up, so a pause costs slabs, not datagrams. When no slab is free the thread
// waits (counted as `ringFullWaits`) and the kernel buffer takes over, as without the thread.
//
// JavaScript sees the same callback as DatagramReader's, once per slab:
//   (buffer, count, spans, truncated, readErrors)
// with spans[2i], spans[2i + 1] datagram i's offset and length in the slab. The slab goes back to
// the ring when the call returns: it is valid only during the call. A slab that JavaScript
// detached (transferred) during the call is replaced by a new one, never written again.
//
// Lifetime. The uv_async_t lives in a Core that outlives the JavaScript object until uv_close is
// done. close() lets the thread read what the socket still holds (up to kMaxDrainCalls recvmmsg
// calls), delivering slabs as they fill, then delivers the rest and closes the descriptor: what a
// client sent before close() is not lost in the kernel's queue (a sidecar stopped by SIGTERM).
// The environment's cleanup hook (worker or process exit) stops the thread at once, without
// calling JavaScript.
#pragma once

#include <errno.h>
#include <napi.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <string.h>
#include <vector>

#include "errors.h"
#include "reader_callbacks.h"

namespace kennel {

class ThreadedDatagramReader : public Napi::ObjectWrap<ThreadedDatagramReader> {
 public:
  static constexpr uint32_t kMaxBufferSize = 16 * 1024 * 1024;
  static constexpr uint32_t kMaxBatchSize = 1024;
  static constexpr uint32_t kMaxSlabSize = 64 * 1024 * 1024;
  static constexpr uint32_t kMaxSlabCount = 4096;
  // How long an idle source's first datagram waits for company before it is handed over.
  static constexpr uint64_t kCoalesceUs = 500;
  // After a read that found traffic flowing but not a full batch, the thread sleeps this long
  // before it reads again, instead of polling for the next datagram: a paced sender's bursts
  // then arrive in one recvmmsg, not one poll wake-up and two reads each, which cost both this
  // thread and the sender's kernel path (the wake-up) about as much as the reading. At 1.4 M
  // lines/s over UDP that is 20 datagrams (46 KB) waiting in a receive buffer of megabytes.
  static constexpr long kBatchWaitUs = 200;
  // Reads of fewer datagrams than this are not traffic flowing (a low rate): they poll as before.
  static constexpr int kBatchWaitMin = 4;
  // Slabs delivered per event-loop wake-up before yielding (timers and I/O run in between).
  static constexpr uint32_t kSlabsPerWake = 8;

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ThreadedDatagramReader",
                       {
                           InstanceMethod<&ThreadedDatagramReader::Close>("close"),
                           InstanceMethod<&ThreadedDatagramReader::JsRef>("ref"),
                           InstanceMethod<&ThreadedDatagramReader::JsUnref>("unref"),
                           InstanceMethod<&ThreadedDatagramReader::Stats>("stats"),
                           InstanceMethod<&ThreadedDatagramReader::Pause>("pause"),
                           InstanceMethod<&ThreadedDatagramReader::Resume>("resume"),
                           InstanceAccessor<&ThreadedDatagramReader::GetFd>("fd"),
                           InstanceAccessor<&ThreadedDatagramReader::GetClosed>("closed"),
                           InstanceAccessor<&ThreadedDatagramReader::GetLastError>("lastError"),
                       });
  }

  // new ThreadedDatagramReader(fd, bufferSize, batchSize, slabSize, slabCount, onBatch)
  // Takes ownership of fd: close() closes it.
  explicit ThreadedDatagramReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ThreadedDatagramReader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsNumber() || !info[5].IsFunction()) {
      ThrowTypeError(env, "ThreadedDatagramReader(fd, bufferSize, batchSize, slabSize, slabCount, onBatch)");
      return;
    }
    const int fd = info[0].As<Napi::Number>().Int32Value();
    const uint32_t bufferSize = info[1].As<Napi::Number>().Uint32Value();
    const uint32_t batchSize = info[2].As<Napi::Number>().Uint32Value();
    const uint32_t slabSize = info[3].As<Napi::Number>().Uint32Value();
    const uint32_t slabCount = info[4].As<Napi::Number>().Uint32Value();
    if (fd < 0 || bufferSize == 0 || bufferSize > kMaxBufferSize || batchSize == 0 || batchSize > kMaxBatchSize ||
        static_cast<uint64_t>(bufferSize) * batchSize > kMaxBufferSize * 4ULL || slabSize < bufferSize ||
        slabSize > kMaxSlabSize || slabCount < 2 || slabCount > kMaxSlabCount) {
      Napi::RangeError::New(env, "ThreadedDatagramReader: fd >= 0, 1 <= bufferSize <= 16 MiB, 1 <= batchSize <= 1024, "
                                 "bufferSize * batchSize <= 64 MiB, bufferSize <= slabSize <= 64 MiB, "
                                 "2 <= slabCount <= 4096")
          .ThrowAsJavaScriptException();
      return;
    }

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "ThreadedDatagramReader: no event loop").ThrowAsJavaScriptException();
      return;
    }

    Core* core = new Core();
    core->fd = fd;
    core->bufferSize = bufferSize;
    core->batchSize = batchSize;
    core->slabSize = slabSize;
    // Empty datagrams take no bytes, so the spans array bounds a slab's count too.
    core->maxSpans = std::max<uint32_t>(batchSize, slabSize / 64);
    core->slabs.resize(slabCount);
    slabBuffers_.resize(slabCount);
    slabSpans_.resize(slabCount);
    for (uint32_t i = 0; i < slabCount; i++) {
      if (!AllocateSlab(env, core, i)) {
        delete core;
        return;
      }
      core->free.push_back(i);
    }
    core->wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (core->wakeFd < 0) {
      const int err = errno;
      delete core;
      ThrowSystemError(env, err, "eventfd");
      return;
    }
    core->async.data = core;
    int rc = uv_async_init(loop, &core->async, OnAsync);
    if (rc != 0) {
      close(core->wakeFd);
      delete core;
      ThrowSystemError(env, -rc, "uv_async_init");
      return;
    }
    core->owner = this;
    core_ = core;
    callback_ = Napi::Persistent(info[5].As<Napi::Function>());
    async_ = new Napi::AsyncContext(env, "KennelThreadedDatagramReader", info.This().As<Napi::Object>());
    // pthread, not std::thread: the addon is built without exceptions, and a failed start must
    // be an error for JavaScript, not an abort.
    rc = pthread_create(&core->thread, nullptr, ThreadMain, core);
    if (rc != 0) {
      core->fd = -1;  // the caller still owns fd when construction fails
      core->owner = nullptr;
      BeginClose(core);
      core_ = nullptr;
      Napi::Error::New(env, "ThreadedDatagramReader: cannot start the reader thread").ThrowAsJavaScriptException();
      return;
    }
    core->joinable = true;
    napi_add_async_cleanup_hook(env, OnEnvCleanup, core, &core->hook);
    Ref();  // an open reader is reachable from the loop, not only from JavaScript
    referenced_ = true;
  }

  ~ThreadedDatagramReader() override {
    if (core_ != nullptr) {
      StopThread(core_);
      core_->owner = nullptr;
      BeginClose(core_);
      core_ = nullptr;
    }
    delete async_;
  }

 private:
  struct Slab {
    uint8_t* data = nullptr;
    uint32_t* spans = nullptr;
    uint32_t count = 0;
    uint32_t used = 0;
    uint32_t truncated = 0;
    uint32_t readErrors = 0;
    double bytes = 0;
  };

  // Shared by the reader thread and the JavaScript thread. The thread touches only its current
  // slab and, under `mu`, the queues and the counters below them.
  struct Core {
    uv_async_t async;
    pthread_t thread{};
    bool joinable = false;
    int fd = -1;
    int wakeFd = -1;
    uint32_t bufferSize = 0;
    uint32_t batchSize = 0;
    uint32_t slabSize = 0;
    uint32_t maxSpans = 0;
    std::vector<Slab> slabs;
    std::mutex mu;
    std::condition_variable freed;
    std::deque<uint32_t> free;
    std::deque<uint32_t> ready;
    std::atomic<bool> stop{false};   // set under mu: read what the socket holds, then finish
    std::atomic<bool> abort{false};  // set under mu: finish now (no JavaScript will take slabs)
    std::condition_variable readied;  // a slab went to `ready`, or the thread finished
    bool finished = false;  // under mu: the thread stopped reading (stop, or a fatal error)
    int lastErrno = 0;      // under mu
    double ringFullWaits = 0;  // under mu
    uint32_t maxReady = 0;     // under mu: most slabs ever waiting for JavaScript
    bool delivering = false;   // under mu: JavaScript is running through the ready queue
    bool holding = false;      // under mu: the thread holds a part-filled slab until JavaScript is idle
    std::atomic<uint64_t> readPackets{0};  // datagrams the thread has read (delivered to JavaScript or not)
    bool closing = false;
    ThreadedDatagramReader* owner = nullptr;
    napi_async_cleanup_hook_handle hook = nullptr;
  };

  bool AllocateSlab(Napi::Env env, Core* core, uint32_t i) {
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, core->slabSize);
    if (env.IsExceptionPending()) return false;
    Napi::Uint32Array spans = Napi::Uint32Array::New(env, static_cast<size_t>(core->maxSpans) * 2);
    if (env.IsExceptionPending()) return false;
    slabBuffers_[i] = Napi::Persistent(buffer);
    slabSpans_[i] = Napi::Persistent(spans);
    core->slabs[i].data = buffer.Data();
    core->slabs[i].spans = spans.Data();
    return true;
  }

  static bool IsFatal(int err) { return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EINVAL; }

  // --- the reader thread -----------------------------------------------------------------------

  // Moves slab `cur` to the ready queue and wakes the event loop (or close(), waiting for it).
  static void HandOver(Core* core, uint32_t cur) {
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->ready.push_back(cur);
      if (core->ready.size() > core->maxReady) core->maxReady = static_cast<uint32_t>(core->ready.size());
    }
    core->readied.notify_one();
    uv_async_send(&core->async);
  }

  // A free slab, waiting for one when the ring is full; UINT32_MAX when told to abort. (While
  // close() drains, JavaScript keeps freeing slabs, so waiting then is fine.)
  static uint32_t TakeFree(Core* core) {
    std::unique_lock<std::mutex> lock(core->mu);
    if (core->free.empty() && !core->abort) {
      core->ringFullWaits++;
      core->freed.wait(lock, [core] { return !core->free.empty() || core->abort; });
    }
    if (core->abort) return UINT32_MAX;
    const uint32_t i = core->free.front();
    core->free.pop_front();
    Slab& s = core->slabs[i];
    s.count = s.used = s.truncated = s.readErrors = 0;
    s.bytes = 0;
    return i;
  }

  // Whether JavaScript has nothing to do (no slab waiting, none being delivered). When it has,
  // the thread notes that it holds a part-filled slab back, so that JavaScript wakes it.
  static bool JsIdleOrHold(Core* core) {
    std::lock_guard<std::mutex> lock(core->mu);
    const bool idle = core->ready.empty() && !core->delivering;
    core->holding = !idle;
    return idle;
  }

  static bool Stopping(Core* core) { return core->stop.load(std::memory_order_relaxed); }
  static bool Aborting(Core* core) { return core->abort.load(std::memory_order_relaxed); }

  // Most recvmmsg calls made after close(): what the socket holds then is read (a sidecar stopped
  // with SIGTERM loses nothing its clients had sent), while a client that keeps sending cannot
  // hold the close forever.
  static constexpr uint32_t kMaxDrainCalls = 4096;

  static void* ThreadMain(void* arg) {
    // Named, so top, /proc/<pid>/task/*/comm and the e2e benchmark's per-thread CPU tell it
    // from the JavaScript thread (15 characters at most).
    pthread_setname_np(pthread_self(), "kennel-reader");
    ReadLoop(static_cast<Core*>(arg));
    return nullptr;
  }

  static void ReadLoop(Core* core) {
    const uint32_t bufferSize = core->bufferSize;
    const uint32_t batchSize = core->batchSize;
    std::vector<uint8_t> scratch(static_cast<size_t>(bufferSize) * batchSize);
    std::vector<mmsghdr> msgs(batchSize);
    std::vector<iovec> iovs(batchSize);
    uint32_t cur = TakeFree(core);
    uint64_t firstAt = 0;  // uv_hrtime() of the current slab's first datagram
    int fatal = 0;
    uint32_t drainCalls = 0;
    while (cur != UINT32_MAX && !Aborting(core) && !(Stopping(core) && drainCalls++ >= kMaxDrainCalls)) {
      for (uint32_t i = 0; i < batchSize; i++) {
        iovs[i].iov_base = scratch.data() + static_cast<size_t>(i) * bufferSize;
        iovs[i].iov_len = bufferSize;
        mmsghdr& m = msgs[i];
        m.msg_hdr = msghdr{};
        m.msg_hdr.msg_iov = &iovs[i];
        m.msg_hdr.msg_iovlen = 1;
        m.msg_len = 0;
      }
      int n;
      do {
        n = recvmmsg(core->fd, msgs.data(), batchSize, MSG_DONTWAIT, nullptr);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        const int err = errno;
        if (err != EAGAIN && err != EWOULDBLOCK) {
          core->slabs[cur].readErrors++;
          if (IsFatal(err)) fatal = err;
          {
            std::lock_guard<std::mutex> lock(core->mu);
            core->lastErrno = err;
          }
          if (fatal) break;
          continue;
        }
        if (Stopping(core)) break;  // closing, and the socket is read dry
        // The socket is empty. With JavaScript idle, the slab goes over once its first datagram
        // is kCoalesceUs old (at a low rate, one wake-up of each thread per datagram would cost
        // more than the reading; metrics sit in 10 s buckets, so 0.5 ms is nothing). With
        // JavaScript busy, keep filling it: JavaScript wakes this thread when it runs dry.
        Slab& s = core->slabs[cur];
        int timeout = -1;
        if (s.count > 0 || s.readErrors > 0) {
          const bool idle = JsIdleOrHold(core);
          if (idle) {
            const uint64_t age = (uv_hrtime() - firstAt) / 1000;
            if (age >= kCoalesceUs) {
              HandOver(core, cur);
              cur = TakeFree(core);
              continue;
            }
            timeout = static_cast<int>((kCoalesceUs - age + 999) / 1000);
          }
        }
        pollfd fds[2] = {{core->fd, POLLIN, 0}, {core->wakeFd, POLLIN, 0}};
        int pr;
        do {
          pr = poll(fds, 2, timeout);
        } while (pr < 0 && errno == EINTR);
        if (fds[1].revents & POLLIN) {
          uint64_t v;
          if (read(core->wakeFd, &v, sizeof v) < 0) { /* drained or not: stop is checked next */ }
        }
        continue;
      }
      for (int i = 0; i < n; i++) {
        const uint32_t len = msgs[i].msg_len;
        Slab* s = &core->slabs[cur];
        if (s->used + len > core->slabSize || s->count == core->maxSpans) {
          HandOver(core, cur);
          cur = TakeFree(core);
          if (cur == UINT32_MAX) break;  // aborted (no JavaScript left to take it): the rest is dropped
          s = &core->slabs[cur];
        }
        memcpy(s->data + s->used, iovs[i].iov_base, len);
        s->spans[2 * s->count] = s->used;
        s->spans[2 * s->count + 1] = len;
        s->used += len;
        s->count++;
        s->bytes += len;
        // MSG_TRUNC: the datagram was longer than bufferSize and only its first bytes were kept,
        // which is what the agent's fixed read buffer does too.
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) s->truncated++;
        if (s->count == 1) firstAt = uv_hrtime();
      }
      core->readPackets.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (n >= kBatchWaitMin && static_cast<uint32_t>(n) < batchSize && !Stopping(core)) {
        timespec ts = {0, kBatchWaitUs * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
      }
    }
    // Whatever the current slab holds goes to JavaScript with the rest (close() delivers it).
    std::lock_guard<std::mutex> lock(core->mu);
    if (cur != UINT32_MAX) {
      Slab& s = core->slabs[cur];
      if (s.count > 0 || s.readErrors > 0) {
        core->ready.push_back(cur);
      } else {
        core->free.push_back(cur);
      }
    }
    core->finished = true;
    if (fatal) core->lastErrno = fatal;
    core->readied.notify_all();
    uv_async_send(&core->async);
  }

  // --- the JavaScript thread -------------------------------------------------------------------

  // Stops the thread at once, without reading further (the environment is going away).
  static void StopThread(Core* core) {
    if (!core->joinable) return;
    core->joinable = false;
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->stop.store(true);
      core->abort.store(true);
    }
    core->freed.notify_all();
    const uint64_t one = 1;
    if (write(core->wakeFd, &one, sizeof one) < 0) { /* the counter is full: the thread is waking anyway */ }
    pthread_join(core->thread, nullptr);
  }

  // close(): the thread reads what the socket holds (bounded), delivering slabs as they fill so
  // that it never waits on a full ring, then finishes; the last slabs are delivered by the caller.
  void DrainAndStopThread(Napi::Env env, Core* core) {
    if (!core->joinable) return;
    core->joinable = false;
    // A Unix datagram socket shut for reading refuses new datagrams (the sender gets EPIPE) but
    // keeps those already queued readable, so the drain below ends with nothing left behind.
    // UDP ignores it: what arrives during the drain is read, what arrives after is the kernel's.
    shutdown(core->fd, SHUT_RD);
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->stop.store(true);
    }
    const uint64_t one = 1;
    if (write(core->wakeFd, &one, sizeof one) < 0) { /* the thread is waking anyway */ }
    for (;;) {
      DeliverSome(env, core, UINT32_MAX);
      std::unique_lock<std::mutex> lock(core->mu);
      if (core->finished) break;
      core->readied.wait(lock, [core] { return !core->ready.empty() || core->finished; });
    }
    pthread_join(core->thread, nullptr);
  }

  static void BeginClose(Core* core) {
    if (core->closing) return;
    core->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&core->async), OnClosed);
  }

  static void OnClosed(uv_handle_t* handle) {
    Core* core = static_cast<Core*>(handle->data);
    ThreadedDatagramReader* owner = core->owner;
    if (core->fd >= 0) close(core->fd);
    if (core->wakeFd >= 0) close(core->wakeFd);
    if (core->hook != nullptr) napi_remove_async_cleanup_hook(core->hook);
    delete core;
    if (owner != nullptr) owner->AfterClose();
  }

  void AfterClose() {
    core_ = nullptr;
    if (detached_) return;
    FinishClose(this, closeCallback_, async_, &referenced_, &callbackErrors_);
  }

  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
    Core* core = static_cast<Core*>(arg);
    if (core->owner != nullptr) core->owner->detached_ = true;
    StopThread(core);
    BeginClose(core);
  }

  static void OnAsync(uv_async_t* handle) {
    Core* core = static_cast<Core*>(handle->data);
    ThreadedDatagramReader* self = core->owner;
    if (core->closing || self == nullptr || self->detached_ || self->paused_) return;
    self->DeliverReady(kSlabsPerWake);
  }

  // Delivers up to `limit` ready slabs (all of them with UINT32_MAX), oldest first, and gives each
  // back to the thread; asks for another wake-up when more are waiting.
  void DeliverReady(uint32_t limit) {
    Core* core = core_;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->delivering = true;
    }
    const uint32_t delivered = DeliverSome(env, core, limit);
    bool more;
    bool wake;
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->delivering = false;
      more = !core->ready.empty();
      wake = !more && delivered > 0 && core->holding;
      if (wake) core->holding = false;
    }
    if (more) {
      if (!core->closing && !paused_) uv_async_send(&core->async);
    } else if (wake) {
      // Nothing left here: the thread may be holding a part-filled slab back while we were busy.
      const uint64_t one = 1;
      if (write(core->wakeFd, &one, sizeof one) < 0) { /* the counter is full: the thread wakes anyway */ }
    }
  }

  uint32_t DeliverSome(Napi::Env env, Core* core, uint32_t limit) {
    uint32_t done = 0;
    for (; done < limit && !paused_; done++) {
      uint32_t i;
      {
        std::lock_guard<std::mutex> lock(core->mu);
        if (core->ready.empty()) return done;
        i = core->ready.front();
        core->ready.pop_front();
      }
      const bool ok = Deliver(i);
      Napi::Buffer<uint8_t> buffer = slabBuffers_[i].Value();
      Napi::Uint32Array spans = slabSpans_[i].Value();
      // JavaScript transferred the slab to another thread: never write into it again.
      if (buffer.ArrayBuffer().IsDetached() || spans.ArrayBuffer().IsDetached()) {
        replacedSlabs_++;
        if (!AllocateSlab(env, core, i)) {
          napi_value error;
          napi_get_and_clear_last_exception(env, &error);
          continue;  // the ring is one slab smaller
        }
      }
      {
        std::lock_guard<std::mutex> lock(core->mu);
        core->free.push_back(i);
      }
      core->freed.notify_one();
      if (!ok) return done + 1;
    }
    return done;
  }

  bool Deliver(uint32_t i) {
    if (detached_) return false;
    Slab& s = core_->slabs[i];
    packets_ += s.count;
    bytes_ += s.bytes;
    truncated_ += s.truncated;
    readErrors_ += s.readErrors;
    batches_++;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value args[5] = {
        slabBuffers_[i].Value(),
        Napi::Number::New(env, s.count),
        slabSpans_[i].Value(),
        Napi::Number::New(env, s.truncated),
        Napi::Number::New(env, s.readErrors),
    };
    napi_value result;
    napi_status status = napi_make_callback(env, static_cast<napi_async_context>(*async_), Value(),
                                            callback_.Value(), 5, args, &result);
    if (status == napi_ok) return true;
    RaiseCallbackError(env, &callbackErrors_);
    return false;
  }

  // close([callback]): stops the thread, delivers what it read, closes the descriptor; callback
  // runs once it is closed.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() > 0 && info[0].IsFunction()) {
      if (core_ == nullptr || !closeCallback_.IsEmpty()) {
        Napi::Error::New(env, "ThreadedDatagramReader: already closed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      closeCallback_ = Napi::Persistent(info[0].As<Napi::Function>());
    }
    if (core_ != nullptr && !core_->closing) {
      paused_ = false;  // what was read is delivered, paused or not
      {
        Napi::HandleScope scope(env);
        DrainAndStopThread(env, core_);
      }
      DeliverReady(UINT32_MAX);
      if (core_ != nullptr) BeginClose(core_);  // core_ is cleared in OnClosed
    }
    return env.Undefined();
  }

  bool Usable() const { return core_ != nullptr && !core_->closing && !detached_; }

  // pause(): no more callbacks until resume(). The thread fills the free slabs, then waits; the
  // kernel buffer fills next (a Unix socket's senders then wait, UDP drops there, counted by the
  // kernel), which is how the agent pushes back when its aggregator is behind.
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (!paused_) {
      paused_ = true;
      pauses_++;
    }
    return info.This();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (paused_) {
      paused_ = false;
      if (Usable()) uv_async_send(&core_->async);
    }
    return info.This();
  }

  Napi::Value JsRef(const Napi::CallbackInfo& info) {
    if (Usable()) uv_ref(reinterpret_cast<uv_handle_t*>(&core_->async));
    return info.This();
  }

  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (Usable()) uv_unref(reinterpret_cast<uv_handle_t*>(&core_->async));
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
    o.Set("replacedSlabs", Napi::Number::New(env, replacedSlabs_));
    o.Set("pauses", Napi::Number::New(env, pauses_));
    if (core_ != nullptr) {
      std::lock_guard<std::mutex> lock(core_->mu);
      o.Set("ringFullWaits", Napi::Number::New(env, core_->ringFullWaits));
      o.Set("maxReadySlabs", Napi::Number::New(env, core_->maxReady));
      o.Set("readySlabs", Napi::Number::New(env, static_cast<double>(core_->ready.size())));
      o.Set("readPackets", Napi::Number::New(env, static_cast<double>(core_->readPackets.load())));
      ringFullWaits_ = core_->ringFullWaits;
      maxReady_ = core_->maxReady;
    } else {
      o.Set("ringFullWaits", Napi::Number::New(env, ringFullWaits_));
      o.Set("maxReadySlabs", Napi::Number::New(env, maxReady_));
      o.Set("readySlabs", Napi::Number::New(env, 0));
      o.Set("readPackets", Napi::Number::New(env, packets_));
    }
    return o;
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Usable() ? core_->fd : -1);
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    if (!Usable()) return Napi::Boolean::New(info.Env(), true);
    std::lock_guard<std::mutex> lock(core_->mu);
    // A fatal read error stopped the thread: the reader reads no more, as a stopped poll.
    return Napi::Boolean::New(info.Env(), core_->finished && core_->ready.empty());
  }

  Napi::Value GetLastError(const Napi::CallbackInfo& info) {
    int err = lastErrno_;
    if (core_ != nullptr) {
      std::lock_guard<std::mutex> lock(core_->mu);
      err = lastErrno_ = core_->lastErrno;
    }
    if (err == 0) return info.Env().Undefined();
    return Napi::String::New(info.Env(), uv_err_name(-err));
  }

  Core* core_ = nullptr;
  bool referenced_ = false;
  bool detached_ = false;
  std::vector<Napi::Reference<Napi::Buffer<uint8_t>>> slabBuffers_;
  std::vector<Napi::Reference<Napi::Uint32Array>> slabSpans_;
  Napi::FunctionReference callback_;
  Napi::FunctionReference closeCallback_;
  Napi::AsyncContext* async_ = nullptr;
  int lastErrno_ = 0;
  double packets_ = 0;
  double bytes_ = 0;
  double truncated_ = 0;
  double readErrors_ = 0;
  double batches_ = 0;
  double callbackErrors_ = 0;
  double replacedSlabs_ = 0;
  double pauses_ = 0;
  bool paused_ = false;
  double ringFullWaits_ = 0;
  double maxReady_ = 0;
};

}  // namespace kennel
