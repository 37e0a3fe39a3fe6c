const KIB = 1024;
const MIB = 1024 * 1024;

/**
 * A byte count for people: `512 B`, `12.3 KiB`, `45.6 MiB`.
 *
 * @param bytes - the count
 * @param signed - prefix positive counts with `+` (for differences)
 */
export function formatBytes(bytes: number, signed = false): string {
  const sign = bytes < 0 ? '-' : signed ? '+' : '';
  const size = Math.abs(bytes);
  if (size >= MIB) return `${sign}${(size / MIB).toFixed(1)} MiB`;
  if (size >= KIB) return `${sign}${(size / KIB).toFixed(1)} KiB`;
  return `${sign}${Math.round(size)} B`;
}

/** A count with thousands separators: `100,000`; `n/a` when it is not a finite number. */
export function formatCount(value: number, fractionDigits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}
