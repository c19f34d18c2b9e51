// Opening the sockets DogStatsD listens on. Plain POSIX calls, no JavaScript: each function returns
// a file descriptor, or a negative errno with the failing call named in `*syscall`.
#pragma once

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

namespace kennel {

// Largest path a sockaddr_un holds, leaving room for the terminating NUL.
constexpr size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

inline int CloseKeepingErrno(int fd) {
  const int saved = errno;
  close(fd);
  errno = saved;
  return -saved;
}

inline int SetReceiveBuffer(int fd, int rcvbuf) {
  if (rcvbuf <= 0) return 0;
  return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
}

// Fills `addr` for a filesystem path; false (errno set) when the path cannot be a socket address.
inline bool UnixAddress(const std::string& path, sockaddr_un* addr, socklen_t* len) {
  if (path.empty() || path.find('\0') != std::string::npos) {
    errno = EINVAL;
    return false;
  }
  if (path.size() > kMaxUnixPath) {
    errno = ENAMETOOLONG;
    return false;
  }
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// A bound, non-blocking AF_UNIX/SOCK_DGRAM socket at `path`. The caller has already removed any
// stale file there and sets the file's mode afterwards.
inline int OpenUnixDatagram(const std::string& path, int rcvbuf, const char** syscall) {
  sockaddr_un addr;
  socklen_t len;
  *syscall = "bind";
  if (!UnixAddress(path, &addr, &len)) return -errno;
  *syscall = "socket";
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  *syscall = "setsockopt";
  if (SetReceiveBuffer(fd, rcvbuf) != 0) return CloseKeepingErrno(fd);
  *syscall = "bind";
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return CloseKeepingErrno(fd);
  return fd;
}

// A bound, non-blocking UDP socket. `host` must be a numeric IPv4 or IPv6 address (the TypeScript
// side resolves names first, so nothing here can block on DNS). `*port` is in/out: 0 picks one.
inline int OpenUdp(const std::string& host, int* port, int rcvbuf, bool reusePort, const char** syscall) {
  addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(*port);
  *syscall = "getaddrinfo";
  const int gai = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (gai != 0) {
    if (gai == EAI_SYSTEM) return -errno;
    return -EINVAL;  // not a numeric address
  }
  *syscall = "socket";
  const int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    freeaddrinfo(found);
    return -err;
  }
  const int one = 1;
  *syscall = "setsockopt";
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    freeaddrinfo(found);
    return CloseKeepingErrno(fd);
  }
  if (SetReceiveBuffer(fd, rcvbuf) != 0) {
    freeaddrinfo(found);
    return CloseKeepingErrno(fd);
  }
  *syscall = "bind";
  const int bound = bind(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (bound != 0) return CloseKeepingErrno(fd);
  sockaddr_storage local;
  socklen_t localLen = sizeof(local);
  *syscall = "getsockname";
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLen) != 0) return CloseKeepingErrno(fd);
  if (local.ss_family == AF_INET6) {
    *port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  } else {
    *port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  }
  return fd;
}

// Whether a process is bound to the datagram socket at `path`: 0 when connect() succeeds (someone
// is receiving there), else the errno (ECONNREFUSED for a stale socket file). Sends nothing.
inline int ProbeUnixDatagram(const std::string& path) {
  sockaddr_un addr;
  socklen_t len;
  if (!UnixAddress(path, &addr, &len)) return errno;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int r;
  do {
    r = connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
  } while (r != 0 && errno == EINTR);
  const int err = r == 0 ? 0 : errno;
  close(fd);
  return err;
}

// The kernel receive buffer the socket has (Linux reports twice what was asked for).
inline int ReceiveBufferSize(int fd) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &len) != 0) return -errno;
  return value;
}

}  // namespace kennel
