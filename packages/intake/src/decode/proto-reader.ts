import { DecodeErrorReason } from './result.js';

/** Protobuf wire types. */
export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

/**
 * A bounds-checked protobuf reader. It never throws: a malformed value sets `reason` and
 * `message`, and every read after that returns 0. Callers check `failed` once per field.
 *
 * @remarks
 * Messages nest by narrowing `end` ({@link ProtoReader.enter} / {@link ProtoReader.leave}), so
 * one reader walks a whole payload without allocating per message.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  private readonly view: Buffer;
  pos: number;
  end: number;
  reason: DecodeErrorReason | null = null;
  message = '';
  /** Low and high 32 bits of the last varint. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.length;
  }

  get failed(): boolean {
    return this.reason !== null;
  }

  /** More to read in the current message? */
  get more(): boolean {
    return this.reason === null && this.pos < this.end;
  }

  fail(reason: DecodeErrorReason, message: string): void {
    if (this.reason === null) {
      this.reason = reason;
      this.message = `${message} at byte ${this.pos}`;
    }
    this.pos = this.end;
  }

  /** Reads a varint into `lo`/`hi`; false (and failed) when it is truncated or too long. */
  varint(): boolean {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let p = this.pos;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) {
        this.fail(DecodeErrorReason.TRUNCATED, 'varint runs past the end of its message');
        return false;
      }
      const b = buf[p++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return true;
      }
    }
    this.fail(DecodeErrorReason.INVALID_VARINT, 'varint is longer than 10 bytes');
    return false;
  }

  /** A field key (`number << 3 | wire type`), or -1 on error. */
  key(): number {
    if (!this.varint()) return -1;
    if (this.hi !== 0 || this.lo >>> 3 === 0) {
      this.fail(DecodeErrorReason.INVALID_WIRE_TYPE, 'field number is 0 or out of range');
      return -1;
    }
    return this.lo;
  }

  /** An `int64`/`uint32`/enum varint as a number (int64 beyond 2^53 loses precision). */
  int64(): number {
    if (!this.varint()) return 0;
    return (this.hi | 0) * 4294967296 + this.lo;
  }

  /** A `uint32` (the low 32 bits of the varint). */
  uint32(): number {
    return this.varint() ? this.lo : 0;
  }

  /** A zig-zag `sint32`. */
  sint32(): number {
    if (!this.varint()) return 0;
    const n = this.lo;
    return (n >>> 1) ^ -(n & 1);
  }

  double(): number {
    if (this.end - this.pos < 8) {
      this.fail(DecodeErrorReason.TRUNCATED, 'double runs past the end of its message');
      return 0;
    }
    const v = this.view.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * Reads a length prefix and narrows the reader to that value. Returns the outer `end` to
   * pass to {@link leave}, or -1 on error.
   */
  enter(): number {
    if (!this.varint()) return -1;
    const len = this.lo;
    if (this.hi !== 0 || len > this.end - this.pos) {
      this.fail(DecodeErrorReason.TRUNCATED, 'length-delimited value runs past the end of its message');
      return -1;
    }
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Leaves a value entered with {@link enter}, at its end. */
  leave(outer: number): void {
    if (this.reason !== null) {
      this.end = outer;
      this.pos = outer;
      return;
    }
    this.pos = this.end;
    this.end = outer;
  }

  /** A UTF-8 string (invalid sequences become U+FFFD). */
  string(): string {
    const outer = this.enter();
    if (outer < 0) return '';
    const s = this.view.toString('utf8', this.pos, this.end);
    this.leave(outer);
    return s;
  }

  /** Skips a field of this wire type; false (and failed) when it cannot be skipped. */
  skip(wireType: number): boolean {
    switch (wireType) {
      case WireType.VARINT:
        return this.varint();
      case WireType.FIXED64:
        if (this.end - this.pos < 8) break;
        this.pos += 8;
        return true;
      case WireType.LEN: {
        const outer = this.enter();
        if (outer < 0) return false;
        this.leave(outer);
        return true;
      }
      case WireType.FIXED32:
        if (this.end - this.pos < 4) break;
        this.pos += 4;
        return true;
      default:
        this.fail(DecodeErrorReason.INVALID_WIRE_TYPE, `wire type ${wireType} is not supported`);
        return false;
    }
    this.fail(DecodeErrorReason.TRUNCATED, 'fixed-size value runs past the end of its message');
    return false;
  }

  /** Fails unless `wireType` is the one the schema gives `field` of `message`. */
  expect(wireType: number, expected: number, message: string, field: number): boolean {
    if (wireType === expected) return true;
    this.fail(DecodeErrorReason.INVALID_WIRE_TYPE, `${message} field ${field} has wire type ${wireType}, expected ${expected}`);
    return false;
  }
}
