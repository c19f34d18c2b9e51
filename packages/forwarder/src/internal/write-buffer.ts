/**
 * A growable byte buffer with the protobuf and JSON primitives the encoders need. It writes
 * straight into one `Buffer`; nothing is allocated per field.
 *
 * @remarks
 * Length-delimited values (strings, nested messages, packed fields) reserve one byte for their
 * length, are written in place, and are closed with {@link WriteBuffer.ldelim}. A length of 128
 * or more needs a longer varint, so the value is moved right by the extra bytes with one
 * `copyWithin`. Most nested messages (points, resources, metadata, short strings) are shorter
 * than 128 bytes and never move. The output is the canonical encoding, byte for byte what the
 * agent's molecule `ProtoStream` writes.
 */
export class WriteBuffer {
  /** The bytes; valid in `[0, pos)`. Replaced when the buffer grows. */
  buf: Buffer;
  /** The write position. */
  pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialCapacity));
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** An unsigned varint of a value in `[0, 2^32)`. */
  varint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /**
   * A varint of an integer in the safe range, as protobuf writes `int64`: negative values are
   * their 64-bit two's complement (10 bytes), as Go's `uint64(int64(v))`.
   */
  varint64(n: number): void {
    if (n >= 0 && n <= 0xffffffff) {
      this.varint32(n);
      return;
    }
    let hi = Math.floor(n / 4294967296);
    let lo = n - hi * 4294967296;
    hi >>>= 0;
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  /** A little-endian IEEE 754 double (protobuf `double`, wire type 1). */
  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Reserves the one-byte length of a length-delimited value; pass the result to {@link ldelim}. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the value started by {@link fork} at `start`. */
  ldelim(start: number): void {
    const len = this.pos - start - 1;
    if (len < 0x80) {
      this.buf[start] = len;
      return;
    }
    const size = len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;
    const extra = size - 1;
    this.ensure(extra);
    const buf = this.buf;
    buf.copyWithin(start + size, start + 1, this.pos);
    this.pos += extra;
    let p = start;
    let v = len;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  /**
   * A one-byte field key then a UTF-8 string, skipped when empty as molecule's `String` does
   * (proto3 omits default values).
   */
  stringField(key: number, s: string): void {
    if (s.length === 0) return;
    this.ensure(s.length * 3 + 6);
    this.buf[this.pos++] = key;
    const start = this.pos++;
    this.pos += this.buf.write(s, this.pos);
    this.ldelim(start);
  }

  /** Bytes of a string known to be ASCII (JSON punctuation, field names, numbers). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** A JSON string literal. Plain strings are written as they are; others go through `JSON.stringify`. */
  jsonString(s: string): void {
    let plain = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // Quote, backslash and control characters need escapes; surrogates are left to
      // JSON.stringify, which escapes lone ones instead of replacing them with U+FFFD.
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
        plain = false;
        break;
      }
    }
    if (plain) {
      this.ensure(s.length * 3 + 2);
      this.buf[this.pos++] = 0x22;
      this.pos += this.buf.write(s, this.pos);
      this.buf[this.pos++] = 0x22;
    } else {
      const quoted = JSON.stringify(s);
      this.ensure(quoted.length * 3);
      this.pos += this.buf.write(quoted, this.pos);
    }
  }

  /** A JSON integer (`Math.trunc`, as Go's `int64(float)`). */
  jsonInt(v: number): void {
    this.ascii(String(Math.trunc(v)));
  }

  /** A finite JSON number in the shortest form that reads back as the same double. */
  jsonNumber(v: number): void {
    this.ascii(String(v));
  }
}

/** Zig-zag encoding of an `int32`, as protobuf writes `sint32`. */
export function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}
