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
	"crypto/ed25519"
	"errors"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/native"
)

// The native protocol's functions (0.4, issue 19): the node's identity key
// and its trust store (pins, allow-list), documented in include/p2pnode.h.

// encryptionModes maps p2p_encryption to the core's modes: an explicit
// table, never the order of the Go constants.
var encryptionModes = map[int64]p2p.Encryption{
	C.P2P_ENCRYPTION_PREFERRED: p2p.EncryptionPreferred,
	C.P2P_ENCRYPTION_OFF:       p2p.EncryptionOff,
	C.P2P_ENCRYPTION_REQUIRED:  p2p.EncryptionRequired,
}

// encryptionCode is the p2p_encryption of a core mode.
func encryptionCode(m p2p.Encryption) int64 {
	for c, mode := range encryptionModes {
		if mode == m {
			return c
		}
	}
	return C.P2P_ENCRYPTION_PREFERRED
}

// setEncryption is p2p_node_set_limit for P2P_LIMIT_ENCRYPTION.
func setEncryption(e *nodeEntry, v int64) C.int {
	mode, ok := encryptionModes[v]
	if !ok {
		return fail(C.P2P_EINVAL, "limit %d: %d is not a p2p_encryption (P2P_ENCRYPTION_PREFERRED .. P2P_ENCRYPTION_REQUIRED)",
			int(C.P2P_LIMIT_ENCRYPTION), v)
	}
	if err := e.node.SetEncryption(mode); err != nil {
		if errors.Is(err, p2p.ErrAlreadyStarted) {
			return fail(C.P2P_ESTATE, "%v", err)
		}
		return failErr(err)
	}
	return C.P2P_OK
}

// fillPeerKey sets a p2p_peer's 0.4 fields from a connected peer.
func fillPeerKey(f *C.p2p_peer, p *p2p.Peer) {
	if !p.Encrypted() {
		return
	}
	f.encrypted = 1
	key := p.PeerKey()
	for i := range f.key {
		if i < len(key) {
			f.key[i] = C.uint8_t(key[i])
		}
	}
}

// setIdentity makes key the node's identity, before start.
func setIdentity(e *nodeEntry, key ed25519.PrivateKey) C.int {
	if err := e.node.SetIdentity(key); err != nil {
		if errors.Is(err, p2p.ErrAlreadyStarted) {
			return fail(C.P2P_ESTATE, "%v", err)
		}
		return failErr(err)
	}
	return C.P2P_OK
}

//export p2pgo_node_set_identity
func p2pgo_node_set_identity(h *C.p2p_node, pem *C.uint8_t, n C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if pem == nil {
			return fail(C.P2P_EINVAL, "pem is NULL")
		}
		if n > C.P2P_MAX_PRIVATE_KEY_PEM_LEN {
			return fail(C.P2P_EINVAL, "pem of %d bytes is over P2P_MAX_PRIVATE_KEY_PEM_LEN (%d)", uint64(n), C.P2P_MAX_PRIVATE_KEY_PEM_LEN)
		}
		key, err := native.ParseIdentity(C.GoBytes(unsafe.Pointer(pem), C.int(n)))
		if err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		return setIdentity(e, key)
	})
}

//export p2pgo_node_identity_buf
func p2pgo_node_identity_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int {
		pem, err := native.MarshalIdentity(e.node.IdentityKey())
		if err != nil {
			return fail(C.P2P_EINTERNAL, "%v", err)
		}
		rc := bufOut(out, pem)
		clear(pem)
		return rc
	})
}

//export p2pgo_node_identity_load
func p2pgo_node_identity_load(h *C.p2p_node, path *C.char) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if path == nil {
			return fail(C.P2P_EINVAL, "path is NULL")
		}
		key, err := native.LoadIdentity(C.GoString(path))
		if err != nil {
			return fail(C.P2P_EKEY, "%v", err)
		}
		return setIdentity(e, key)
	})
}

//export p2pgo_node_identity_save
func p2pgo_node_identity_save(h *C.p2p_node, path *C.char) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		if path == nil {
			return fail(C.P2P_EINVAL, "path is NULL")
		}
		if err := native.SaveIdentity(C.GoString(path), e.node.IdentityKey()); err != nil {
			return fail(C.P2P_EKEY, "%v", err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_public_key_buf
func p2pgo_node_public_key_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int { return bufOut(out, e.node.PublicKey()) })
}

// nodeIDArg copies an id argument of id_len bytes, checked before a byte
// is read.
func nodeIDArg(id *C.char, n C.size_t) (string, C.int) {
	if id == nil {
		return "", fail(C.P2P_EINVAL, "id is NULL")
	}
	if n > C.P2P_MAX_ID_LEN {
		return "", fail(C.P2P_EINVAL, "id of %d bytes is over P2P_MAX_ID_LEN (%d)", uint64(n), C.P2P_MAX_ID_LEN)
	}
	return C.GoStringN(id, C.int(n)), C.P2P_OK
}

// publicKeyArg copies a raw ed25519 public key argument.
func publicKeyArg(key *C.uint8_t, n C.size_t) (ed25519.PublicKey, C.int) {
	if key == nil {
		return nil, fail(C.P2P_EINVAL, "key is NULL")
	}
	if n != ed25519.PublicKeySize {
		return nil, fail(C.P2P_EINVAL, "key_len %d is not P2P_KEY_LEN (%d, a raw ed25519 public key)", uint64(n), ed25519.PublicKeySize)
	}
	return C.GoBytes(unsafe.Pointer(key), C.int(n)), C.P2P_OK
}

//export p2pgo_node_pin
func p2pgo_node_pin(h *C.p2p_node, id *C.char, idLen C.size_t, key *C.uint8_t, keyLen C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		s, rc := nodeIDArg(id, idLen)
		if rc != C.P2P_OK {
			return rc
		}
		k, rc := publicKeyArg(key, keyLen)
		if rc != C.P2P_OK {
			return rc
		}
		if err := e.node.PinPeer(s, k); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}

//export p2pgo_node_pinned_key_buf
func p2pgo_node_pinned_key_buf(h *C.p2p_node, id *C.char, idLen C.size_t, out *C.p2p_buf) C.int {
	return withNodeBuf(h, out, func(e *nodeEntry) C.int {
		s, rc := nodeIDArg(id, idLen)
		if rc != C.P2P_OK {
			return rc
		}
		k, ok := e.node.PinnedKey(s)
		if !ok {
			return fail(C.P2P_ENOTFOUND, "no key pinned for id %q", s)
		}
		return bufOut(out, k)
	})
}

//export p2pgo_node_allow
func p2pgo_node_allow(h *C.p2p_node, id *C.char, idLen C.size_t, key *C.uint8_t, keyLen C.size_t) C.int {
	return withNode(h, func(e *nodeEntry) C.int {
		s := ""
		if id != nil {
			var rc C.int
			if s, rc = nodeIDArg(id, idLen); rc != C.P2P_OK {
				return rc
			}
		}
		k, rc := publicKeyArg(key, keyLen)
		if rc != C.P2P_OK {
			return rc
		}
		if err := e.node.AllowPeer(s, k); err != nil {
			return failErr(err)
		}
		return C.P2P_OK
	})
}
