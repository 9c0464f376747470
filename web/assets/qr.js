// A compact QR Code encoder (ISO/IEC 18004:2015), written for the portal so
// that a link can be shown as a code a phone's camera reads, with no other
// host and no library: byte mode, error correction level M, versions 1 to
// 15 (up to 412 bytes), the mask of least penalty. It follows the structure
// of Project Nayuki's QR Code generator (MIT licence), reduced to that.

// Level M, by version (index 0 unused): error correction codewords per
// block, and blocks.
const ECC_PER_BLOCK = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24];
const BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10];
const MAX_VERSION = 15;

// rawModules is the number of modules of version v that hold data.
function rawModules(v) {
  let n = (16 * v + 128) * v + 64;
  if (v >= 2) {
    const align = Math.floor(v / 7) + 2;
    n -= (25 * align - 10) * align - 55;
    if (v >= 7) n -= 36;
  }
  return n;
}

const dataCodewords = (v) => Math.floor(rawModules(v) / 8) - ECC_PER_BLOCK[v] * BLOCKS[v];

// gfMul multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1.
function gfMul(x, y) {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z;
}

// rsDivisor returns the generator polynomial of the given degree, highest
// power first, its leading 1 left out.
function rsDivisor(degree) {
  const out = new Array(degree).fill(0);
  out[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      out[j] = gfMul(out[j], root);
      if (j + 1 < degree) out[j] ^= out[j + 1];
    }
    root = gfMul(root, 0x02);
  }
  return out;
}

// rsRemainder returns the error correction codewords of data.
export function rsRemainder(data, divisor) {
  const out = divisor.map(() => 0);
  for (const b of data) {
    const factor = b ^ out.shift();
    out.push(0);
    divisor.forEach((c, i) => { out[i] ^= gfMul(c, factor); });
  }
  return out;
}

// codewords encodes bytes in byte mode for version v, with error
// correction, interleaved as they are placed.
function codewords(bytes, v) {
  const bits = [];
  const put = (val, n) => { for (let i = n - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  put(0b0100, 4);
  put(bytes.length, v < 10 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  const capacity = dataCodewords(v) * 8;
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  const data = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; data.length < capacity / 8; pad ^= 0xec ^ 0x11) data.push(pad);

  const blocks = BLOCKS[v], eccLen = ECC_PER_BLOCK[v], raw = Math.floor(rawModules(v) / 8);
  const short = blocks - (raw % blocks), shortLen = Math.floor(raw / blocks);
  const div = rsDivisor(eccLen);
  const all = [];
  for (let i = 0, k = 0; i < blocks; i++) {
    const dat = data.slice(k, k + shortLen - eccLen + (i < short ? 0 : 1));
    k += dat.length;
    const ecc = rsRemainder(dat, div);
    if (i < short) dat.push(0);
    all.push(dat.concat(ecc));
  }
  const out = [];
  for (let i = 0; i < all[0].length; i++) {
    all.forEach((b, j) => { if (i !== shortLen - eccLen || j >= short) out.push(b[i]); });
  }
  return out;
}

// formatBits returns the 15 format bits for level M and mask.
export function formatBits(mask) {
  const data = (0b00 << 3) | mask; // level M is 00
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

// versionBits returns the 18 version bits of version v (7 and above).
export function versionBits(v) {
  let rem = v;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (v << 12) | rem;
}

const MASKS = [
  (x, y) => (x + y) % 2 === 0, (x, y) => y % 2 === 0, (x) => x % 3 === 0, (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0, (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0, (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

// Grid is a version's grid: dark modules, and which are function patterns.
class Grid {
  constructor(v) {
    this.size = v * 4 + 17;
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    const s = this.size;
    for (let i = 0; i < s; i++) { this.set(6, i, i % 2 === 0); this.set(i, 6, i % 2 === 0); }
    for (const [x, y] of [[3, 3], [s - 4, 3], [3, s - 4]]) this.finder(x, y);
    const pos = alignmentPositions(v, s);
    for (const x of pos) {
      for (const y of pos) {
        const corner = (x === 6 && y === 6) || (x === 6 && y === s - 7) || (x === s - 7 && y === 6);
        if (!corner) this.square(x, y, 2, (d) => d !== 1);
      }
    }
    this.format(0); // reserves the format modules; the chosen mask's bits come later
    if (v >= 7) {
      const bits = versionBits(v);
      for (let i = 0; i < 18; i++) {
        const a = s - 11 + (i % 3), b = Math.floor(i / 3), on = ((bits >>> i) & 1) === 1;
        this.set(a, b, on);
        this.set(b, a, on);
      }
    }
  }

  set(x, y, on) { this.dark[y][x] = on; this.fixed[y][x] = true; }

  square(cx, cy, r, on) {
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const x = cx + dx, y = cy + dy;
        if (x >= 0 && x < this.size && y >= 0 && y < this.size) this.set(x, y, on(Math.max(Math.abs(dx), Math.abs(dy))));
      }
    }
  }

  finder(x, y) { this.square(x, y, 4, (d) => d !== 2 && d !== 4); }

  format(mask) {
    const bits = formatBits(mask), s = this.size, bit = (i) => ((bits >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(s - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, s - 15 + i, bit(i));
    this.set(8, s - 8, true); // the dark module
  }

  // place lays the codewords in the zigzag of two-module columns.
  place(words) {
    const s = this.size;
    let i = 0;
    for (let right = s - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < s; vert++) {
        for (let j = 0; j < 2; j++) {
          const x = right - j, y = ((right + 1) & 2) === 0 ? s - 1 - vert : vert;
          if (!this.fixed[y][x] && i < words.length * 8) {
            this.dark[y][x] = ((words[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
            i++;
          }
        }
      }
    }
  }

  mask(m) {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) if (!this.fixed[y][x] && MASKS[m](x, y)) this.dark[y][x] = !this.dark[y][x];
    }
  }

  // penalty scores the symbol by the standard's four rules.
  penalty() {
    const s = this.size, d = this.dark;
    let p = 0, darkCount = 0;
    const lines = [];
    for (let i = 0; i < s; i++) lines.push(d[i], d.map((row) => row[i]));
    const finderLike = [true, false, true, true, true, false, true];
    for (const line of lines) {
      for (let i = 0, run = 1; i < s; i++) {
        if (i + 1 < s && line[i + 1] === line[i]) { run++; continue; }
        if (run >= 5) p += run - 2;
        run = 1;
      }
      for (let i = 0; i + 7 <= s; i++) {
        if (!finderLike.every((v, k) => line[i + k] === v)) continue;
        const lightBefore = i >= 4 && [1, 2, 3, 4].every((k) => !line[i - k]);
        const lightAfter = i + 11 <= s && [7, 8, 9, 10].every((k) => !line[i + k]);
        if (lightBefore || lightAfter) p += 40;
      }
    }
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        if (d[y][x]) darkCount++;
        if (x + 1 < s && y + 1 < s && d[y][x] === d[y][x + 1] && d[y][x] === d[y + 1][x] && d[y][x] === d[y + 1][x + 1]) p += 3;
      }
    }
    const total = s * s;
    return p + (Math.ceil(Math.abs(darkCount * 20 - total * 10) / total) - 1) * 10;
  }
}

function alignmentPositions(v, size) {
  if (v === 1) return [];
  const n = Math.floor(v / 7) + 2;
  const step = Math.ceil((v * 4 + 4) / (n * 2 - 2)) * 2;
  const out = [6];
  for (let pos = size - 7; out.length < n; pos -= step) out.splice(1, 0, pos);
  return out;
}

// encode returns the QR symbol of text (UTF-8) as rows of booleans, dark
// true, with no quiet zone; and throws if text is too long.
export function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let v = 1;
  while (v <= MAX_VERSION && 4 + (v < 10 ? 8 : 16) + bytes.length * 8 > dataCodewords(v) * 8) v++;
  if (v > MAX_VERSION) throw new Error("too long for a QR code here");
  const words = codewords(bytes, v);
  let best = null, bestScore = Infinity;
  for (let m = 0; m < 8; m++) {
    const sym = new Grid(v);
    sym.place(words);
    sym.mask(m);
    sym.format(m);
    const score = sym.penalty();
    if (score < bestScore) { best = sym; bestScore = score; }
  }
  return best.dark;
}

// svg returns the symbol of text as an SVG image named label, dark on
// light with the standard four-module quiet zone.
export function svg(text, label) {
  const rows = encode(text), n = rows.length + 8;
  const ns = "http://www.w3.org/2000/svg";
  const el = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${n} ${n}`, role: "img", "aria-label": label, class: "qr", "shape-rendering": "crispEdges" })) el.setAttribute(k, v);
  const bg = document.createElementNS(ns, "rect");
  for (const [k, v] of Object.entries({ width: n, height: n, fill: "#fff" })) bg.setAttribute(k, v);
  let d = "";
  rows.forEach((row, y) => row.forEach((on, x) => { if (on) d += `M${x + 4} ${y + 4}h1v1h-1z`; }));
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  el.append(bg, path);
  return el;
}
