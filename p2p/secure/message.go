package secure

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
)

// The fields create_message adds to a message.
const (
	FieldType      = "_type"
	FieldSent      = "_mcs" // the sender's count of sent messages
	FieldReceived  = "_mcr" // the sender's count of received messages
	FieldID        = "_id"
	FieldTimestamp = "_timestamp"
	FieldMessageID = "_message_id"
	FieldHash      = "_hash"
	FieldSignature = "_signature"
	FieldPublicKey = "_public_key"
)

// Why a message was rejected. The error handed to Handler.NodeMessageRejected
// wraps one of these; test with errors.Is.
var (
	// ErrMalformed: not a JSON object, or a field is missing or of the wrong
	// type (including the fields of ping, pong and discovery messages).
	ErrMalformed = errors.New("secure: malformed message")
	// ErrBadSignature: _signature does not verify with _public_key.
	ErrBadSignature = errors.New("secure: bad signature")
	// ErrBadHash: _hash is not the hash of the message.
	ErrBadHash = errors.New("secure: bad hash")
	// ErrBadMessageID: _message_id is not the hash of the message.
	ErrBadMessageID = errors.New("secure: bad message id")
	// ErrKeyMismatch: the key is not the one pinned for the sender's _id.
	ErrKeyMismatch = errors.New("secure: public key differs from the one pinned for this node id")
	// ErrUntrustedKey: the sender's _id has no trusted key (KeyPolicy
	// TrustedKeysOnly), or the pin store is full.
	ErrUntrustedKey = errors.New("secure: no trusted key for this node id")
	// ErrWeakKey: the public key is smaller than Config.MinKeyBits.
	ErrWeakKey = errors.New("secure: public key too small")
	// ErrReplay: a message with this _message_id was accepted before.
	ErrReplay = errors.New("secure: replayed message")
	// ErrStale: _timestamp is older than the replay window.
	ErrStale = errors.New("secure: message too old")
	// ErrFuture: _timestamp is further ahead than the allowed clock skew.
	ErrFuture = errors.New("secure: message from the future")
)

// Message is a verified secure message.
type Message struct {
	// Type is the _type field ("message", "ping", ...); empty when the
	// message has none or it is not a string.
	Type string
	// ID is the sender's node id (_id), which need not be the id of the
	// peer that passed the message on.
	ID string
	// Timestamp is _timestamp, seconds since the Unix epoch.
	Timestamp float64
	// MessageID is _message_id.
	MessageID string
	// PublicKey is the sender's key from _public_key.
	PublicKey *rsa.PublicKey
	// Fields is the whole message as Parse reads it (numbers are
	// json.Number), including the underscore fields.
	Fields map[string]any
	// Payload is the message's JSON text as received.
	Payload []byte
}

// Get returns the field key of the message.
func (m *Message) Get(key string) (any, bool) {
	v, ok := m.Fields[key]
	return v, ok
}

// Sign builds a signed message from data as the reference's create_message
// does, and returns its JSON text, ready to send:
// the underscore fields of data are dropped, _mcs, _mcr, _id and _timestamp
// (ts, seconds since the epoch) added, then _message_id = H(message),
// _hash = H(message), _signature = base64 RSASSA-PKCS1-v1_5 SHA-512 over
// C(message), and _public_key. data itself is not changed. The text is
// Canonical(message), which any JSON reader accepts.
func Sign(key *Key, id string, data map[string]any, mcs, mcr uint64, ts float64) ([]byte, error) {
	if key == nil {
		return nil, errors.New("secure: sign: no key")
	}
	if math.IsNaN(ts) || math.IsInf(ts, 0) {
		return nil, fmt.Errorf("secure: sign: timestamp %v", ts)
	}
	d := maps.Clone(data)
	if d == nil {
		d = make(map[string]any, 10)
	}
	for _, f := range []string{FieldID, FieldTimestamp, FieldMessageID, FieldHash, FieldSignature, FieldPublicKey} {
		delete(d, f)
	}
	d[FieldSent] = mcs
	d[FieldReceived] = mcr
	d[FieldID] = id
	d[FieldTimestamp] = ts
	var err error
	if d[FieldMessageID], err = Hash(d); err != nil {
		return nil, fmt.Errorf("secure: sign: %w", err)
	}
	if d[FieldHash], err = Hash(d); err != nil {
		return nil, fmt.Errorf("secure: sign: %w", err)
	}
	c, err := Canonical(d)
	if err != nil {
		return nil, fmt.Errorf("secure: sign: %w", err)
	}
	digest := sha512.Sum512(c)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.priv, crypto.SHA512, digest[:])
	if err != nil {
		return nil, fmt.Errorf("secure: sign: %w", err)
	}
	d[FieldSignature] = base64.StdEncoding.EncodeToString(sig)
	d[FieldPublicKey] = key.pubPEM
	out, err := Canonical(d)
	if err != nil {
		return nil, fmt.Errorf("secure: sign: %w", err)
	}
	return out, nil
}

// Verify checks a received message as the reference's check_message does:
// the signature over C(message without _public_key and _signature), then
// _hash = H(that without _hash), then _message_id = H(that without
// _message_id). It also requires _id to be a string and _timestamp a finite
// number. It checks nothing about who sent it: see Node for key pinning and
// replay detection.
func Verify(payload []byte) (*Message, error) {
	m, err := verify(payload)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// parseObject parses payload, which must be a JSON object.
func parseObject(payload []byte) (map[string]any, error) {
	v, err := Parse(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return fields, nil
}

// verify is Verify, and on failure also returns what it read of the message
// (nil when it is not a JSON object), for the _id it claims.
func verify(payload []byte) (*Message, error) {
	fields, err := parseObject(payload)
	if err != nil {
		return nil, err
	}
	str := func(name string) (string, error) {
		s, ok := fields[name].(string)
		if !ok {
			return "", fmt.Errorf("%w: %s missing or not a string", ErrMalformed, name)
		}
		return s, nil
	}
	m := &Message{Fields: fields, Payload: payload}
	m.Type, _ = fields[FieldType].(string)
	m.ID, _ = fields[FieldID].(string) // claimed; required below
	sigText, err := str(FieldSignature)
	if err != nil {
		return m, err
	}
	pubText, err := str(FieldPublicKey)
	if err != nil {
		return m, err
	}
	hash, err := str(FieldHash)
	if err != nil {
		return m, err
	}
	if m.MessageID, err = str(FieldMessageID); err != nil {
		return m, err
	}
	if m.ID, err = str(FieldID); err != nil {
		return m, err
	}
	ts, ok := number(fields[FieldTimestamp])
	if !ok || math.IsNaN(ts) || math.IsInf(ts, 0) {
		return m, fmt.Errorf("%w: %s missing or not a finite number", ErrMalformed, FieldTimestamp)
	}
	m.Timestamp = ts
	if m.PublicKey, err = ParsePublicKey(pubText); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrMalformed, FieldPublicKey, err)
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil {
		return m, fmt.Errorf("%w: %s is not base64", ErrBadSignature, FieldSignature)
	}

	rest := maps.Clone(fields)
	delete(rest, FieldSignature)
	delete(rest, FieldPublicKey)
	c, err := Canonical(rest)
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	digest := sha512.Sum512(c)
	if err := rsa.VerifyPKCS1v15(m.PublicKey, crypto.SHA512, digest[:], sig); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	delete(rest, FieldHash)
	if h, err := Hash(rest); err != nil || h != hash {
		return m, ErrBadHash
	}
	delete(rest, FieldMessageID)
	if h, err := Hash(rest); err != nil || h != m.MessageID {
		return m, ErrBadMessageID
	}
	return m, nil
}

// ParseMessage reads a message's JSON text without checking it: Fields,
// Payload, and Type, ID, Timestamp and MessageID where they are present and
// of their types; PublicKey is nil. It is for a message that was checked
// already, such as a delegated one (see Delegate) that an application
// hands back to the node's own handling. It fails only for text that is
// not a JSON object.
func ParseMessage(payload []byte) (*Message, error) {
	fields, err := parseObject(payload)
	if err != nil {
		return nil, err
	}
	m := &Message{Fields: fields, Payload: payload}
	m.Type, _ = fields[FieldType].(string)
	m.ID, _ = fields[FieldID].(string)
	m.MessageID, _ = fields[FieldMessageID].(string)
	m.Timestamp, _ = number(fields[FieldTimestamp])
	return m, nil
}

// ParsePublicKey reads an RSA public key in PEM, SubjectPublicKeyInfo
// ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKey(text string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		var ok bool
		if pub, ok = k.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("%T is not an RSA key", k)
		}
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		pub = k
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if pub.N.BitLen() > maxKeyBits {
		return nil, fmt.Errorf("key of %d bits is over %d", pub.N.BitLen(), maxKeyBits)
	}
	return pub, nil
}

// number reads a JSON number as Python would use it: a float (an int is
// converted exactly where it fits).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	case float64:
		return x, true
	}
	return 0, false
}
