const fcc = String.fromCharCode;

/**
 * Decodes `length` latin1 bytes at `at` for short strings: one `String.fromCharCode` call with the
 * bytes as arguments is about three times faster than `Buffer#latin1Slice` for strings of a few
 * characters (no native call, no slice). Returns undefined past 16 characters.
 *
 * @internal
 */
export function shortLatin1(u8: Uint8Array, at: number, length: number): string | undefined {
  const a = at;
  switch (length) {
    case 0:
      return '';
    case 1:
      return fcc(u8[a]!);
    case 2:
      return fcc(u8[a]!, u8[a + 1]!);
    case 3:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!);
    case 4:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!, u8[a + 3]!);
    case 5:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!, u8[a + 3]!, u8[a + 4]!);
    case 6:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!, u8[a + 3]!, u8[a + 4]!, u8[a + 5]!);
    case 7:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!, u8[a + 3]!, u8[a + 4]!, u8[a + 5]!, u8[a + 6]!);
    case 8:
      return fcc(u8[a]!, u8[a + 1]!, u8[a + 2]!, u8[a + 3]!, u8[a + 4]!, u8[a + 5]!, u8[a + 6]!, u8[a + 7]!);
    case 9:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
      );
    case 10:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
      );
    case 11:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
      );
    case 12:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
        u8[a + 11]!,
      );
    case 13:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
        u8[a + 11]!,
        u8[a + 12]!,
      );
    case 14:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
        u8[a + 11]!,
        u8[a + 12]!,
        u8[a + 13]!,
      );
    case 15:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
        u8[a + 11]!,
        u8[a + 12]!,
        u8[a + 13]!,
        u8[a + 14]!,
      );
    case 16:
      return fcc(
        u8[a]!,
        u8[a + 1]!,
        u8[a + 2]!,
        u8[a + 3]!,
        u8[a + 4]!,
        u8[a + 5]!,
        u8[a + 6]!,
        u8[a + 7]!,
        u8[a + 8]!,
        u8[a + 9]!,
        u8[a + 10]!,
        u8[a + 11]!,
        u8[a + 12]!,
        u8[a + 13]!,
        u8[a + 14]!,
        u8[a + 15]!,
      );
    default:
      return undefined;
  }
}
