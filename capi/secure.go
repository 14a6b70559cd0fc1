package main

/*
#define P2P_NO_PROTOTYPES
#include <stdlib.h>
#include <string.h>
#include "p2pnode.h"
#include "shim.h"
*/
import "C"

import (
	"errors"
	"io/fs"
	"time"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// The secure node's exports (p2p_secure_*), documented in
// include/p2pnode.h. A secure node is a nodeEntry whose sec is set and whose
// node is the secure node's p2p node, so every p2p_node_* function works on
// it; its events come through secure.NewWithCallback's function.

//export p2pgo_secure_node_new
func p2pgo_secure_node_new(host *C.char, port C.int, id *C.char, maxConnections C.int, cfg *C.p2p_secure_config, out **C.p2p_node) (rc C.int) {
	defer guard(&rc)
	base, rc := nodeConfig(host, port, id, maxConnections, out)
	if rc != C.P2P_OK {
		return rc
	}
	sc := secure.Config{Config: base}
	if cfg != nil {
		switch cfg.key_policy {
		case C.P2P_TRUST_ON_FIRST_USE:
			sc.KeyPolicy = secure.TrustOnFirstUse
		case C.P2P_TRUSTED_KEYS_ONLY:
			sc.KeyPolicy = secure.TrustedKeysOnly
		case C.P2P_NO_PINNING:
			sc.KeyPolicy = secure.NoPinning
		default:
			return fail(C.P2P_EINVAL, "unknown key_policy %d", int(cfg.key_policy))
		}
		if cfg.min_key_bits < 0 || cfg.max_pinned_keys < 0 || cfg.max_clock_skew_ms < 0 {
			return fail(C.P2P_EINVAL, "min_key_bits, max_pinned_keys and max_clock_skew_ms may not be negative")
		}
		if int64(cfg.replay_window_ms) > maxMS || int64(cfg.max_clock_skew_ms) > maxMS || int64(cfg.replay_window_ms) < -maxMS {
			return fail(C.P2P_EINVAL, "replay_window_ms and max_clock_skew_ms must lie within +-%d ms (what a duration can hold)", maxMS)
		}
		sc.MinKeyBits = int(cfg.min_key_bits)
		sc.MaxPinnedKeys = int(cfg.max_pinned_keys)
		sc.ReplayWindow = time.Duration(cfg.replay_window_ms) * time.Millisecond
		sc.MaxClockSkew = time.Duration(cfg.max_clock_skew_ms) * time.Millisecond
	}
	e := newEntry()
	s, err := secure.NewWithCallback(sc, nil, e.onEvent)
	if err != nil {
		return failNew(err)
	}
	e.sec = s
	e.node = s.P2P()
	_ = e.node.EnablePolling() // see p2pgo_node_new
	*out = e.register()
	return C.P2P_OK
}

//export p2pgo_secure_key_generate
func p2pgo_secure_key_generate(h *C.p2p_node, bits C.int) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		key, err := secure.GenerateKey(int(bits))
		if err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		return setKey(s, key)
	})
}

//export p2pgo_secure_key_load
func p2pgo_secure_key_load(h *C.p2p_node, path, password *C.char) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		if path == nil {
			return fail(C.P2P_EINVAL, "path is NULL")
		}
		key, err := secure.LoadKey(C.GoString(path), goStringOrEmpty(password))
		if err != nil {
			return fail(C.P2P_EKEY, "%v", err)
		}
		return setKey(s, key)
	})
}

//export p2pgo_secure_key_save
func p2pgo_secure_key_save(h *C.p2p_node, path, password *C.char, format C.int) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		if path == nil {
			return fail(C.P2P_EINVAL, "path is NULL")
		}
		key, rc := nodeKey(s)
		if rc != C.P2P_OK {
			return rc
		}
		pw := goStringOrEmpty(password)
		var err error
		switch format {
		case C.P2P_KEY_FORMAT_P2PNODE:
			err = key.Save(C.GoString(path), pw)
		case C.P2P_KEY_FORMAT_P2PSECURE:
			if pw == "" {
				return fail(C.P2P_EINVAL, "the p2psecure key format needs a password")
			}
			err = key.SaveReference(C.GoString(path), pw)
		default:
			return fail(C.P2P_EINVAL, "unknown key format %d", int(format))
		}
		if err != nil {
			return fail(C.P2P_EKEY, "%v", err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_secure_send_message
func p2pgo_secure_send_message(h *C.p2p_node, text *C.char, n C.size_t) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		v, rc := parseJSON(s.P2P(), text, n)
		if rc != C.P2P_OK {
			return rc
		}
		return failSecure(s.SendMessage(v))
	})
}

//export p2pgo_secure_send
func p2pgo_secure_send(h *C.p2p_node, peer C.uint64_t, text *C.char, n C.size_t) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		data, rc := parseObject(s.P2P(), text, n)
		if rc != C.P2P_OK {
			return rc
		}
		p, ok := s.P2P().PeerByHandle(uint64(peer))
		if !ok {
			return fail(C.P2P_ENOPEER, "no peer %d on this node", uint64(peer))
		}
		return failSecure(s.SendToNode(p, data))
	})
}

//export p2pgo_secure_broadcast
func p2pgo_secure_broadcast(h *C.p2p_node, text *C.char, n C.size_t, exclude *C.uint64_t, nExclude C.size_t) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		if exclude == nil && nExclude > 0 {
			return fail(C.P2P_EINVAL, "exclude is NULL with a length")
		}
		if rc := checkCount(nExclude, "n_exclude"); rc != C.P2P_OK {
			return rc
		}
		data, rc := parseObject(s.P2P(), text, n)
		if rc != C.P2P_OK {
			return rc
		}
		return failSecure(s.SendToNodes(data, peersOf(s.P2P(), exclude, nExclude)))
	})
}

//export p2pgo_secure_send_ping
func p2pgo_secure_send_ping(h *C.p2p_node) C.int {
	return withSecure(h, func(s *secure.Node) C.int { return failSecure(s.SendPing()) })
}

//export p2pgo_secure_send_discovery
func p2pgo_secure_send_discovery(h *C.p2p_node) C.int {
	return withSecure(h, func(s *secure.Node) C.int { return failSecure(s.SendDiscovery()) })
}

//export p2pgo_secure_check_message
func p2pgo_secure_check_message(text *C.char, n C.size_t, reject *C.int) (rc C.int) {
	defer guard(&rc)
	if reject != nil {
		*reject = 0
	}
	if forked() {
		return failForked()
	}
	if text == nil && n > 0 {
		return fail(C.P2P_EINVAL, "json is NULL with a length")
	}
	if uint64(n) > p2p.DefaultMaxFrameSize {
		return fail(C.P2P_ETOOBIG, "%d bytes of JSON are over the %d a node takes by default (P2P_LIMIT_MAX_FRAME_SIZE)", uint64(n), p2p.DefaultMaxFrameSize)
	}
	_, err := secure.Verify(goBytes(unsafe.Pointer(text), n))
	if err == nil {
		return C.P2P_OK
	}
	if reject != nil {
		*reject = C.int(rejectCode(secure.ReasonCode(err)))
	}
	return fail(C.P2P_EREJECTED, "%v", err)
}

//export p2pgo_secure_pin
func p2pgo_secure_pin(h *C.p2p_node, id, pemText *C.char) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		if id == nil {
			return fail(C.P2P_EINVAL, "id is NULL")
		}
		if pemText == nil {
			s.Unpin(C.GoString(id))
			return C.P2P_OK
		}
		pub, err := secure.ParsePublicKey(C.GoString(pemText))
		if err != nil {
			return fail(C.P2P_EINVAL, "not an RSA public key: %v", err)
		}
		s.Pin(C.GoString(id), pub)
		return C.P2P_OK
	})
}

// withSecure runs f with the secure node behind h.
func withSecure(h *C.p2p_node, f func(s *secure.Node) C.int) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if e.sec == nil {
			return fail(C.P2P_EINVAL, "not a secure node (made by p2p_node_new, not p2p_secure_node_new)")
		}
		return f(e.sec)
	})
}

func setKey(s *secure.Node, key *secure.Key) C.int {
	if err := s.SetKey(key); err != nil {
		return failErr(err)
	}
	return C.P2P_OK
}

// failSecure maps a secure node's error to its status code.
func failSecure(err error) C.int {
	switch {
	case err == nil:
		return C.P2P_OK
	case errors.Is(err, secure.ErrNoKey):
		return fail(C.P2P_EKEY, "%v", err)
	case errors.Is(err, secure.ErrCanonical):
		return fail(C.P2P_EINVAL, "%v", err)
	}
	return failErr(err)
}

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// parseJSON reads the caller's JSON text as Python's json.loads would.
// Text longer than the node's frame and decompressed limits is refused
// before a byte of it is read: no signed message of it could be sent.
func parseJSON(node *p2p.Node, text *C.char, n C.size_t) (any, C.int) {
	if text == nil {
		return nil, fail(C.P2P_EINVAL, "json is NULL")
	}
	limit := max(p2p.DefaultMaxFrameSize, p2p.DefaultMaxDecompressed)
	if node != nil { // without a node (p2p_secure_canonical_buf), the defaults
		l := node.Limits()
		limit = max(l.MaxFrameSize, l.MaxDecompressedSize)
	}
	if uint64(n) > uint64(limit) {
		return nil, fail(C.P2P_ETOOBIG, "%d bytes of JSON are over the limit of %d (P2P_LIMIT_MAX_FRAME_SIZE, P2P_LIMIT_MAX_DECOMPRESSED_SIZE)",
			uint64(n), limit)
	}
	v, err := secure.Parse(goBytes(unsafe.Pointer(text), n))
	if err != nil {
		return nil, fail(C.P2P_EINVAL, "%v", err)
	}
	return v, C.P2P_OK
}

// parseObject reads the caller's JSON text, which must be an object.
func parseObject(node *p2p.Node, text *C.char, n C.size_t) (map[string]any, C.int) {
	v, rc := parseJSON(node, text, n)
	if rc != C.P2P_OK {
		return nil, rc
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fail(C.P2P_EINVAL, "json is not a JSON object")
	}
	return obj, C.P2P_OK
}

// The codes of p2p_reject are secure.ReasonCode's: this constant does not
// compile (a negative uint) if any of them part.
const _ uint = -((C.P2P_REJECT_MALFORMED-1)*(C.P2P_REJECT_MALFORMED-1) +
	(C.P2P_REJECT_BAD_SIGNATURE-2)*(C.P2P_REJECT_BAD_SIGNATURE-2) +
	(C.P2P_REJECT_BAD_HASH-3)*(C.P2P_REJECT_BAD_HASH-3) +
	(C.P2P_REJECT_BAD_MESSAGE_ID-4)*(C.P2P_REJECT_BAD_MESSAGE_ID-4) +
	(C.P2P_REJECT_KEY_MISMATCH-5)*(C.P2P_REJECT_KEY_MISMATCH-5) +
	(C.P2P_REJECT_UNTRUSTED_KEY-6)*(C.P2P_REJECT_UNTRUSTED_KEY-6) +
	(C.P2P_REJECT_WEAK_KEY-7)*(C.P2P_REJECT_WEAK_KEY-7) +
	(C.P2P_REJECT_REPLAY-8)*(C.P2P_REJECT_REPLAY-8) +
	(C.P2P_REJECT_STALE-9)*(C.P2P_REJECT_STALE-9) +
	(C.P2P_REJECT_FUTURE-10)*(C.P2P_REJECT_FUTURE-10))

// allocator hands out C memory for an event's secure fields: malloc'd per
// event on the callback path, or a piece of the poll arena.
type allocator interface {
	alloc(n, align int) unsafe.Pointer
}

// cAllocator mallocs, and frees everything it handed out with free.
type cAllocator struct{ ptrs []unsafe.Pointer }

func (a *cAllocator) alloc(n, _ int) unsafe.Pointer {
	p := C.malloc(C.size_t(max(n, 1)))
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *cAllocator) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

// arenaAllocator places memory in an arena sized beforehand (secureSize).
type arenaAllocator struct {
	arena []byte
	off   *int
}

func (a *arenaAllocator) alloc(n, align int) unsafe.Pointer {
	*a.off = (*a.off + align - 1) &^ (align - 1)
	p := unsafe.Pointer(&a.arena[*a.off])
	*a.off += n
	return p
}

// size bounds the arena bytes fillSecure takes for s, alignment included.
func secureSize(s *secure.EventInfo) int {
	n := len(s.SenderID) + len(s.MsgType) + len(s.Reason) + 3
	if len(s.Nodes) > 0 {
		n += 8 + len(s.Nodes)*int(C.sizeof_p2p_discovered)
		for _, d := range s.Nodes {
			n += len(d.ID) + len(d.IP) + 2
		}
	}
	return n
}

func allocString(a allocator, s string) *C.char {
	p := a.alloc(len(s)+1, 1)
	b := unsafe.Slice((*byte)(p), len(s)+1)
	b[copy(b, s)] = 0
	return (*C.char)(p)
}

// fillSecure sets the secure fields of c from s, in memory from a.
func fillSecure(c *C.p2p_event, s *secure.EventInfo, a allocator) {
	c.sender_id = allocString(a, s.SenderID)
	c.msg_type = allocString(a, s.MsgType)
	c.reason = allocString(a, s.Reason)
	c.reject = rejectCode(s.Reject)
	if len(s.Nodes) == 0 {
		return
	}
	nodes := unsafe.Slice((*C.p2p_discovered)(a.alloc(len(s.Nodes)*int(C.sizeof_p2p_discovered), 8)), len(s.Nodes))
	for i, d := range s.Nodes {
		nodes[i] = C.p2p_discovered{id: allocString(a, d.ID), host: allocString(a, d.IP), port: C.int32_t(d.Port),
			direction: C.P2P_OUTBOUND}
		if d.Connection == "inbound" {
			nodes[i].direction = C.P2P_INBOUND
		}
	}
	c.nodes = &nodes[0]
	c.n_nodes = C.size_t(len(s.Nodes))
}

// ---- p2psecure's helpers and delegation (p2p_secure_* of the header's
// "Helpers" and "Delegation" parts) ----

// inBytes reads the caller's (pointer, length) argument; NULL is allowed
// for length 0.
func inBytes(p unsafe.Pointer, n C.size_t, name string) ([]byte, C.int) {
	if p == nil && n > 0 {
		return nil, fail(C.P2P_EINVAL, "%s is NULL with a length", name)
	}
	if uint64(n) > secure.MaxHelperSize {
		return nil, fail(C.P2P_ETOOBIG, "%s has %d bytes, more than the %d a helper takes", name, uint64(n), secure.MaxHelperSize)
	}
	return goBytes(p, n), C.P2P_OK
}

// createMessage signs the caller's JSON object as a message of the node.
func createMessage(s *secure.Node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	data, rc := parseObject(s.P2P(), text, n)
	if rc != C.P2P_OK {
		return rc
	}
	signed, err := s.CreateMessage(data)
	if err != nil {
		return failSecure(err)
	}
	return bufOut(out, signed)
}

// canonical gives p2psecure's canonical text of the caller's JSON.
func canonical(text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	v, rc := parseJSON(nil, text, n)
	if rc != C.P2P_OK {
		return rc
	}
	c, err := secure.Canonical(v)
	if err != nil {
		return fail(C.P2P_EINVAL, "%v", err)
	}
	return bufOut(out, c)
}

// nodeKey is the node's key pair, or P2P_EKEY before it has one.
func nodeKey(s *secure.Node) (*secure.Key, C.int) {
	if key := s.Key(); key != nil {
		return key, C.P2P_OK
	}
	return nil, fail(C.P2P_EKEY, "%v", secure.ErrNoKey)
}

// sign signs text with the node's key (base64).
func sign(s *secure.Node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	msg, rc := inBytes(unsafe.Pointer(text), n, "text")
	if rc != C.P2P_OK {
		return rc
	}
	key, rc := nodeKey(s)
	if rc != C.P2P_OK {
		return rc
	}
	sig, err := key.SignText(msg)
	if err != nil {
		return failErr(err)
	}
	return bufOut(out, []byte(sig))
}

// encrypt encrypts data to the public key in pemText (base64).
func encrypt(pemText *C.char, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	if pemText == nil {
		return fail(C.P2P_EINVAL, "pem is NULL")
	}
	plain, rc := inBytes(data, n, "data")
	if rc != C.P2P_OK {
		return rc
	}
	ct, err := secure.EncryptPEM(C.GoString(pemText), plain)
	if err != nil {
		return failCrypto(err)
	}
	return bufOut(out, ct)
}

// decrypt decrypts base64 text with the node's key.
func decrypt(s *secure.Node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	ct, rc := inBytes(unsafe.Pointer(text), n, "ciphertext")
	if rc != C.P2P_OK {
		return rc
	}
	key, rc := nodeKey(s)
	if rc != C.P2P_OK {
		return rc
	}
	plain, err := key.Decrypt(ct)
	if err != nil {
		return failCrypto(err)
	}
	return bufOut(out, plain)
}

// pad zero-pads data to the AES block size.
func pad(data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	in, rc := inBytes(data, n, "data")
	if rc != C.P2P_OK {
		return rc
	}
	return bufOut(out, secure.PadZero(in))
}

// aesRun runs an in-memory AES helper over the caller's secret (key or
// password) and data.
func aesRun(secret unsafe.Pointer, secretLen C.size_t, data unsafe.Pointer, n C.size_t,
	f func(secret, data []byte) ([]byte, error), out *C.p2p_buf) C.int {
	sec, rc := inBytes(secret, secretLen, "key or password")
	if rc != C.P2P_OK {
		return rc
	}
	in, rc := inBytes(data, n, "data")
	if rc != C.P2P_OK {
		return rc
	}
	b, err := f(sec, in)
	if err != nil {
		return failCrypto(err)
	}
	return bufOut(out, b)
}

// aesFileRun runs a helper that decrypts the file at path.
func aesFileRun(path *C.char, secret unsafe.Pointer, secretLen C.size_t,
	f func(path string, secret []byte) ([]byte, error), out *C.p2p_buf) C.int {
	if path == nil {
		return fail(C.P2P_EINVAL, "path is NULL")
	}
	sec, rc := inBytes(secret, secretLen, "key or password")
	if rc != C.P2P_OK {
		return rc
	}
	b, err := f(C.GoString(path), sec)
	if err != nil {
		return failFile(err)
	}
	return bufOut(out, b)
}

// failCrypto maps a helper's error to its status code: every one is about
// the caller's input (a key, a size, a ciphertext).
func failCrypto(err error) C.int {
	if err == nil {
		return C.P2P_OK
	}
	return fail(C.P2P_EINVAL, "%v", err)
}

// failFile maps a file helper's error: I/O is P2P_EKEY's "cannot read or
// write", as for key files; the rest as failCrypto.
func failFile(err error) C.int {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fail(C.P2P_EKEY, "%v", err)
	}
	return failCrypto(err)
}

//export p2pgo_secure_verify
func p2pgo_secure_verify(pemText *C.char, text *C.char, n C.size_t, signature *C.char) (rc C.int) {
	defer guard(&rc)
	if pemText == nil || signature == nil {
		return fail(C.P2P_EINVAL, "pem or signature is NULL")
	}
	msg, rc := inBytes(unsafe.Pointer(text), n, "text")
	if rc != C.P2P_OK {
		return rc
	}
	pub, err := secure.ParsePublicKey(C.GoString(pemText))
	if err != nil {
		return fail(C.P2P_EINVAL, "not an RSA public key: %v", err)
	}
	if !secure.VerifyText(pub, msg, C.GoString(signature)) {
		return fail(C.P2P_EREJECTED, "the signature does not verify")
	}
	return C.P2P_OK
}

//export p2pgo_secure_derive_key
func p2pgo_secure_derive_key(password unsafe.Pointer, pwLen C.size_t, salt unsafe.Pointer, saltLen C.size_t, key unsafe.Pointer, keyLen C.size_t) (rc C.int) {
	defer guard(&rc)
	pw, rc := inBytes(password, pwLen, "password")
	if rc != C.P2P_OK {
		return rc
	}
	sa, rc := inBytes(salt, saltLen, "salt")
	if rc != C.P2P_OK {
		return rc
	}
	if key == nil {
		return fail(C.P2P_EINVAL, "key is NULL")
	}
	k, err := secure.DeriveKey(pw, sa, int(keyLen))
	if err != nil {
		return fail(C.P2P_EINVAL, "%v", err)
	}
	copy(goBytes(key, keyLen), k)
	return C.P2P_OK
}

// aesFileWrite runs one of the helpers that encrypt into a file.
func aesFileWrite(path *C.char, secret unsafe.Pointer, secretLen C.size_t, data unsafe.Pointer, n C.size_t,
	f func(path string, secret, data []byte) error) (rc C.int) {
	defer guard(&rc)
	if path == nil {
		return fail(C.P2P_EINVAL, "path is NULL")
	}
	sec, rc := inBytes(secret, secretLen, "key or password")
	if rc != C.P2P_OK {
		return rc
	}
	in, rc := inBytes(data, n, "data")
	if rc != C.P2P_OK {
		return rc
	}
	return failFile(f(C.GoString(path), sec, in))
}

//export p2pgo_secure_aes_encrypt_file
func p2pgo_secure_aes_encrypt_file(path *C.char, key unsafe.Pointer, keyLen C.size_t, data unsafe.Pointer, n C.size_t) C.int {
	return aesFileWrite(path, key, keyLen, data, n, secure.EncryptAESFile)
}

//export p2pgo_secure_aes_encrypt_file_pw
func p2pgo_secure_aes_encrypt_file_pw(path *C.char, password unsafe.Pointer, pwLen C.size_t, data unsafe.Pointer, n C.size_t) C.int {
	return aesFileWrite(path, password, pwLen, data, n, secure.EncryptAESFilePassword)
}

//export p2pgo_secure_set_delegate
func p2pgo_secure_set_delegate(h *C.p2p_node, types C.int) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		if types < 0 {
			return fail(C.P2P_EINVAL, "delegate types %d", int(types))
		}
		if err := s.SetDelegate(secure.Delegate(types)); err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		return C.P2P_OK
	})
}

// The p2p_delegate bits are secure.Delegate's.
const _ uint = -((C.P2P_DELEGATE_PING-uint(secure.DelegatePing))*(C.P2P_DELEGATE_PING-uint(secure.DelegatePing)) +
	(C.P2P_DELEGATE_PONG-uint(secure.DelegatePong))*(C.P2P_DELEGATE_PONG-uint(secure.DelegatePong)) +
	(C.P2P_DELEGATE_DISCOVERY-uint(secure.DelegateDiscovery))*(C.P2P_DELEGATE_DISCOVERY-uint(secure.DelegateDiscovery)) +
	(C.P2P_DELEGATE_DISCOVERY_ANSWER-uint(secure.DelegateDiscoveryAnswer))*(C.P2P_DELEGATE_DISCOVERY_ANSWER-uint(secure.DelegateDiscoveryAnswer)))

//export p2pgo_secure_handle
func p2pgo_secure_handle(h *C.p2p_node, peer C.uint64_t, step C.int, text *C.char, n C.size_t) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		data, rc := inBytes(unsafe.Pointer(text), n, "json")
		if rc != C.P2P_OK {
			return rc
		}
		m, err := secure.ParseMessage(data)
		if err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		p, ok := s.P2P().PeerByHandle(uint64(peer))
		if !ok && step != C.P2P_STEP_RELAY_DISCOVERY_ANSWER {
			return fail(C.P2P_ENOPEER, "no peer %d on this node", uint64(peer))
		}
		var done bool
		switch step {
		case C.P2P_STEP_RECEIVED_PING:
			err = s.ReceivedPing(p, m)
		case C.P2P_STEP_SEND_PONG:
			err = s.SendPong(p, m.Fields["timestamp"])
		case C.P2P_STEP_RECEIVED_PONG:
			err = s.ReceivedPong(p, m)
		case C.P2P_STEP_RECEIVED_DISCOVERY:
			err = s.ReceivedDiscovery(p, m)
		case C.P2P_STEP_ROUTE_DISCOVERY:
			if done, err = s.RouteDiscovery(p, m); err == nil && !done {
				return fail(C.P2P_EALREADY, "a discovery seen before, our own, or the routing table is full")
			}
		case C.P2P_STEP_SEND_DISCOVERY_ANSWER:
			err = s.SendDiscoveryAnswer(p, m)
		case C.P2P_STEP_RELAY_DISCOVERY_ANSWER:
			if done, err = s.RelayDiscoveryAnswer(m); err == nil && !done {
				return fail(C.P2P_ENOTFOUND, "not an answer to a discovery this node forwarded")
			}
		default:
			return fail(C.P2P_EINVAL, "unknown step %d", int(step))
		}
		if err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		return C.P2P_OK
	})
}
