/** Number formatting shared by the terminal tables and the HTML report. */

/** `1234567` → `1.23M`, `12345` → `12.3k`, `123.4` → `123`, `1.234` → `1.23`. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (Number.isInteger(n) && abs < 1e4) return String(n);
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e8 ? 0 : 2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  if (abs >= 100) return Math.round(n).toString();
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** A ratio: `0.042` → `0.042×`, `1.5` → `1.50×`, `22.3` → `22.3×`. */
export function formatRatio(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return '–';
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

/** Microseconds: `12.3 µs`, `1.23 ms`, `2.1 s`. */
export function formatMicros(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '–';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e4 ? 1 : 2)} ms`;
  return `${us.toFixed(us >= 100 ? 0 : us >= 10 ? 1 : 2)} µs`;
}

/** Bytes: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

/** A metric by its name's unit suffix (`…Bytes`, `…Us`, else a count). */
export function formatMetric(name: string, value: number): string {
  if (/bytes$/i.test(name)) return formatBytes(value);
  if (/Us$/.test(name)) return formatMicros(value);
  return formatCount(value);
}
