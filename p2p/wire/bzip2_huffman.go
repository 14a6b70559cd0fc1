package wire

import "slices"

// bzip2MaxCodeLen is the longest Huffman code the encoder makes (bzip2's
// decoders accept up to 20; libbz2's encoder also stops at 17).
const bzip2MaxCodeLen = 17

// huffmanBuilder makes length-limited Huffman code lengths, keeping its
// scratch between tables.
type huffmanBuilder struct {
	order  []int64 // symbols by rising frequency
	weight []int64 // of the leaves, then of the inner nodes
	parent []int32
	depth  []uint8
}

// lengths sets lens[s] to the length of symbol s's code for the
// frequencies freq; every symbol gets a code (a frequency of 0 counts as
// 1), none longer than bzip2MaxCodeLen.
func (h *huffmanBuilder) lengths(freq []int32, lens []uint8) {
	n := len(freq)
	h.weight = slices.Grow(h.weight[:0], 2*n)[:2*n]
	for i, f := range freq {
		h.weight[i] = int64(max(f, 1))
	}
	for {
		if h.build(n, lens) <= bzip2MaxCodeLen {
			return
		}
		// Too deep: flatten the frequencies and build again.
		for i := range n {
			h.weight[i] = 1 + h.weight[i]/2
		}
	}
}

// build makes the code of the n leaf weights in h.weight (two queues:
// the leaves sorted, and the inner nodes, which are made in rising weight)
// and returns its longest length.
func (h *huffmanBuilder) build(n int, lens []uint8) int {
	if n == 1 {
		lens[0] = 1
		return 1
	}
	// Sorted as weight<<9 | symbol: plain integers sort fastest.
	h.order = slices.Grow(h.order[:0], n)[:n]
	w := h.weight
	for i := range h.order {
		h.order[i] = w[i]<<9 | int64(i)
	}
	slices.Sort(h.order)
	for i, v := range h.order {
		h.order[i] = v & 511
	}
	h.parent = slices.Grow(h.parent[:0], 2*n)[:2*n]
	leaf, inner, next := 0, n, n // next: the node being made
	pick := func() int64 {
		if leaf < n && (inner >= next || w[h.order[leaf]] <= w[inner]) {
			leaf++
			return h.order[leaf-1]
		}
		inner++
		return int64(inner - 1)
	}
	for next < 2*n-1 {
		a, b := pick(), pick()
		w[next] = w[a] + w[b]
		h.parent[a], h.parent[b] = int32(next), int32(next)
		next++
	}
	// Depths from the root (the last node) down: parents come after their
	// children, so one pass from the top sets them.
	h.depth = slices.Grow(h.depth[:0], 2*n)[:2*n]
	root := 2*n - 2
	h.depth[root] = 0
	longest := 0
	for i := root - 1; i >= 0; i-- {
		d := h.depth[h.parent[i]] + 1
		h.depth[i] = d
		if i < n {
			lens[i] = d
			longest = max(longest, int(d))
		}
	}
	return longest
}

// assignCodes gives the canonical codes of lens, as bzip2's decoder reads
// them: by rising length, and by symbol within a length.
func assignCodes(lens []uint8, codes []uint32) {
	minLen, maxLen := uint8(32), uint8(0)
	for _, l := range lens {
		minLen, maxLen = min(minLen, l), max(maxLen, l)
	}
	code := uint32(0)
	for l := minLen; l <= maxLen; l++ {
		for s, sl := range lens {
			if sl == l {
				codes[s] = code
				code++
			}
		}
		code <<= 1
	}
}
