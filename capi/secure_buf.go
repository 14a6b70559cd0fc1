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
	"unicode/utf8"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p/secure"
)

// The secure node's functions that hand out a p2p_buf (keys, signed
// messages, p2psecure's helpers), the canonical hash and the password rule,
// documented in include/p2pnode.h.

//export p2pgo_secure_public_key_buf
func p2pgo_secure_public_key_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int {
		key, rc := nodeKey(s)
		if rc != C.P2P_OK {
			return rc
		}
		return bufOut(out, []byte(key.PublicKeyPEM()))
	})
}

//export p2pgo_secure_private_key_buf
func p2pgo_secure_private_key_buf(h *C.p2p_node, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int {
		key, rc := nodeKey(s)
		if rc != C.P2P_OK {
			return rc
		}
		return bufOut(out, []byte(key.PrivateKeyPEM()))
	})
}

//export p2pgo_secure_pinned_key_buf
func p2pgo_secure_pinned_key_buf(h *C.p2p_node, id *C.char, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int {
		if id == nil {
			return fail(C.P2P_EINVAL, "id is NULL")
		}
		pub, ok := s.PinnedKey(C.GoString(id))
		if !ok {
			return fail(C.P2P_ENOTFOUND, "no key is pinned for that id")
		}
		text, err := secure.PublicKeyPEM(pub)
		if err != nil {
			return failErr(err)
		}
		return bufOut(out, []byte(text))
	})
}

//export p2pgo_secure_create_message_buf
func p2pgo_secure_create_message_buf(h *C.p2p_node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int { return createMessage(s, text, n, out) })
}

//export p2pgo_secure_canonical_buf
func p2pgo_secure_canonical_buf(text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withBuf(out, func() C.int { return canonical(text, n, out) })
}

//export p2pgo_secure_hash
func p2pgo_secure_hash(text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withBuf(out, func() C.int {
		v, rc := parseJSON(nil, text, n)
		if rc != C.P2P_OK {
			return rc
		}
		hash, err := secure.Hash(v)
		if err != nil {
			return fail(C.P2P_EINVAL, "%v", err)
		}
		return bufOut(out, []byte(hash))
	})
}

//export p2pgo_secure_password
func p2pgo_secure_password(text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withBuf(out, func() C.int {
		b, rc := inBytes(unsafe.Pointer(text), n, "text")
		if rc != C.P2P_OK {
			return rc
		}
		if !utf8.Valid(b) {
			return fail(C.P2P_EINVAL, "the password is not UTF-8 text")
		}
		return bufOut(out, secure.PasswordBytes(string(b)))
	})
}

//export p2pgo_secure_key_load_bytes
func p2pgo_secure_key_load_bytes(h *C.p2p_node, path *C.char, password unsafe.Pointer, n C.size_t) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		pw, rc := inBytes(password, n, "password")
		if rc != C.P2P_OK {
			return rc
		}
		text := C.CString(secure.PasswordText(pw))
		defer C.free(unsafe.Pointer(text))
		return p2pgo_secure_key_load(h, path, text)
	})
}

//export p2pgo_secure_key_save_bytes
func p2pgo_secure_key_save_bytes(h *C.p2p_node, path *C.char, password unsafe.Pointer, n C.size_t, format C.int) C.int {
	return withSecure(h, func(s *secure.Node) C.int {
		pw, rc := inBytes(password, n, "password")
		if rc != C.P2P_OK {
			return rc
		}
		text := C.CString(secure.PasswordText(pw))
		defer C.free(unsafe.Pointer(text))
		return p2pgo_secure_key_save(h, path, text, format)
	})
}

//export p2pgo_secure_sign_buf
func p2pgo_secure_sign_buf(h *C.p2p_node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int { return sign(s, text, n, out) })
}

//export p2pgo_secure_encrypt_buf
func p2pgo_secure_encrypt_buf(pemText *C.char, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return withBuf(out, func() C.int { return encrypt(pemText, data, n, out) })
}

//export p2pgo_secure_decrypt_buf
func p2pgo_secure_decrypt_buf(h *C.p2p_node, text *C.char, n C.size_t, out *C.p2p_buf) C.int {
	return withSecureBuf(h, out, func(s *secure.Node) C.int { return decrypt(s, text, n, out) })
}

//export p2pgo_secure_aes_pad_buf
func p2pgo_secure_aes_pad_buf(data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return withBuf(out, func() C.int { return pad(data, n, out) })
}

// aesBuf runs an in-memory AES helper into *out.
func aesBuf(secret unsafe.Pointer, secretLen C.size_t, data unsafe.Pointer, n C.size_t, out *C.p2p_buf,
	f func(secret, data []byte) ([]byte, error)) C.int {
	return withBuf(out, func() C.int { return aesRun(secret, secretLen, data, n, f, out) })
}

//export p2pgo_secure_aes_encrypt_buf
func p2pgo_secure_aes_encrypt_buf(key unsafe.Pointer, keyLen C.size_t, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return aesBuf(key, keyLen, data, n, out, secure.EncryptAES)
}

//export p2pgo_secure_aes_decrypt_buf
func p2pgo_secure_aes_decrypt_buf(key unsafe.Pointer, keyLen C.size_t, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return aesBuf(key, keyLen, data, n, out, secure.DecryptAES)
}

//export p2pgo_secure_aes_encrypt_pw_buf
func p2pgo_secure_aes_encrypt_pw_buf(password unsafe.Pointer, pwLen C.size_t, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return aesBuf(password, pwLen, data, n, out, secure.EncryptAESPassword)
}

//export p2pgo_secure_aes_decrypt_pw_buf
func p2pgo_secure_aes_decrypt_pw_buf(password unsafe.Pointer, pwLen C.size_t, data unsafe.Pointer, n C.size_t, out *C.p2p_buf) C.int {
	return aesBuf(password, pwLen, data, n, out, secure.DecryptAESPassword)
}

// aesFileBuf runs a helper that decrypts a file into *out.
func aesFileBuf(path *C.char, secret unsafe.Pointer, secretLen C.size_t, out *C.p2p_buf,
	f func(path string, secret []byte) ([]byte, error)) C.int {
	return withBuf(out, func() C.int { return aesFileRun(path, secret, secretLen, f, out) })
}

//export p2pgo_secure_aes_decrypt_file_buf
func p2pgo_secure_aes_decrypt_file_buf(path *C.char, key unsafe.Pointer, keyLen C.size_t, out *C.p2p_buf) C.int {
	return aesFileBuf(path, key, keyLen, out, secure.DecryptAESFile)
}

//export p2pgo_secure_aes_decrypt_file_pw_buf
func p2pgo_secure_aes_decrypt_file_pw_buf(path *C.char, password unsafe.Pointer, pwLen C.size_t, out *C.p2p_buf) C.int {
	return aesFileBuf(path, password, pwLen, out, secure.DecryptAESFilePassword)
}

// withSecureBuf is withSecure after checkBuf.
func withSecureBuf(h *C.p2p_node, out *C.p2p_buf, f func(s *secure.Node) C.int) C.int {
	if rc := checkBuf(out); rc != C.P2P_OK {
		return rc
	}
	return withSecure(h, f)
}
