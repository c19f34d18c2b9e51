import { DecodeErrorReason } from './result.js';

/**
 * A bounds-checked MessagePack reader (format from the MessagePack specification). It never
 * throws: a malformed value sets `reason` and `message`, and every read after that returns a
 * zero value. Reads are lenient about integer widths and signedness, as Go's msgp `Read*` are,
 * and read `nil` as the zero value.
 */
export class MsgpackReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  reason: DecodeErrorReason | null = null;
  message = '';

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get failed(): boolean {
    return this.reason !== null;
  }

  get atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(reason: DecodeErrorReason, message: string): void {
    if (this.reason === null) {
      this.reason = reason;
      this.message = `${message} at byte ${this.pos}`;
    }
    this.pos = this.buf.length;
  }

  private need(n: number): boolean {
    if (this.reason !== null) return false;
    if (this.buf.length - this.pos < n) {
      this.fail(DecodeErrorReason.TRUNCATED, 'msgpack value runs past the end of the body');
      return false;
    }
    return true;
  }

  private u8(): number {
    return this.need(1) ? this.buf[this.pos++]! : 0;
  }

  private u16(): number {
    if (!this.need(2)) return 0;
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    if (!this.need(4)) return 0;
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  private wrongType(what: string, b: number): void {
    this.fail(DecodeErrorReason.INVALID_SHAPE, `expected ${what}, got msgpack type byte 0x${b.toString(16).padStart(2, '0')}`);
  }

  /** Consumes a `nil` if one is next. */
  nil(): boolean {
    if (this.reason === null && this.pos < this.buf.length && this.buf[this.pos] === 0xc0) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** A map header (`nil` is an empty map); -1 on error. */
  mapHeader(): number {
    if (this.nil()) return 0;
    const b = this.u8();
    if (this.failed) return -1;
    if ((b & 0xf0) === 0x80) return b & 0x0f;
    if (b === 0xde) return this.u16();
    if (b === 0xdf) return this.u32();
    this.wrongType('a map', b);
    return -1;
  }

  /** An array header (`nil` is an empty array); -1 on error. */
  arrayHeader(): number {
    if (this.nil()) return 0;
    const b = this.u8();
    if (this.failed) return -1;
    if ((b & 0xf0) === 0x90) return b & 0x0f;
    if (b === 0xdc) return this.u16();
    if (b === 0xdd) return this.u32();
    this.wrongType('an array', b);
    return -1;
  }

  /** The length of a str or bin header, or -1. */
  private rawLength(allowStr: boolean, allowBin: boolean, what: string): number {
    const b = this.u8();
    if (this.failed) return -1;
    if (allowStr) {
      if ((b & 0xe0) === 0xa0) return b & 0x1f;
      if (b === 0xd9) return this.u8();
      if (b === 0xda) return this.u16();
      if (b === 0xdb) return this.u32();
    }
    if (allowBin) {
      if (b === 0xc4) return this.u8();
      if (b === 0xc5) return this.u16();
      if (b === 0xc6) return this.u32();
    }
    this.wrongType(what, b);
    return -1;
  }

  /** A UTF-8 string (str or bin; `nil` is `''`). */
  str(): string {
    if (this.nil()) return '';
    const n = this.rawLength(true, true, 'a string');
    if (n < 0 || !this.need(n)) return '';
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }

  /** Bytes (bin or str; `nil` is empty), copied out of the body. */
  bytes(): Uint8Array {
    if (this.nil()) return new Uint8Array(0);
    const n = this.rawLength(true, true, 'bytes');
    if (n < 0 || !this.need(n)) return new Uint8Array(0);
    // A plain Uint8Array copy (the body may be a Buffer, whose slice is a view).
    const b = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  /** Any integer, as a bigint (floats are refused, as msgp's integer reads refuse them). */
  bigint(): bigint {
    if (this.nil()) return 0n;
    const b = this.u8();
    if (this.failed) return 0n;
    if (b < 0x80) return BigInt(b);
    if (b >= 0xe0) return BigInt(b - 0x100);
    switch (b) {
      case 0xcc:
        return BigInt(this.u8());
      case 0xcd:
        return BigInt(this.u16());
      case 0xce:
        return BigInt(this.u32());
      case 0xcf: {
        if (!this.need(8)) return 0n;
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v;
      }
      case 0xd0: {
        if (!this.need(1)) return 0n;
        const v = this.view.getInt8(this.pos);
        this.pos += 1;
        return BigInt(v);
      }
      case 0xd1: {
        if (!this.need(2)) return 0n;
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return BigInt(v);
      }
      case 0xd2: {
        if (!this.need(4)) return 0n;
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return BigInt(v);
      }
      case 0xd3: {
        if (!this.need(8)) return 0n;
        const v = this.view.getBigInt64(this.pos);
        this.pos += 8;
        return v;
      }
      default:
        this.wrongType('an integer', b);
        return 0n;
    }
  }

  /** An unsigned integer as a number (negative values are refused; exact below 2^53). */
  uint(): number {
    const v = this.bigint();
    if (v < 0n) {
      this.fail(DecodeErrorReason.INVALID_VALUE, `expected an unsigned integer, got ${v}`);
      return 0;
    }
    return Number(v);
  }

  /** A signed integer as a number (exact below 2^53). */
  int(): number {
    return Number(this.bigint());
  }

  /** An unsigned 64-bit integer as a bigint. */
  u64(): bigint {
    const v = this.bigint();
    if (v < 0n) {
      this.fail(DecodeErrorReason.INVALID_VALUE, `expected an unsigned integer, got ${v}`);
      return 0n;
    }
    return v;
  }

  bool(): boolean {
    if (this.nil()) return false;
    const b = this.u8();
    if (b === 0xc3) return true;
    if (b !== 0xc2 && !this.failed) this.wrongType('a bool', b);
    return false;
  }

  /** Skips one value of any type, iteratively (deep nesting cannot overflow the stack). */
  skip(): boolean {
    let pending = 1;
    while (pending > 0 && this.reason === null) {
      pending--;
      const b = this.u8();
      if (this.failed) return false;
      if (b < 0x80 || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue;
      if ((b & 0xf0) === 0x80) pending += 2 * (b & 0x0f);
      else if ((b & 0xf0) === 0x90) pending += b & 0x0f;
      else if ((b & 0xe0) === 0xa0) this.advance(b & 0x1f);
      else {
        switch (b) {
          case 0xc4:
          case 0xd9:
            this.advance(this.u8());
            break;
          case 0xc5:
          case 0xda:
            this.advance(this.u16());
            break;
          case 0xc6:
          case 0xdb:
            this.advance(this.u32());
            break;
          case 0xc7:
            this.advance(this.u8() + 1);
            break;
          case 0xc8:
            this.advance(this.u16() + 1);
            break;
          case 0xc9:
            this.advance(this.u32() + 1);
            break;
          case 0xca:
            this.advance(4);
            break;
          case 0xcb:
            this.advance(8);
            break;
          case 0xcc:
          case 0xd0:
            this.advance(1);
            break;
          case 0xcd:
          case 0xd1:
            this.advance(2);
            break;
          case 0xce:
          case 0xd2:
            this.advance(4);
            break;
          case 0xcf:
          case 0xd3:
            this.advance(8);
            break;
          case 0xd4:
            this.advance(2);
            break;
          case 0xd5:
            this.advance(3);
            break;
          case 0xd6:
            this.advance(5);
            break;
          case 0xd7:
            this.advance(9);
            break;
          case 0xd8:
            this.advance(17);
            break;
          case 0xdc:
            pending += this.u16();
            break;
          case 0xdd:
            pending += this.u32();
            break;
          case 0xde:
            pending += 2 * this.u16();
            break;
          case 0xdf:
            pending += 2 * this.u32();
            break;
          default:
            this.fail(DecodeErrorReason.INVALID_SHAPE, `msgpack type byte 0x${b.toString(16)} does not exist`);
        }
      }
    }
    return this.reason === null;
  }

  private advance(n: number): void {
    if (this.need(n)) this.pos += n;
  }
}
