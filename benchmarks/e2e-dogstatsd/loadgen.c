/*
 * loadgen: a paced DogStatsD sender for the e2e-dogstatsd benchmark (not shipped code).
 *
 * Node's dgram tops out well under a million datagrams a second, so the sender is this small C
 * program, compiled by the benchmark with the system `cc`. It reads a corpus file written by the
 * harness (pre-built datagrams with their line and sample counts), then sends those datagrams,
 * cycling through the corpus, with sendmmsg(2) on a connected socket, paced to a target rate in
 * metric lines per second, for a fixed duration. It prints one JSON object with exactly how many
 * datagrams, lines, samples and bytes it handed to the kernel.
 *
 *   loadgen udp 127.0.0.1:8125 corpus.bin RATE SECONDS
 *   loadgen uds /tmp/dsd.socket corpus.bin RATE SECONDS
 *
 * Bounded: loopback or a local socket path only, a fixed number of lines (RATE x SECONDS, rounded
 * up to whole datagrams), and a hard stop at 3 x SECONDS + 5 s even when the receiver stalls.
 *
 * Pacing: the schedule says `RATE x elapsed` lines are due; each tick sends whole datagrams (in
 * sendmmsg batches of up to BATCH) until the lines sent reach what is due, then sleeps 100 us.
 *
 * Back-pressure: sends are non-blocking. UDP on loopback never pushes back (a full receive buffer
 * drops the datagram in the kernel, which is the loss the benchmark looks for). A Unix datagram
 * socket does push back (the receiver's queue or our send buffer is full): the sender then waits
 * in poll(2) and counts a stall; nothing is dropped, the schedule just slips, and the harness
 * sees the slip in `elapsedS`.
 *
 * Corpus file (little-endian): "KDSC", u32 version (1), u32 packet count, then per packet u32
 * length, u32 lines, u32 samples and the bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SNDBUF (8 * 1024 * 1024)

struct packet {
  uint32_t len;
  uint32_t lines;
  uint32_t samples;
  char *data;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint32_t rd32(FILE *f) {
  unsigned char b[4];
  if (fread(b, 1, 4, f) != 4) {
    fprintf(stderr, "loadgen: truncated corpus file\n");
    exit(2);
  }
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static struct packet *read_corpus(const char *path, uint32_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  char magic[4];
  if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "KDSC", 4) != 0) {
    fprintf(stderr, "loadgen: %s is not a corpus file\n", path);
    exit(2);
  }
  if (rd32(f) != 1) {
    fprintf(stderr, "loadgen: unknown corpus version\n");
    exit(2);
  }
  uint32_t n = rd32(f);
  if (n == 0) {
    fprintf(stderr, "loadgen: empty corpus\n");
    exit(2);
  }
  struct packet *p = calloc(n, sizeof *p);
  if (!p) die("calloc");
  for (uint32_t i = 0; i < n; i++) {
    p[i].len = rd32(f);
    p[i].lines = rd32(f);
    p[i].samples = rd32(f);
    if (p[i].len == 0 || p[i].len > 65507) {
      fprintf(stderr, "loadgen: bad packet length %u\n", p[i].len);
      exit(2);
    }
    p[i].data = malloc(p[i].len);
    if (!p[i].data) die("malloc");
    if (fread(p[i].data, 1, p[i].len, f) != p[i].len) {
      fprintf(stderr, "loadgen: truncated corpus file\n");
      exit(2);
    }
  }
  fclose(f);
  *count = n;
  return p;
}

static int open_socket(const char *transport, const char *dest) {
  int fd;
  if (strcmp(transport, "udp") == 0) {
    char host[64];
    const char *colon = strrchr(dest, ':');
    if (!colon || (size_t)(colon - dest) >= sizeof host) {
      fprintf(stderr, "loadgen: udp destination must be HOST:PORT\n");
      exit(2);
    }
    memcpy(host, dest, (size_t)(colon - dest));
    host[colon - dest] = '\0';
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
      fprintf(stderr, "loadgen: bad IPv4 address %s\n", host);
      exit(2);
    }
    if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
      fprintf(stderr, "loadgen: refusing a non-loopback destination %s\n", host);
      exit(2);
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect");
  } else if (strcmp(transport, "uds") == 0) {
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    if (strlen(dest) >= sizeof sa.sun_path) {
      fprintf(stderr, "loadgen: socket path too long\n");
      exit(2);
    }
    strcpy(sa.sun_path, dest);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect");
  } else {
    fprintf(stderr, "loadgen: transport must be udp or uds\n");
    exit(2);
  }
  int sndbuf = SNDBUF;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: loadgen udp|uds DEST CORPUS RATE_LINES_PER_S SECONDS\n");
    return 2;
  }
  const char *transport = argv[1];
  const char *dest = argv[2];
  double rate = atof(argv[4]);
  double duration = atof(argv[5]);
  if (!(rate > 0) || !(duration > 0) || duration > 600) {
    fprintf(stderr, "loadgen: RATE must be > 0 and SECONDS in (0, 600]\n");
    return 2;
  }
  uint32_t npackets;
  struct packet *corpus = read_corpus(argv[3], &npackets);
  int fd = open_socket(transport, dest);
  int sndbuf = 0;
  socklen_t sl = sizeof sndbuf;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);

  const uint64_t total_lines = (uint64_t)(rate * duration + 0.5);
  const double hard_stop = duration * 3 + 5;

  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);

  uint64_t sent_packets = 0, sent_lines = 0, sent_samples = 0, sent_bytes = 0;
  uint64_t stalls = 0, send_errors = 0, syscalls = 0;
  double stall_s = 0;
  int aborted = 0;
  uint32_t cursor = 0;
  int last_errno = 0;

  const double start = now_s();
  double t = start;
  while (sent_lines < total_lines) {
    t = now_s();
    if (t - start > hard_stop) {
      aborted = 1;
      break;
    }
    double due_f = rate * (t - start);
    uint64_t due = due_f >= (double)total_lines ? total_lines : (uint64_t)due_f;
    while (sent_lines < due) {
      /* A batch of whole datagrams; the last one may carry the lines past `due`. */
      int k = 0;
      uint64_t batch_lines = 0;
      uint32_t c = cursor;
      while (k < BATCH && sent_lines + batch_lines < due) {
        iov[k].iov_base = corpus[c].data;
        iov[k].iov_len = corpus[c].len;
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        batch_lines += corpus[c].lines;
        k++;
        if (++c == npackets) c = 0;
      }
      int n = sendmmsg(fd, msgs, (unsigned)k, MSG_DONTWAIT);
      syscalls++;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          stalls++;
          double s0 = now_s();
          struct pollfd pfd = {.fd = fd, .events = POLLOUT};
          poll(&pfd, 1, 100);
          stall_s += now_s() - s0;
          if (now_s() - start > hard_stop) {
            aborted = 1;
            break;
          }
          continue;
        }
        if (errno == EINTR) continue;
        /* ECONNREFUSED (nothing listening yet) or another error: the datagram is not sent. */
        send_errors++;
        last_errno = errno;
        if (++cursor == npackets) cursor = 0;
        if (send_errors > 1000) {
          aborted = 1;
          break;
        }
        continue;
      }
      for (int i = 0; i < n; i++) {
        struct packet *p = &corpus[cursor];
        sent_packets++;
        sent_lines += p->lines;
        sent_samples += p->samples;
        sent_bytes += p->len;
        if (++cursor == npackets) cursor = 0;
      }
    }
    if (aborted) break;
    if (sent_lines < total_lines) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  }
  const double end = now_s();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf(
      "{\"transport\":\"%s\",\"dest\":\"%s\",\"targetLinesPerSec\":%.0f,\"durationS\":%.3f,"
      "\"targetLines\":%llu,\"packets\":%llu,\"lines\":%llu,\"samples\":%llu,\"bytes\":%llu,"
      "\"elapsedS\":%.6f,\"achievedLinesPerSec\":%.0f,\"syscalls\":%llu,\"stalls\":%llu,"
      "\"stallS\":%.6f,\"sendErrors\":%llu,\"lastErrno\":%d,\"aborted\":%s,\"sndbuf\":%d,"
      "\"cpuUserS\":%.3f,\"cpuSysS\":%.3f,\"corpusPackets\":%u}\n",
      transport, dest, rate, duration, (unsigned long long)total_lines,
      (unsigned long long)sent_packets, (unsigned long long)sent_lines,
      (unsigned long long)sent_samples, (unsigned long long)sent_bytes, end - start,
      (double)sent_lines / (end - start), (unsigned long long)syscalls,
      (unsigned long long)stalls, stall_s, (unsigned long long)send_errors, last_errno,
      aborted ? "true" : "false", sndbuf, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, npackets);
  close(fd);
  return aborted ? 1 : 0;
}
