package web_test

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The portal draws QR codes with its own encoder (assets/qr.js). The tests
// read them back with this reader, written from ISO/IEC 18004 apart from
// the encoder: it reads the format information, unmasks, walks the
// codewords, de-interleaves the blocks, requires every block's Reed-Solomon
// syndromes to be zero, and decodes byte mode. It reads what qr.js makes
// (level M, versions 1 to 15), from a perfect grid.

// qrSVGGrid turns the SVG qr.js draws (a viewBox with a 4-module quiet
// zone, one path of 1x1 squares) into rows of dark modules.
func qrSVGGrid(viewBox, path string) ([][]bool, error) {
	f := strings.Fields(viewBox)
	if len(f) != 4 {
		return nil, fmt.Errorf("viewBox %q", viewBox)
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 21+8 {
		return nil, fmt.Errorf("viewBox %q", viewBox)
	}
	size := n - 8
	g := make([][]bool, size)
	for i := range g {
		g[i] = make([]bool, size)
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllStringSubmatch(path, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		if x < 4 || y < 4 || x-4 >= size || y-4 >= size {
			return nil, fmt.Errorf("module (%d, %d) in the quiet zone", x, y)
		}
		g[y-4][x-4] = true
	}
	return g, nil
}

// Level M's blocks and error correction codewords per block, versions 1-15
// (ISO/IEC 18004 table 9).
var qrBlocksM = [16][2]int{{}, {1, 10}, {1, 16}, {1, 26}, {2, 18}, {2, 24}, {4, 16}, {4, 18}, {4, 22}, {5, 22}, {5, 26}, {5, 30}, {8, 22}, {9, 22}, {9, 24}, {10, 24}}

// Total codewords by version (table 1).
var qrTotal = [16]int{0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346, 404, 466, 532, 581, 655}

// qrAlign is table E.1's alignment pattern centres.
var qrAlign = [16][]int{{}, {}, {6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34}, {6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}, {6, 30, 54}, {6, 32, 58}, {6, 34, 62}, {6, 26, 46, 66}, {6, 26, 48, 70}}

// qrFormatM lists level M's 15-bit format strings by mask (table C.1).
var qrFormatM = [8]string{"101010000010010", "101000100100101", "101111001111100", "101101101001011", "100010111111001", "100000011001110", "100111110010111", "100101010100000"}

func readQR(g [][]bool) (string, error) {
	size := len(g)
	v := (size - 17) / 4
	if v < 1 || v > 15 || size != 4*v+17 {
		return "", fmt.Errorf("a grid of %d modules is no version this reader knows", size)
	}
	// Format: bits 14..0 around the top-left finder, MSB at (8, 0).
	var bits strings.Builder
	for _, c := range [][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}} {
		bits.WriteByte("01"[b2i(g[c[1]][c[0]])])
	}
	mask := -1
	for m, f := range qrFormatM {
		if reverse(f) == bits.String() {
			mask = m
		}
	}
	if mask < 0 {
		return "", fmt.Errorf("format bits %s are not level M's", bits.String())
	}
	fn := qrFunction(v, size)
	var words []byte
	var cur, nbits int
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range size {
			for j := range 2 {
				x, y := right-j, vert
				if (right+1)&2 == 0 {
					y = size - 1 - vert
				}
				if fn[y][x] {
					continue
				}
				bit := g[y][x] != qrMask(mask, x, y)
				cur = cur<<1 | b2i(bit)
				if nbits++; nbits%8 == 0 {
					words = append(words, byte(cur))
					cur = 0
				}
			}
		}
	}
	if len(words) < qrTotal[v] {
		return "", fmt.Errorf("read %d codewords; version %d has %d", len(words), v, qrTotal[v])
	}
	data, err := qrDeinterleave(words[:qrTotal[v]], v)
	if err != nil {
		return "", err
	}
	return qrByteMode(data, v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reverse(s string) string {
	r := []byte(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// qrFunction marks the function patterns: finders with separators and
// format areas, timing, alignment, version information, the dark module.
func qrFunction(v, size int) [][]bool {
	fn := make([][]bool, size)
	for i := range fn {
		fn[i] = make([]bool, size)
	}
	rect := func(x0, y0, w, h int) {
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				fn[y][x] = true
			}
		}
	}
	rect(0, 0, 9, 9)
	rect(size-8, 0, 8, 9)
	rect(0, size-8, 9, 8)
	rect(6, 0, 1, size)
	rect(0, 6, size, 1)
	a := qrAlign[v]
	for _, cx := range a {
		for _, cy := range a {
			if (cx == 6 && cy == 6) || (cx == 6 && cy == a[len(a)-1]) || (cx == a[len(a)-1] && cy == 6) {
				continue
			}
			rect(cx-2, cy-2, 5, 5)
		}
	}
	if v >= 7 {
		rect(size-11, 0, 3, 6)
		rect(0, size-11, 6, 3)
	}
	return fn
}

func qrMask(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// qrDeinterleave splits the codewords into blocks, checks each block's
// Reed-Solomon syndromes, and returns the data codewords in order.
func qrDeinterleave(words []byte, v int) ([]byte, error) {
	nb, ecc := qrBlocksM[v][0], qrBlocksM[v][1]
	total := len(words)
	long := total % nb
	shortData := total/nb - ecc
	blocks := make([][]byte, nb)
	k := 0
	for i := 0; i < shortData+1; i++ {
		for b := range nb {
			if i == shortData && b < nb-long {
				continue
			}
			blocks[b] = append(blocks[b], words[k])
			k++
		}
	}
	for i := 0; i < ecc; i++ {
		for b := range nb {
			blocks[b] = append(blocks[b], words[k])
			k++
		}
	}
	var data []byte
	for b, blk := range blocks {
		for i := range ecc {
			if s := syndrome(blk, gfPow(i)); s != 0 {
				return nil, fmt.Errorf("block %d: Reed-Solomon syndrome %d is %d, not 0", b, i, s)
			}
		}
		data = append(data, blk[:len(blk)-ecc]...)
	}
	return data, nil
}

// gfMul multiplies in GF(256) with the QR polynomial 0x11d.
func gfMul(a, b byte) byte {
	var p byte
	for b > 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1d
		}
		b >>= 1
	}
	return p
}

func gfPow(i int) byte {
	x := byte(1)
	for range i {
		x = gfMul(x, 2)
	}
	return x
}

// syndrome evaluates the codeword polynomial (first byte highest) at x.
func syndrome(c []byte, x byte) byte {
	var s byte
	for _, b := range c {
		s = gfMul(s, x) ^ b
	}
	return s
}

func qrByteMode(data []byte, v int) (string, error) {
	pos := 0
	read := func(n int) int {
		x := 0
		for range n {
			x = x<<1 | int(data[pos/8]>>(7-pos%8)&1)
			pos++
		}
		return x
	}
	if mode := read(4); mode != 0b0100 {
		return "", fmt.Errorf("mode %04b; want byte mode", mode)
	}
	n := read(map[bool]int{true: 8, false: 16}[v < 10])
	if pos+8*n > 8*len(data) {
		return "", errors.New("byte count past the data")
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(read(8))
	}
	return string(out), nil
}

// qrOf reads the first QR code (svg.qr) under sel on the page.
func (p *page) qrOf(sel string) string {
	p.b.t.Helper()
	type svg struct{ ViewBox, Path string }
	s := eval[svg](p, "read the QR code", `(() => { const s = document.querySelector(`+jsString(sel+" svg.qr")+`);
		return { viewBox: s.getAttribute("viewBox"), path: s.querySelector("path").getAttribute("d") }; })()`)
	g, err := qrSVGGrid(s.ViewBox, s.Path)
	if err == nil {
		var text string
		if text, err = readQR(g); err == nil {
			return text
		}
	}
	p.b.t.Fatalf("%s: the QR code under %s: %v", p.name, sel, err)
	return ""
}

// TestQRReader checks the reader's Reed-Solomon arithmetic on published
// codewords, the "HELLO WORLD" 1-M example (data 32 91 11 120 209 114 220
// 77 67 64 236 17 236 17 236 17, error correction 196 35 39 119 235 215
// 231 226 93 23), whose syndromes are all zero.
func TestQRReader(t *testing.T) {
	block := []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17, 196, 35, 39, 119, 235, 215, 231, 226, 93, 23}
	for i := range 10 {
		if s := syndrome(block, gfPow(i)); s != 0 {
			t.Errorf("syndrome %d of the HELLO WORLD 1-M codewords = %d; want 0", i, s)
		}
	}
	block[3] ^= 1
	if syndrome(block, gfPow(0)) == 0 && syndrome(block, gfPow(1)) == 0 {
		t.Error("a changed codeword left the syndromes zero")
	}
}
