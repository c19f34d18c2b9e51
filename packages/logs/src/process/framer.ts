/**
 * Newline framing with the agent's size cap (`pkg/logs/internal/framer`, `oneByteNewLineMatcher`).
 *
 * @remarks
 * Bytes go in chunk by chunk; a frame is the content before a `\n` (the newline counts in the
 * frame's raw length but is not part of its content). A line longer than `contentLenLimit` is
 * cut: the first `contentLenLimit` bytes come out as a frame flagged `truncated` (raw length ==
 * content length, no newline consumed), and the rest continues as the next frame. A line of
 * exactly `contentLenLimit` bytes before its newline is whole. Partial lines wait for the next
 * chunk, so how the input is chunked never changes the frames: unlike the agent's framer, which
 * cuts as soon as `contentLenLimit` bytes are buffered, a cut waits for one more byte, so a line of
 * exactly the limit whose newline arrives in the next read is not cut.
 */
export type FrameCallback = (content: Buffer, rawLen: number, truncated: boolean) => void;

const NL = 0x0a;

export class NewlineFramer {
  readonly contentLenLimit: number;
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes at the front of `buf` already framed. */
  private framed = 0;
  /** How far past `framed` the newline search already looked. */
  private seen = 0;
  private end = 0;

  constructor(contentLenLimit: number) {
    this.contentLenLimit = contentLenLimit;
  }

  /** Bytes received but not framed yet (a partial line). */
  get pending(): number {
    return this.end - this.framed;
  }

  /** Frames what `chunk` completes. The chunk is copied; the caller may reuse it. */
  write(chunk: Uint8Array, onFrame: FrameCallback): void {
    if (chunk.length === 0) return;
    this.append(chunk);
    const limit = this.contentLenLimit;
    for (;;) {
      const avail = this.end - this.framed;
      if (avail === 0) break;
      const nl = this.buf.indexOf(NL, this.framed + this.seen);
      if (nl >= 0 && nl < this.end) {
        const eol = nl - this.framed;
        if (eol > limit) {
          this.emit(limit, limit, true, onFrame);
        } else {
          this.emit(eol, eol + 1, false, onFrame);
        }
        continue;
      }
      // Only once more than a line's worth is buffered: a newline right after `limit` bytes ends a whole line.
      if (avail > limit) {
        this.emit(limit, limit, true, onFrame);
        continue;
      }
      this.seen = avail;
      break;
    }
    this.compact();
  }

  /** Emits the partial line left over, as a whole frame (the end of a stream or a datagram). */
  flushRemainder(onFrame: FrameCallback): void {
    const avail = this.end - this.framed;
    if (avail > 0) this.emit(avail, avail, false, onFrame);
    this.compact();
  }

  /** Drops the partial line; returns how many bytes were dropped. */
  reset(): number {
    const dropped = this.end - this.framed;
    this.buf = Buffer.alloc(0);
    this.framed = 0;
    this.seen = 0;
    this.end = 0;
    return dropped;
  }

  private emit(contentLen: number, rawLen: number, truncated: boolean, onFrame: FrameCallback): void {
    // Copy out: the frame outlives this buffer's next compaction.
    const content = Buffer.from(this.buf.subarray(this.framed, this.framed + contentLen));
    this.framed += rawLen;
    this.seen = 0;
    onFrame(content, rawLen, truncated);
  }

  private append(chunk: Uint8Array): void {
    const need = this.end + chunk.length;
    if (need > this.buf.length) {
      const live = this.end - this.framed;
      const size = Math.max(need - this.framed, Math.min(this.buf.length * 2, live + chunk.length + 65536), 4096);
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.framed, this.end);
      this.buf = next;
      this.end = live;
      this.framed = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private compact(): void {
    if (this.framed === this.end) {
      this.framed = 0;
      this.end = 0;
      this.seen = 0;
    }
  }
}

/** Go's `bytes.TrimSpace`: leading and trailing Unicode white space (`unicode.IsSpace`) removed. */
export function trimSpace(b: Buffer): Buffer {
  let start = 0;
  let end = b.length;
  while (start < end) {
    const n = spaceLenAt(b, start);
    if (n === 0) break;
    start += n;
  }
  while (end > start) {
    const n = spaceLenBefore(b, end, start);
    if (n === 0) break;
    end -= n;
  }
  return start === 0 && end === b.length ? b : b.subarray(start, end);
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isUnicodeSpace(cp: number): boolean {
  return cp === 0x85 || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

/** Bytes of the white-space rune starting at `i`, or 0. */
function spaceLenAt(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return isAsciiSpace(c) ? 1 : 0;
  if (c === 0xc2 && i + 1 < b.length) return b[i + 1] === 0x85 || b[i + 1] === 0xa0 ? 2 : 0;
  if ((c === 0xe1 || c === 0xe2 || c === 0xe3) && i + 2 < b.length) {
    const cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
    if ((b[i + 1]! & 0xc0) === 0x80 && (b[i + 2]! & 0xc0) === 0x80 && isUnicodeSpace(cp)) return 3;
  }
  return 0;
}

/** Bytes of the white-space rune ending at `end`, or 0. */
function spaceLenBefore(b: Buffer, end: number, floor: number): number {
  const c = b[end - 1]!;
  if (c < 0x80) return isAsciiSpace(c) ? 1 : 0;
  if (end - 2 >= floor && b[end - 2] === 0xc2 && (c === 0x85 || c === 0xa0)) return 2;
  if (end - 3 >= floor && spaceLenAt(b, end - 3) === 3) return 3;
  return 0;
}
