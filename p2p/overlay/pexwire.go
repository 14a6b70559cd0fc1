package overlay

// The peer-exchange frames (capability "pex/1"):
//
//	version=1 | type | body
//	type 1 DEGREE  degree:uvarint                    how many links I have
//	type 2 ASK     want:uvarint                      send me up to want peers
//	type 3 PEERS   redirect:byte count:uvarint       addresses I know; redirect=1
//	               count * (id:str host:str port:uvarint)  means "I am full, try these"
//
// str is uvarint length + bytes. Every length and count is bounded below.

const (
	pexDegree = 1
	pexAsk    = 2
	pexPeers  = 3
)

// Bounds of the peer-exchange frames.
const (
	MaxPeerList = 32  // entries in one PEERS frame
	MaxIDLen    = 128 // bytes of a node id
	MaxHostLen  = 253 // bytes of a host name
	maxDegree   = 1 << 16
)

// PeerRecord is one known node.
type PeerRecord struct {
	ID   PeerID
	Addr Addr
}

type pexMsg struct {
	typ      byte
	degree   int
	want     int
	redirect bool
	peers    []PeerRecord
}

func encodePex(m pexMsg) []byte {
	w := writer{b: make([]byte, 0, 16)}
	w.byte1(Version)
	w.byte1(m.typ)
	switch m.typ {
	case pexDegree:
		w.uvarint(uint64(m.degree))
	case pexAsk:
		w.uvarint(uint64(m.want))
	case pexPeers:
		if m.redirect {
			w.byte1(1)
		} else {
			w.byte1(0)
		}
		peers := m.peers
		if len(peers) > MaxPeerList {
			peers = peers[:MaxPeerList]
		}
		w.uvarint(uint64(len(peers)))
		for _, p := range peers {
			w.str(string(p.ID))
			w.str(p.Addr.Host)
			w.uvarint(uint64(p.Addr.Port))
		}
	}
	return w.b
}

func decodePex(b []byte) (pexMsg, error) {
	r := reader{b: b}
	m := pexMsg{typ: r.header()}
	switch m.typ {
	case pexDegree:
		m.degree = int(r.uvarint("degree", maxDegree))
	case pexAsk:
		m.want = int(r.uvarint("want", MaxPeerList))
	case pexPeers:
		switch r.byte1("redirect") {
		case 0:
		case 1:
			m.redirect = true
		default:
			r.fail("redirect flag")
		}
		n := int(r.uvarint("peer count", MaxPeerList))
		for i := 0; i < n && r.err == nil; i++ {
			id := r.str("peer id", MaxIDLen)
			host := r.str("peer host", MaxHostLen)
			port := r.uvarint("peer port", 65535)
			if id == "" || host == "" || port == 0 {
				r.fail("empty peer record")
			}
			m.peers = append(m.peers, PeerRecord{ID: PeerID(id), Addr: Addr{Host: host, Port: uint16(port)}})
		}
	default:
		if r.err == nil {
			r.fail("unknown pex type")
		}
	}
	return m, r.done()
}
