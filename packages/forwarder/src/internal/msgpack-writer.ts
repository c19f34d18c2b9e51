import type { WriteBuffer } from './write-buffer.js';

/**
 * MessagePack primitives in the forms Go's `tinylib/msgp` `Append*` functions choose (the
 * smallest that holds the value): fixmap/map16/map32, fixarray/array16/array32,
 * fixstr/str8/str16/str32, bin8/bin16/bin32, positive fixint/uint8..uint64 for unsigned
 * integers, fixint/int8..int64 for signed ones. Format from the MessagePack specification.
 */

export function mapHeader(w: WriteBuffer, n: number): void {
  w.ensure(5);
  if (n < 16) w.buf[w.pos++] = 0x80 | n;
  else if (n < 0x10000) {
    w.buf[w.pos++] = 0xde;
    w.buf.writeUInt16BE(n, w.pos);
    w.pos += 2;
  } else {
    w.buf[w.pos++] = 0xdf;
    w.buf.writeUInt32BE(n, w.pos);
    w.pos += 4;
  }
}

export function arrayHeader(w: WriteBuffer, n: number): void {
  w.ensure(5);
  if (n < 16) w.buf[w.pos++] = 0x90 | n;
  else if (n < 0x10000) {
    w.buf[w.pos++] = 0xdc;
    w.buf.writeUInt16BE(n, w.pos);
    w.pos += 2;
  } else {
    w.buf[w.pos++] = 0xdd;
    w.buf.writeUInt32BE(n, w.pos);
    w.pos += 4;
  }
}

/** A UTF-8 string (lone surrogates become U+FFFD, as everywhere in kennel). */
export function str(w: WriteBuffer, s: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  w.ensure(n + 5);
  const buf = w.buf;
  if (n < 32) buf[w.pos++] = 0xa0 | n;
  else if (n < 0x100) {
    buf[w.pos++] = 0xd9;
    buf[w.pos++] = n;
  } else if (n < 0x10000) {
    buf[w.pos++] = 0xda;
    buf.writeUInt16BE(n, w.pos);
    w.pos += 2;
  } else {
    buf[w.pos++] = 0xdb;
    buf.writeUInt32BE(n, w.pos);
    w.pos += 4;
  }
  w.pos += buf.write(s, w.pos, 'utf8');
}

/** A key known to be ASCII and shorter than 32 bytes (struct field names). */
export function key(w: WriteBuffer, k: string): void {
  w.ensure(k.length + 1);
  w.buf[w.pos++] = 0xa0 | k.length;
  w.pos += w.buf.write(k, w.pos, 'latin1');
}

export function bin(w: WriteBuffer, b: Uint8Array): void {
  const n = b.length;
  w.ensure(n + 5);
  const buf = w.buf;
  if (n < 0x100) {
    buf[w.pos++] = 0xc4;
    buf[w.pos++] = n;
  } else if (n < 0x10000) {
    buf[w.pos++] = 0xc5;
    buf.writeUInt16BE(n, w.pos);
    w.pos += 2;
  } else {
    buf[w.pos++] = 0xc6;
    buf.writeUInt32BE(n, w.pos);
    w.pos += 4;
  }
  buf.set(b, w.pos);
  w.pos += n;
}

export function bool(w: WriteBuffer, v: boolean): void {
  w.byte(v ? 0xc3 : 0xc2);
}

/** An unsigned integer (`AppendUint64`); negative or non-integer numbers are written as their truncation clamped at 0. */
export function uint(w: WriteBuffer, v: number | bigint): void {
  let u: bigint | number = typeof v === 'bigint' ? BigInt.asUintN(64, v) : Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0;
  if (typeof u === 'number' && !Number.isSafeInteger(u)) u = BigInt.asUintN(64, BigInt(u));
  w.ensure(9);
  const buf = w.buf;
  if (typeof u === 'bigint') {
    if (u <= 0xffffffffn) u = Number(u);
    else {
      buf[w.pos++] = 0xcf;
      buf.writeBigUInt64BE(u, w.pos);
      w.pos += 8;
      return;
    }
  }
  if (u < 0x80) buf[w.pos++] = u;
  else if (u < 0x100) {
    buf[w.pos++] = 0xcc;
    buf[w.pos++] = u;
  } else if (u < 0x10000) {
    buf[w.pos++] = 0xcd;
    buf.writeUInt16BE(u, w.pos);
    w.pos += 2;
  } else if (u < 0x100000000) {
    buf[w.pos++] = 0xce;
    buf.writeUInt32BE(u, w.pos);
    w.pos += 4;
  } else {
    buf[w.pos++] = 0xcf;
    buf.writeBigUInt64BE(BigInt(u), w.pos);
    w.pos += 8;
  }
}

/** A signed integer (`AppendInt64`) of a safe-integer number. */
export function int(w: WriteBuffer, v: number): void {
  const i = Number.isFinite(v) ? Math.trunc(v) : 0;
  w.ensure(9);
  const buf = w.buf;
  if (i >= 0) {
    if (i <= 0x7f) buf[w.pos++] = i;
    else if (i <= 0x7fff) {
      buf[w.pos++] = 0xd1;
      buf.writeInt16BE(i, w.pos);
      w.pos += 2;
    } else if (i <= 0x7fffffff) {
      buf[w.pos++] = 0xd2;
      buf.writeInt32BE(i, w.pos);
      w.pos += 4;
    } else {
      buf[w.pos++] = 0xd3;
      buf.writeBigInt64BE(BigInt(i), w.pos);
      w.pos += 8;
    }
    return;
  }
  if (i >= -32) buf[w.pos++] = i & 0xff;
  else if (i >= -0x80) {
    buf[w.pos++] = 0xd0;
    buf.writeInt8(i, w.pos);
    w.pos += 1;
  } else if (i >= -0x8000) {
    buf[w.pos++] = 0xd1;
    buf.writeInt16BE(i, w.pos);
    w.pos += 2;
  } else if (i >= -0x80000000) {
    buf[w.pos++] = 0xd2;
    buf.writeInt32BE(i, w.pos);
    w.pos += 4;
  } else {
    buf[w.pos++] = 0xd3;
    buf.writeBigInt64BE(BigInt(i), w.pos);
    w.pos += 8;
  }
}
