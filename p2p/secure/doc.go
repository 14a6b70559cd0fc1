// Package secure is a p2p node whose messages are signed and checked, on
// the wire format of the Python package p2psecure's SecureNode, so that it
// exchanges messages with SecureNode peers in both directions.
//
// A secure message is a JSON object built from an application dict: the
// sender adds _mcs, _mcr, _id and _timestamp, then _message_id = H(message),
// _hash = H(message), _signature (base64 RSASSA-PKCS1-v1_5 with SHA-512 over
// C(message)) and _public_key (PEM). C is Python's
// json.dumps(obj, sort_keys=True), reproduced byte for byte by Canonical,
// and H the hex SHA-512 of C (Hash). Sign and Verify do that alone; Node
// wraps a p2p.Node, signs what it sends, checks what it receives and
// answers ping and discovery:
//
//	key, err := secure.GenerateKey(0) // RSA 4096, or secure.LoadKey(path, password)
//	n, err := secure.New(secure.Config{Config: p2p.Config{Host: "127.0.0.1"}}, key, myHandler)
//	n.Start()
//	n.Connect("127.0.0.1", 8002, false)
//	n.SendMessage("hello")
//	n.Stop()
//
// # What the reference lacks, and this node adds
//
// A received message that is not JSON, lacks a field, has a field of the
// wrong type or fails a check is rejected: the handler's
// NodeMessageRejected gets it with the reason, a debug line is written, and
// the connection stays up. Beyond the reference's three checks (signature,
// _hash, _message_id), two more are on by default:
//
//   - Key pinning. The public key travels in each message, so anyone could
//     sign as any _id. With KeyPolicy TrustOnFirstUse (the default) the first
//     key that verifies for a node id is pinned and any other key for that
//     id is rejected (ErrKeyMismatch); the node's own id is pinned to its own
//     key. Config.TrustedKeys pins keys from the start, and KeyPolicy
//     TrustedKeysOnly accepts no other ids. Keys under Config.MinKeyBits
//     (2048) are rejected. NoPinning restores the reference's behaviour.
//   - Replay window. A message whose _timestamp is older than
//     Config.ReplayWindow (5 minutes) or more than Config.MaxClockSkew (1
//     minute) ahead of our clock is rejected, and so is a _message_id that
//     was accepted before (ids are remembered for the window and the skew).
//     A negative ReplayWindow turns both off. Peers need roughly synchronised
//     clocks.
//
// Discovery differs from the reference in three ways: a discovery is known
// by its origin and timestamp (not the origin alone, which makes the
// reference drop every later discovery of an origin); an answer is relayed
// back to the origin unchanged, so the origin can check who answered
// (the reference replaces it by its own list); and inbound peers are listed
// with their own listening port (the reference writes its own).
//
// # Delegating ping, pong and discovery
//
// A p2psecure subclass may override received_ping, send_pong,
// received_pong, received_discovery, send_discovery_answer and
// received_discovery_answer. Node.SetDelegate hands the verified messages
// of those types to the handler's NodeSecureMessage instead; the node's
// own handling is there to call step by step: ReceivedPing, SendPong,
// ReceivedPong, ReceivedDiscovery (= RouteDiscovery + SendDiscoveryAnswer),
// ReceivedDiscoveryAnswer (= NodeDiscoveryAnswer or RelayDiscoveryAnswer).
// ParseMessage reads such a message back from its JSON text.
//
// # Helpers
//
// The reference's other helpers, in its formats, so that each side reads
// what the other writes:
//
//   - Encrypt, EncryptPEM, Key.Decrypt: RSAES-PKCS1-v1_5 to a public key,
//     the ciphertext base64 (encrypt, decrypt). Weak, as the reference.
//   - Key.SignText, Key.SignData, VerifyText, VerifyData: RSASSA-PKCS1-v1_5
//     over SHA-512 of text (or of Canonical(data)), base64 (sign,
//     sign_data, verify, verify_data).
//   - DeriveKey: PBKDF2-HMAC-SHA1, 1000 iterations, PyCryptodome's defaults
//     (encryption_key_from_password).
//   - PadZero, EncryptAES, DecryptAES: AES-CBC with 1 to 16 zero bytes of
//     padding, iv(16) + ciphertext; decryption strips every trailing zero
//     (encrypt_aes_pad, encrypt_aes, decrypt_aes). No integrity: a wrong
//     key gives garbage, not an error.
//   - EncryptAESPassword, DecryptAESPassword: salt(16) + iv(16) +
//     AES-256-CBC under DeriveKey(password, salt, 32), the plaintext
//     zero-padded twice as the reference does (encrypt_aes_pw,
//     decrypt_aes_pw); the *File variants write (mode 0600, atomically) and
//     read files of those bytes (encrypt_aes_file, ...).
//   - Key.PrivateKeyPEM: PKCS#1 PEM as PyCryptodome exports it
//     (get_private_key).
//
// # Key files
//
// LoadKey reads the reference's key files: salt(16) + iv(16) +
// AES-256-CBC(PEM padded with zero bytes), the AES key being
// PBKDF2-HMAC-SHA1(password, salt, 1000 iterations, 32 bytes), the PEM
// itself passphrase-protected as PyCryptodome writes it (encrypted PKCS#8
// with PBES2, or legacy "Proc-Type: 4,ENCRYPTED" PEM); passwords are
// Latin-1 as PyCryptodome encodes them. It also reads plain PEM files and
// its own format. SaveReference writes the reference's format.
//
// Save writes, with a password, this format (all integers big-endian):
//
//	"P2PNKEY\x01"              8 bytes, magic and version
//	iterations                 uint32, PBKDF2 iterations (600000)
//	salt                       16 bytes
//	nonce                      12 bytes
//	AES-256-GCM(PKCS#8 DER)    sealed with the key PBKDF2-HMAC-SHA256(
//	                           UTF-8 password, salt, iterations, 32 bytes),
//	                           the 40 bytes before it as additional data
//
// and without one a PEM PKCS#8 file. Files are written with mode 0600.
//
// # Canonical JSON
//
// Parse reads JSON as Python's json.loads does (integers of any size, a
// number with '.', 'e' or 'E' is a float, NaN and Infinity, lone surrogate
// escapes) and Canonical writes it back as json.dumps(sort_keys=True):
// numbers survive parse and re-serialisation unchanged, which the
// receiver's hash checks depend on.
package secure
