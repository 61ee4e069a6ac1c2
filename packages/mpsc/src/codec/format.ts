/**
 * The byte format of structured values (plain objects and arrays) sent from producer threads:
 * a stream of tagged values that {@link StructEncoder} writes and {@link StructDecoder} reads.
 * Both sides import these constants; nothing here has behaviour.
 *
 * Objects are written by *shape*: the encoder numbers each distinct list of keys it meets (per
 * producer, so per ring) and writes an object as its shape number followed by its values, without
 * the keys. A record that uses a shape the consumer may not know yet carries the shape's
 * definition (number and keys) in front of the object; the decoder keeps the definitions of its
 * producer in order and builds objects of a known shape without reading a single key.
 *
 * All multi-byte numbers are little-endian. `varint` is an unsigned LEB128 integer.
 *
 * @internal
 */

/** 0x80 | n: the integer n, 0 <= n <= 127, in one byte. */
export const SMALL_INT = 0x80;
/** 0x40 | n: a latin1 string of n bytes, 0 <= n <= 31, then its bytes. */
export const SHORT_LATIN1 = 0x40;
export const SHORT_LATIN1_MAX = 31;

export const NULL = 0x00;
export const UNDEFINED = 0x01;
export const TRUE = 0x02;
export const FALSE = 0x03;
/** int32. */
export const INT32 = 0x04;
/** float64 (every number that is not an int32, -0 and NaN included). */
export const FLOAT64 = 0x05;
/** A latin1 string: uint32 byte count, bytes. */
export const LATIN1 = 0x06;
/** A well-formed string: uint32 byte count, UTF-8 bytes. */
export const UTF8 = 0x07;
/** A string with lone surrogates: uint32 byte count, UTF-16LE code units. */
export const UTF16 = 0x08;
/** A dense array: varint length, the elements. */
export const ARRAY = 0x09;
/** An object of a known shape: uint16 shape number, the values in the shape's key order. */
export const OBJECT = 0x0a;
/**
 * A shape definition: uint16 shape number, varint key count, the keys (as string values); an
 * OBJECT of that shape follows (its tag and number included).
 */
export const SHAPE = 0x0b;
/** An object written with its keys (no shape): varint key count, the keys, then the values. */
export const KEYED = 0x0c;
/** A Date: float64 time value. */
export const DATE = 0x0d;
/** A BigInt: its decimal digits as a string value (with a leading '-' when negative). */
export const BIGINT = 0x0e;

/** Shapes one producer may number; objects met after that are written KEYED. */
export const MAX_SHAPES = 4096;
/** Objects with more keys are written KEYED (such objects are usually dictionaries). */
export const MAX_SHAPE_KEYS = 64;
