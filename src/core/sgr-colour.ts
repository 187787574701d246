/** xterm's default 16 colours: what 256-colour and true-colour escapes are mapped onto. */
const PALETTE: [number, number, number][] = [
  [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
  [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
];
const CUBE = [0, 95, 135, 175, 215, 255];

const byte = (v: number | undefined) => (Number.isInteger(v) && v! >= 0 && v! <= 255 ? v! : -1);

/**
 * The nearest of the 16 colours (0-15) to a `5;n` or `2;r;g;b` colour, or -1 when the values
 * are missing or out of range (the escape then changes nothing). The page has 16 classes per
 * plane and no inline style (its CSP forbids it), so a richer colour is approximated.
 */
export function nearestColour(mode: number, values: number[]): number {
  if (mode === 5) {
    const n = byte(values[0]);
    if (n < 16) return n;
    if (n >= 232) {
      const g = 8 + 10 * (n - 232);
      return nearestRgb(g, g, g);
    }
    const i = n - 16;
    return nearestRgb(CUBE[Math.floor(i / 36)]!, CUBE[Math.floor(i / 6) % 6]!, CUBE[i % 6]!);
  }
  if (mode !== 2 || values.length !== 3) return -1;
  const [r, g, b] = values.map(byte) as [number, number, number];
  return r < 0 || g < 0 || b < 0 ? -1 : nearestRgb(r, g, b);
}

function nearestRgb(r: number, g: number, b: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < PALETTE.length; i++) {
    const [pr, pg, pb] = PALETTE[i]!;
    const d = (pr - r) ** 2 + (pg - g) ** 2 + (pb - b) ** 2;
    if (d < bestD) (best = i), (bestD = d);
  }
  return best;
}
