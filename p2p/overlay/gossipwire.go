package overlay

// The gossip frames (capability "gossip/1"):
//
//	version=1 | type | body
//	type 1 GOSSIP  id:16 hops:uvarint topic:str origin:str data:str
//	type 2 IHAVE   count:uvarint count*(id:16 hops:uvarint)  lazy announcements, with
//	               the hops each message had when the announcer got it
//	type 3 GRAFT   count:uvarint count*id:16      send me these, and push to me eagerly
//	type 4 PRUNE   (empty)                        stop pushing to me eagerly

const (
	gsGossip = 1
	gsIHave  = 2
	gsGraft  = 3
	gsPrune  = 4
)

// Bounds of the gossip frames.
const (
	MaxTopicLen = 255
	MaxData     = 1 << 20 // bytes of one publish
	MaxIDs      = 256     // ids in one IHAVE or GRAFT
	maxHopsWire = 255
)

// MessageID names one publish.
type MessageID [16]byte

type gossipMsg struct {
	typ    byte
	id     MessageID
	hops   int
	topic  string
	origin PeerID
	data   []byte
	ids    []MessageID
	idHops []int // IHAVE only: hops of each id
}

func encodeGossip(m gossipMsg) []byte {
	w := writer{b: make([]byte, 0, 32+len(m.topic)+len(m.origin)+len(m.data)+16*len(m.ids))}
	w.byte1(Version)
	w.byte1(m.typ)
	switch m.typ {
	case gsGossip:
		w.fixed(m.id[:])
		w.uvarint(uint64(m.hops))
		w.str(m.topic)
		w.str(string(m.origin))
		w.bytes(m.data)
	case gsIHave, gsGraft:
		w.uvarint(uint64(len(m.ids)))
		for i, id := range m.ids {
			w.fixed(id[:])
			if m.typ == gsIHave {
				w.uvarint(uint64(m.idHops[i]))
			}
		}
	}
	return w.b
}

func decodeGossip(b []byte) (gossipMsg, error) {
	r := reader{b: b}
	m := gossipMsg{typ: r.header()}
	switch m.typ {
	case gsGossip:
		r.fixed("id", m.id[:])
		m.hops = int(r.uvarint("hops", maxHopsWire))
		m.topic = r.str("topic", MaxTopicLen)
		m.origin = PeerID(r.str("origin", MaxIDLen))
		m.data = r.bytes("data", MaxData)
		if r.err == nil && (m.topic == "" || m.origin == "") {
			r.fail("empty topic or origin")
		}
	case gsIHave, gsGraft:
		n := int(r.uvarint("id count", MaxIDs))
		if r.err == nil && len(r.b) < 16*n {
			r.fail("ids")
		}
		for i := 0; i < n && r.err == nil; i++ {
			var id MessageID
			r.fixed("id", id[:])
			m.ids = append(m.ids, id)
			if m.typ == gsIHave {
				m.idHops = append(m.idHops, int(r.uvarint("hops", maxHopsWire)))
			}
		}
	case gsPrune:
	default:
		if r.err == nil {
			r.fail("unknown gossip type")
		}
	}
	return m, r.done()
}
