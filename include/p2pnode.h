/*
 * p2pnode.h - the C ABI of p2pnode, a peer-to-peer node library.
 *
 * A node listens on TCP, dials other nodes, sends them messages and reports
 * events, speaking the wire format of the Python package p2pnetwork, so that
 * programs in C, C++, C#, Python and Go - and unmodified p2pnetwork nodes -
 * form one network. The engine is written in Go and built into
 * libp2pnode.so (libp2pnode.dll on Windows); this header is its contract.
 *
 * QUICK START
 *
 *     static int on_event(void *user, const p2p_event *ev) {
 *         if (ev->type == P2P_EVENT_MESSAGE)
 *             printf("%s says %.*s\n", ev->peer_id, (int)ev->data_len, (const char *)ev->data);
 *         return 1;
 *     }
 *     p2p_node *node;
 *     p2p_node_new("127.0.0.1", 8001, NULL, 0, &node);
 *     p2p_node_set_callback(node, on_event, NULL);
 *     p2p_node_start(node);
 *     uint64_t peer;
 *     p2p_node_connect(node, "127.0.0.1", 8002, 0, &peer);
 *     p2p_node_send(node, peer, "hello", 5, P2P_COMPRESSION_NONE);
 *     ...
 *     p2p_node_free(node);            (stops the node first if needed)
 *
 * RULES THAT HOLD FOR EVERY FUNCTION
 *
 * Status. Every function returns P2P_OK (0) or a negative P2P_E* code, except
 * p2p_version, p2p_strerror and the name functions (p2p_event_name...), which
 * return static strings, and p2p_buf_free, which returns nothing. A failing call
 * also leaves a message for the calling thread, read with p2p_errmsg. No argument, however bad (NULL, a freed node, an unknown peer, a
 * call after stop), crashes the process: it gets its code.
 *
 * Memory. Memory the caller passes in stays the caller's and is not kept
 * after the call returns. What the library returns is either a fixed-size
 * value written where the caller points, or library-owned memory (a p2p_buf,
 * below). Any size_t is a valid length or count: only what is written is
 * touched. Lengths of what the library must copy (payloads, info values,
 * ids, hosts) are checked against their limits before a byte is read.
 *
 * Threads. Every function may be called from any thread, including from
 * inside the event callback (send, connect, disconnect and stop included),
 * without deadlock. Events of one node are delivered in order, one at a
 * time, on one thread that the library owns and ends when the node stops.
 *
 * Blocking. Calls return promptly except: p2p_node_connect (dial and
 * handshake, bounded by P2P_LIMIT_DIAL_TIMEOUT_MS and
 * P2P_LIMIT_HANDSHAKE_TIMEOUT_MS), sends to a peer whose queue is full
 * under P2P_OVERFLOW_WAIT (bounded by P2P_LIMIT_SEND_TIMEOUT_MS; a stop of
 * the node or the loss of the peer ends the wait at once), p2p_node_stop and
 * p2p_node_free (until the node's threads are gone, the flushing of each
 * peer bounded by P2P_LIMIT_STOP_TIMEOUT_MS; see there), and p2p_node_poll
 * (its timeout). No call waits on another peer: a broadcast skips a full
 * one.
 *
 * Linking. Only one Go shared library can live in a process and it cannot be
 * unloaded. The library installs signal handlers of the Go runtime.
 *
 * Fork. The library's threads are not copied into a child that fork()
 * makes: in such a child (without exec) every function but p2p_version,
 * p2p_strerror, p2p_errmsg and p2p_last_error returns P2P_EFORK at once,
 * for the parent's nodes and for new ones alike, without entering the Go
 * runtime (whose threads the child lacks). The parent is unaffected.
 * p2p_buf_free and the name functions (p2p_event_name and the like) work
 * there too: they never enter the Go runtime.
 *
 * Library-owned memory (0.3). Everything variable-sized that a 0.3 function
 * hands out (ids, hosts, info values, keys, signed messages, peer lists,
 * the secure helpers' results) comes in a p2p_buf that the library
 * allocates and the caller releases with p2p_buf_free, whatever its
 * contents: one free function for all of them, no buffer to size, no retry
 * on P2P_ERANGE (which no function of 0.3.0 returns any more; the code
 * keeps its number).
 *
 * CHANGES FOR CALLERS IN 0.4.0
 *
 *   - Version 0.4.0; additive only: nothing was renumbered or removed.
 *   - The native protocol (issue 19): two p2pnode nodes speak TLS 1.3 with
 *     each other by default (P2P_ENCRYPTION_PREFERRED), p2pnetwork peers
 *     get the plaintext protocol as before. P2P_LIMIT_ENCRYPTION (19, a
 *     p2p_encryption), P2P_LIMIT_HEARTBEAT_INTERVAL_MS (20),
 *     P2P_LIMIT_HEARTBEAT_TIMEOUT_MS (21), P2P_LIMIT_NEGOTIATION_WAIT_MS
 *     (22); the identity (p2p_node_set_identity, p2p_node_identity_buf,
 *     p2p_node_identity_load, p2p_node_identity_save,
 *     p2p_node_public_key_buf) and trust (p2p_node_pin,
 *     p2p_node_pinned_key_buf, p2p_node_allow) functions; P2P_EREFUSED
 *     (-19), which p2p_node_connect returns for a refused peer (before 0.4
 *     such failures could not happen).
 *   - The network layer (issue 21): p2p_node_discover,
 *     p2p_node_known_peers_buf (p2p_peer entries, P2P_BUF_PEER),
 *     p2p_node_subscribe, p2p_node_unsubscribe, p2p_node_publish, and
 *     P2P_EVENT_TOPIC_MESSAGE (12, "node_topic_message") with p2p_ev's new
 *     topic and origin. The 0.2 paths (p2p_node_set_callback, p2p_node_poll,
 *     p2p_node_poll_batch) never deliver it: use p2p_node_set_handler or
 *     p2p_node_next. P2P_MAX_TOPIC_LEN.
 *   - p2p_ev grew at its end by topic, topic_len, origin, origin_len: a 0.3
 *     program gets its prefix, and p2p_node_next's stride is the caller's.
 *   - p2p_peer grew at its end by encrypted and key[P2P_KEY_LEN]: a
 *     program built with the 0.3 header gets its prefix filled, as the
 *     stability rules say; one that steps through peer arrays uses the
 *     library's size (P2P_EV_NODE), never its own sizeof.
 *   - Plaintext peers behave as in 0.3. Between two 0.4 nodes the counters
 *     count native frames (a length prefix instead of the EOT byte), and a
 *     compressed message travels as compressed bytes, not base64.
 *   - To keep 0.3's wire behaviour exactly, set P2P_LIMIT_ENCRYPTION to
 *     P2P_ENCRYPTION_OFF before p2p_node_start.
 *
 * STABILITY
 *
 * From 0.3 on: status codes and the numbers of every enum and #define are
 * never renumbered or reused (new ones are added at the end); a function's
 * prototype never changes (a new behaviour gets a new function); and a
 * struct the library fills or reads begins with its size (size_t size,
 * set by the caller to the sizeof it was built with: P2P_INIT(&s)) and only
 * ever grows at its end. The library reads and fills only the first size
 * bytes, so a program built with an older header gets the prefix it knows
 * filled, and one built with a newer header than the library's gets its
 * extra fields zeroed. A size smaller than the struct's 0.3 size is
 * P2P_EINVAL. p2p_buf alone has no size field: it is frozen as it is. The
 * core's enums cross the ABI through an explicit table, never by the order
 * of Go constants. The structs without a size field (p2p_event,
 * p2p_counters, p2p_secure_config, p2p_discovered) are the 0.2 interface,
 * kept as they are; their sized 0.3 twins are p2p_ev, p2p_stats and
 * p2p_secure_opts (see there).
 *
 * WHAT CHANGED IN 0.3
 *
 *   - Version 0.3.0. Nothing was renumbered, but two structs grew at their
 *     end: p2p_event by dropped and dropped_bytes
 *     (136 -> 152 bytes on 64-bit targets) and p2p_counters by the
 *     accounting (24 -> 160 bytes). A program that polls arrays of
 *     p2p_event or reads p2p_counters must be rebuilt with this header; the
 *     sized p2p_ev and p2p_stats spare it that from now on.
 *   - Overload and faults: P2P_EFORK (every call in a forked child), limits
 *     10-18 with p2p_overflow_policy, p2p_peer_counters, the stop timeout,
 *     and the drop counts in the disconnected event.
 *   - p2p_node_request_stop (asks and returns) and p2psecure's helpers
 *     (p2p_secure_encrypt_buf ... p2p_secure_handle).
 *   - p2p_buf and p2p_buf_free: library-owned results, returned by the
 *     _buf function of every result of variable size: p2p_node_id_buf,
 *     p2p_node_host_buf, p2p_node_peers_buf, p2p_peer_get_info_buf,
 *     p2p_secure_public_key_buf, p2p_secure_private_key_buf,
 *     p2p_secure_pinned_key_buf, p2p_secure_create_message_buf,
 *     p2p_secure_canonical_buf, p2p_secure_sign_buf, p2p_secure_encrypt_buf,
 *     p2p_secure_decrypt_buf, p2p_secure_aes_*_buf.
 *   - Removed (changes for callers in 0.3.0): the caller-buffer functions
 *     of 0.2 and of the 0.3 previews, which returned P2P_ERANGE when the
 *     buffer was short. Each has its replacement:
 *       p2p_last_error                  -> p2p_errmsg
 *       p2p_node_id, p2p_node_host      -> p2p_node_id_buf, p2p_node_host_buf
 *       p2p_node_peers                  -> p2p_node_peers_buf
 *       p2p_peer_id, p2p_peer_host      -> p2p_peer_facts
 *       p2p_peer_get_info               -> p2p_peer_get_info_buf
 *       p2p_secure_public_key, _private_key, _pinned_key, _create_message,
 *       _canonical, _sign, _encrypt, _decrypt, _aes_pad, _aes_encrypt,
 *       _aes_decrypt, _aes_encrypt_pw, _aes_decrypt_pw, _aes_decrypt_file,
 *       _aes_decrypt_file_pw            -> the same name ending in _buf
 *     Take the result from out->data / out->len and release it with
 *     p2p_buf_free; there is nothing to size and nothing to retry.
 *   - p2p_peer_facts: a peer's id, host, port and direction in one call, in
 *     a sized struct p2p_peer (P2P_INIT). p2p_peer_ping: the secure node's
 *     latency as a double.
 *   - Sized structs (size first, P2P_INIT) and the stability rules above.
 *     The sized event p2p_ev, delivered by p2p_node_set_handler (callback)
 *     or p2p_node_next (polling; payloads of a batch in one block).
 *   - Names: p2p_event_name (p2pnetwork's event method names),
 *     p2p_reject_name, p2p_kind_name, p2p_compression_name and p2p_compression_from_name.
 *   - Secure: p2p_secure_hash (the _hash p2psecure computes, SHA-512 hex of
 *     the canonical text) and p2p_secure_password (the bytes a text
 *     password stands for: Latin-1, as PyCryptodome, else UTF-8), with
 *     p2p_secure_key_load_bytes and p2p_secure_key_save_bytes for passwords
 *     given as bytes. The secure event numbers (9, 10, 11) are unchanged;
 *     the core (p2p/secure) defines them and the ABI maps them.
 *   - The Go core gained a pull API (p2p.NewPolling, Node.Poll, with
 *     Node.Park for the secure node's events); p2p_node_poll, _poll_batch,
 *     p2p_node_next and p2p_node_reply are built on it and keep their
 *     contract.
 */
#ifndef P2PNODE_H
#define P2PNODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* memset, for P2P_INIT */

#ifdef __cplusplus
extern "C" {
#endif

#define P2P_VERSION_MAJOR 0
#define P2P_VERSION_MINOR 4
#define P2P_VERSION_PATCH 0
#define P2P_VERSION_STRING "0.4.0"

/*
 * P2P_INIT(p) zeroes the sized struct *p and sets its size field to the
 * sizeof this header gives it; do it before a call fills or reads *p.
 * P2P_INIT_ARRAY(a, n) does it for the n elements of the array a.
 */
#define P2P_INIT(p) (memset((p), 0, sizeof *(p)), (p)->size = sizeof *(p), (void)0)
#define P2P_INIT_ARRAY(a, n)                                                                        \
    do {                                                                                           \
        size_t p2p_init_i_;                                                                        \
        for (p2p_init_i_ = 0; p2p_init_i_ < (size_t)(n); p2p_init_i_++) P2P_INIT(&(a)[p2p_init_i_]); \
    } while (0)

/* Longest node id, and longest host name, in bytes (without the NUL). */
#define P2P_MAX_ID_LEN 4096
#define P2P_MAX_HOST_LEN 1024
#define P2P_MAX_KEY_PEM_LEN 4096 /* a public key's PEM (RSA keys of up to 16384 bits) */
#define P2P_MAX_PRIVATE_KEY_PEM_LEN 16384 /* a private key's PEM (RSA keys of up to 16384 bits) */

/* Status codes. */
#define P2P_OK 0
#define P2P_EINVAL -1      /* an argument is invalid: NULL, out of range, bad option */
#define P2P_EHANDLE -2     /* the node handle is unknown or was freed */
#define P2P_ESTATE -3      /* not allowed in this state: not started, already started, wrong mode */
#define P2P_ESTOPPED -4    /* the node is stopping or stopped */
#define P2P_ESELF -5       /* the node would connect with itself */
#define P2P_EALREADY -6    /* already connected with that node */
#define P2P_ECONNECT -7    /* could not connect: refused, unreachable, timed out, or turned away */
#define P2P_EHANDSHAKE -8  /* the id exchange failed */
#define P2P_ENOPEER -9     /* no such peer on this node (never was, or disconnected) */
#define P2P_EFULL -10      /* a send queue was full (see p2p_overflow_policy); the message was not taken */
#define P2P_ETOOBIG -11    /* the message is over the frame size limit */
#define P2P_ENOTFOUND -12  /* no info under that key */
#define P2P_ERANGE -13     /* 0.2: a caller buffer was too small; no 0.3.0 function returns it */
#define P2P_EBIND -14      /* could not listen on the host and port */
#define P2P_EINTERNAL -15  /* a bug in the library was caught; the message says more */
#define P2P_EKEY -16       /* secure node: no key yet, or a key file that cannot be read or written */
#define P2P_EREJECTED -17  /* secure node: a message failed its checks; the message says why */
#define P2P_EFORK -18      /* called in a child forked from the process that loaded the library */
#define P2P_EREFUSED -19   /* 0.4: the peer was refused: another key than the one pinned for its id,
                              not on the allow-list, plaintext in required mode, or a pinned id in
                              plaintext (a downgrade) */

/* 0.4: the longest topic, in bytes (topics are 1 to 255 bytes, no NUL byte). */
#define P2P_MAX_TOPIC_LEN 255

/* 0.4: the length of an ed25519 public key (p2p_peer.key, p2p_node_public_key_buf, p2p_node_pin). */
#define P2P_KEY_LEN 32

/* Events, named after the p2pnetwork event methods. */
typedef enum p2p_event_type {
    P2P_EVENT_OUTBOUND_CONNECTED = 1,       /* outbound_node_connected */
    P2P_EVENT_INBOUND_CONNECTED = 2,        /* inbound_node_connected */
    P2P_EVENT_OUTBOUND_DISCONNECTED = 3,    /* outbound_node_disconnected */
    P2P_EVENT_INBOUND_DISCONNECTED = 4,     /* inbound_node_disconnected */
    P2P_EVENT_MESSAGE = 5,                  /* node_message */
    P2P_EVENT_DISCONNECT_WITH_OUTBOUND = 6, /* node_disconnect_with_outbound_node */
    P2P_EVENT_REQUEST_TO_STOP = 7,          /* node_request_to_stop */
    P2P_EVENT_RECONNECTION_ERROR = 8,       /* node_reconnection_error */
    /* A secure node (p2p_secure_node_new) raises these three instead of
     * P2P_EVENT_MESSAGE; ping, pong and discovery it handles itself
     * (unless delegated: p2p_secure_set_delegate). */
    P2P_EVENT_SECURE_MESSAGE = 9,           /* a message that passed every check */
    P2P_EVENT_MESSAGE_REJECTED = 10,        /* a message that failed a check (reject, reason) */
    P2P_EVENT_DISCOVERY_ANSWER = 11,        /* an answer to p2p_secure_send_discovery */
    /* 0.4: a publish on a topic the node subscribed to (p2p_node_subscribe):
     * peer* the peer that relayed it, data/kind as a message's, topic and
     * origin in p2p_ev. Delivered only by the 0.3 paths (p2p_node_set_handler,
     * p2p_node_next): p2p_event has no field for them, so p2p_node_set_callback
     * and p2p_node_poll skip these events. */
    P2P_EVENT_TOPIC_MESSAGE = 12            /* node_topic_message */
} p2p_event_type;

/* How a received payload is to be presented, by p2pnetwork's rule. */
typedef enum p2p_kind {
    P2P_KIND_JSON = 0,  /* UTF-8 text that parses as one JSON value ("123" too) */
    P2P_KIND_TEXT = 1,  /* other UTF-8 text */
    P2P_KIND_BYTES = 2  /* not valid UTF-8 */
} p2p_kind;

typedef enum p2p_direction {
    P2P_INBOUND = 0,  /* the peer connected to us */
    P2P_OUTBOUND = 1, /* we connected to the peer */
    P2P_ALL = 2       /* for p2p_node_peers: inbound, then outbound */
} p2p_direction;

typedef enum p2p_compression {
    P2P_COMPRESSION_NONE = 0,
    P2P_COMPRESSION_ZLIB = 1,  /* zlib container, level 6 */
    P2P_COMPRESSION_BZIP2 = 2, /* bzip2, level 9 */
    P2P_COMPRESSION_LZMA = 3   /* the .xz container, as Python's lzma.compress */
} p2p_compression;

/* Limits the reference lacks; see p2p_node_set_limit. */
typedef enum p2p_limit {
    P2P_LIMIT_MAX_CONNECTIONS = 1,       /* inbound peers; 0 = unlimited (default 0) */
    P2P_LIMIT_HANDSHAKE_TIMEOUT_MS = 2,  /* wait for a peer's id (default 10000) */
    P2P_LIMIT_DIAL_TIMEOUT_MS = 3,       /* TCP connect (default 10000) */
    P2P_LIMIT_MAX_FRAME_SIZE = 4,        /* bytes of one frame (default 64 MiB) */
    P2P_LIMIT_MAX_DECOMPRESSED_SIZE = 5, /* bytes a compressed frame may inflate to (default 64 MiB) */
    P2P_LIMIT_MAX_QUEUED_BYTES = 6,      /* bytes waiting to be written to one peer (default 16 MiB) */
    P2P_LIMIT_SEND_TIMEOUT_MS = 7,       /* wait for room in a full send queue (default 10000) */
    P2P_LIMIT_RECONNECT_INTERVAL_MS = 8, /* how often lost peers are re-dialled (default 1000) */
    P2P_LIMIT_MAX_PENDING_EVENTS = 9,    /* messages waiting for the application (default 65536) */
    P2P_LIMIT_OVERFLOW_POLICY = 10,      /* p2p_overflow_policy: a send to a full queue (default WAIT) */
    P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL = 11,       /* bytes waiting to be written to all peers (default 256 MiB) */
    P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS = 12, /* ... to the peers at one IP address (default 128 MiB) */
    P2P_LIMIT_STOP_TIMEOUT_MS = 13,      /* stop and disconnect flush a peer's queue this long (default 10000) */
    P2P_LIMIT_MAX_PENDING_HANDSHAKES = 14,             /* inbound handshakes under way (default 256) */
    P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS = 15, /* ... from one IP address (default 128) */
    P2P_LIMIT_IDLE_EVICTION_MS = 16,     /* silence after which an inbound peer may lose its slot to a new one
                                            when the node is full (default 10000; a fifth of it for a peer
                                            that never sent a message) */
    P2P_LIMIT_MAX_PENDING_BYTES = 17,    /* bytes of frames received in part, all connections (default 256 MiB) */
    P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS = 18, /* ... of the connections from one IP address (default 128 MiB) */
    /* 0.4: the native protocol (see p2p_encryption). Before p2p_node_start. */
    P2P_LIMIT_ENCRYPTION = 19,            /* a p2p_encryption (default P2P_ENCRYPTION_PREFERRED) */
    P2P_LIMIT_HEARTBEAT_INTERVAL_MS = 20, /* how often a native peer is sent a heartbeat (default 5000) */
    P2P_LIMIT_HEARTBEAT_TIMEOUT_MS = 21,  /* silence after which a native peer is disconnected
                                             (default 2.5 intervals; never below 2.5 times the
                                             interval the peer announced) */
    P2P_LIMIT_NEGOTIATION_WAIT_MS = 22    /* least wait of a dialer for a listener's native greeting
                                             before it takes the peer for a p2pnetwork one (default 250;
                                             8 times the measured connect time when longer, at most 3000
                                             or this value) */
} p2p_limit;

/*
 * 0.4: a node's mode for the native protocol (P2P_LIMIT_ENCRYPTION), the
 * protocol two p2pnode nodes speak with each other: TLS 1.3, each side
 * authenticated by its ed25519 identity key (p2p_node_public_key_buf),
 * length-prefixed frames and heartbeats. A p2pnetwork peer never sees any
 * of it: with one, in either direction, the connection is p2pnetwork's
 * plaintext protocol (refused in REQUIRED mode). The numbers are the ABI's
 * own, mapped to the core's modes by a table.
 */
typedef enum p2p_encryption {
    P2P_ENCRYPTION_PREFERRED = 0, /* native and encrypted with our nodes, plaintext with p2pnetwork peers */
    P2P_ENCRYPTION_OFF = 1,       /* plaintext p2pnetwork protocol with every peer, as before 0.4 */
    P2P_ENCRYPTION_REQUIRED = 2   /* native peers only; a plaintext peer is refused (P2P_EREFUSED) */
} p2p_encryption;

/*
 * What a send does when a queue is full (P2P_LIMIT_OVERFLOW_POLICY): when
 * the peer's queued bytes, those of all peers at its address, or those of
 * the whole node would go over P2P_LIMIT_MAX_QUEUED_BYTES, _PER_ADDRESS or
 * _TOTAL. Whatever the policy, p2p_node_broadcast (and the secure
 * broadcasts) never wait on one peer: under WAIT and DROP_NEWEST a full
 * peer does not get that message (counters.refused), under DROP_OLDEST and
 * DISCONNECT it is treated as for a single send, and the other peers get
 * it in every case. And a peer whose queue stays full while nothing at all
 * can be written to it for P2P_LIMIT_SEND_TIMEOUT_MS is disconnected
 * (counters.stalled, what was queued in dropped_overflow). DROP_OLDEST
 * discards whole messages, oldest first, up to a 64 KiB chunk of small
 * ones at a time; what is being written (at most a quarter of
 * P2P_LIMIT_MAX_QUEUED_BYTES, and 1 MiB) stays; when the address's or the
 * node's total is what is full, the sending peer's own oldest go.
 */
typedef enum p2p_overflow_policy {
    P2P_OVERFLOW_WAIT = 0,        /* wait up to the send timeout for room in that peer's queue, then P2P_EFULL */
    P2P_OVERFLOW_DROP_NEWEST = 1, /* P2P_EFULL at once; what is queued stays */
    P2P_OVERFLOW_DROP_OLDEST = 2, /* discard the oldest queued messages (dropped_overflow); the send succeeds */
    P2P_OVERFLOW_DISCONNECT = 3   /* disconnect the peer (its queue counts in dropped_overflow); P2P_EFULL */
} p2p_overflow_policy;

/* A node. Opaque; made by p2p_node_new, released by p2p_node_free. */
typedef struct p2p_node p2p_node;

/*
 * One entry of a discovery answer: a peer of the node that answered.
 */
typedef struct p2p_discovered {
    const char *id;    /* the peer's node id */
    const char *host;  /* its address, as the answering node sees it */
    int32_t port;      /* its listening port */
    int32_t direction; /* P2P_INBOUND or P2P_OUTBOUND, seen from the answering node */
} p2p_discovered;

/*
 * One event. Which fields are set depends on the type:
 *   - peer, peer_id, peer_host, peer_port, direction: every event but
 *     REQUEST_TO_STOP and RECONNECTION_ERROR (there peer is 0 and the
 *     strings are ""). For the secure events: the neighbour the message
 *     came from (which need not be its signer, sender_id).
 *   - data, data_len, kind, compression: MESSAGE, SECURE_MESSAGE,
 *     MESSAGE_REJECTED and DISCOVERY_ANSWER (data is NULL elsewhere; a
 *     message may be empty, data_len 0 with data non-NULL). For
 *     SECURE_MESSAGE and DISCOVERY_ANSWER data is the whole signed JSON
 *     object as received (underscore fields included; kind is P2P_KIND_JSON);
 *     for MESSAGE_REJECTED the payload that was refused, as received.
 *   - host, port, trials: RECONNECTION_ERROR only.
 *   - sender_id, msg_type: SECURE_MESSAGE and DISCOVERY_ANSWER: the signer's
 *     node id (_id) and the message's _type ("message" for
 *     p2p_secure_send_message, the application's own type, a type delegated
 *     with p2p_secure_set_delegate, or "discovery_answer"). The JSON text of these events is as the sender
 *     wrote it: from p2psecure peers and from us, ASCII with \uXXXX escapes
 *     (Python's json.dumps).
 *   - reject, reason: MESSAGE_REJECTED: a p2p_reject code and a sentence;
 *     sender_id is there the _id the message claims (unverified), or "".
 *   - nodes, n_nodes: DISCOVERY_ANSWER: the answering node's peers.
 * Strings that do not apply are "" (never NULL); nodes is NULL when n_nodes
 * is 0. Everything the event points to is owned by the library and valid
 * until the callback returns (for p2p_node_poll: until the next poll of that
 * node or its free). Copy what you keep.
 *
 * - dropped, dropped_bytes: INBOUND_DISCONNECTED and OUTBOUND_DISCONNECTED:
 *   the messages accepted for the peer (sends that returned P2P_OK) that were
 *   never written to its connection, and their bytes on the wire; the
 *   peer's counters (p2p_peer_counters, while the handle is valid) say why.
 *
 * Version 0.2.0 added the fields from sender_id on (88 -> 136 bytes on 64-bit
 * targets), and the hostile-load work of issue 16 appended dropped and
 * dropped_bytes (136 -> 152 bytes): a program that polls arrays of events
 * must be built with this header, and may compare p2p_version() with
 * P2P_VERSION_STRING at start.
 */
typedef struct p2p_event {
    int32_t type;          /* p2p_event_type */
    int32_t kind;          /* p2p_kind of the message */
    p2p_node *node;        /* the node that raised the event */
    uint64_t peer;         /* the peer's handle, valid until its disconnected event has been delivered
                              (poll mode: until the poll after the one that returned that event) */
    const char *peer_id;   /* the peer's node id */
    const char *peer_host; /* the peer's address */
    int32_t peer_port;     /* the peer's listening port */
    int32_t direction;     /* p2p_direction of the peer */
    const uint8_t *data;   /* the message's exact bytes */
    size_t data_len;       /* their length */
    int32_t compression;   /* p2p_compression the message travelled with */
    int32_t port;          /* RECONNECTION_ERROR: the lost peer's port */
    const char *host;      /* RECONNECTION_ERROR: the lost peer's host */
    int32_t trials;        /* RECONNECTION_ERROR: attempts so far, from 1 */
    int32_t reserved;      /* zero */
    const char *sender_id; /* SECURE_MESSAGE, DISCOVERY_ANSWER: the signer's node id; MESSAGE_REJECTED: the claimed one */
    const char *msg_type;  /* SECURE_MESSAGE, DISCOVERY_ANSWER: the message's _type */
    const char *reason;    /* MESSAGE_REJECTED: why, for people */
    int32_t reject;        /* MESSAGE_REJECTED: p2p_reject */
    int32_t reserved2;     /* zero */
    const p2p_discovered *nodes; /* DISCOVERY_ANSWER: n_nodes entries */
    size_t n_nodes;
    uint64_t dropped;       /* *_DISCONNECTED: accepted messages never written to the peer */
    uint64_t dropped_bytes; /* *_DISCONNECTED: their bytes on the wire */
} p2p_event;

/*
 * The event callback. It runs on the node's event thread. For
 * P2P_EVENT_RECONNECTION_ERROR its result answers whether the lost peer is
 * dialled again (non-zero: yes, 0: give up and forget it); for every other
 * event it is ignored. It may call any p2p_ function.
 *
 * Messages that arrived together are handed over in a batch: the library
 * calls the callback for each of them, one call per event and in order,
 * from one loop on the event thread (one crossing out of the Go runtime
 * for up to 1024 of them instead of one each). Nothing changes for the
 * callback: each event is valid until its callback returns, the events of
 * other types come between messages in the order they happened, and once
 * p2p_node_free has been called on the node - inside the callback, or from
 * another thread, where it waits for the callback under way - the callback
 * is not called again, not even for the rest of that batch.
 */
typedef int (*p2p_event_fn)(void *user_data, const p2p_event *ev);

/* Why a secure node rejected a message (p2p_event.reject). */
typedef enum p2p_reject {
    P2P_REJECT_NONE = 0,           /* not rejected (other events, a message that passed) */
    P2P_REJECT_MALFORMED = 1,      /* not a JSON object, or a field missing or of the wrong type */
    P2P_REJECT_BAD_SIGNATURE = 2,  /* _signature does not verify with _public_key */
    P2P_REJECT_BAD_HASH = 3,       /* _hash is not the hash of the message */
    P2P_REJECT_BAD_MESSAGE_ID = 4, /* _message_id is not the hash of the message */
    P2P_REJECT_KEY_MISMATCH = 5,   /* the key differs from the one pinned for its _id */
    P2P_REJECT_UNTRUSTED_KEY = 6,  /* no trusted key for its _id (P2P_TRUSTED_KEYS_ONLY, or the pin store is full) */
    P2P_REJECT_WEAK_KEY = 7,       /* the key is smaller than min_key_bits */
    P2P_REJECT_REPLAY = 8,         /* a message with this _message_id was accepted before */
    P2P_REJECT_STALE = 9,          /* _timestamp is older than the replay window */
    P2P_REJECT_FUTURE = 10         /* _timestamp is further ahead than the clock skew allows */
} p2p_reject;

/* Which public key a secure node accepts for a sender's node id. */
typedef enum p2p_key_policy {
    P2P_TRUST_ON_FIRST_USE = 0, /* pin the first key seen per id, reject any other (default) */
    P2P_TRUSTED_KEYS_ONLY = 1,  /* accept only ids pinned with p2p_secure_pin */
    P2P_NO_PINNING = 2          /* accept any key that verifies, as p2psecure does */
} p2p_key_policy;

/* Formats p2p_secure_key_save writes. */
typedef enum p2p_key_format {
    P2P_KEY_FORMAT_P2PNODE = 0,  /* PBKDF2-HMAC-SHA256 (600000) + AES-256-GCM; plain PKCS#8 PEM without password */
    P2P_KEY_FORMAT_P2PSECURE = 1 /* p2psecure's key_pair_save format (weak: PBKDF2-SHA1 1000, AES-CBC, no integrity) */
} p2p_key_format;

/*
 * Message types a secure node hands to the application (as
 * P2P_EVENT_SECURE_MESSAGE, msg_type "ping", ...) instead of handling them
 * itself; see p2p_secure_set_delegate. Bits, to be or-ed.
 */
typedef enum p2p_delegate {
    P2P_DELEGATE_PING = 1,            /* "ping" (p2psecure's received_ping, send_pong) */
    P2P_DELEGATE_PONG = 2,            /* "pong" (received_pong) */
    P2P_DELEGATE_DISCOVERY = 4,       /* "discovery" (received_discovery, send_discovery_answer) */
    P2P_DELEGATE_DISCOVERY_ANSWER = 8 /* "discovery_answer" (received_discovery_answer) */
} p2p_delegate;

/* The steps of a secure node's own handling of a delegated message; see p2p_secure_handle. */
typedef enum p2p_secure_step {
    P2P_STEP_RECEIVED_PING = 1,          /* answer the ping with a pong (= SEND_PONG) */
    P2P_STEP_SEND_PONG = 2,              /* send the peer a pong for the object's "timestamp" */
    P2P_STEP_RECEIVED_PONG = 3,          /* store the latency in the peer's info "ping" */
    P2P_STEP_RECEIVED_DISCOVERY = 4,     /* ROUTE_DISCOVERY, and when new SEND_DISCOVERY_ANSWER */
    P2P_STEP_ROUTE_DISCOVERY = 5,        /* record where a new discovery came from, forward it */
    P2P_STEP_SEND_DISCOVERY_ANSWER = 6,  /* send the peer our list of peers for the discovery */
    P2P_STEP_RELAY_DISCOVERY_ANSWER = 7  /* pass an answer on towards the discovery's origin */
} p2p_secure_step;

/*
 * The checks a secure node makes on what it receives. Zero-initialise and
 * set what you need: every 0 means the default.
 */
typedef struct p2p_secure_config {
    int32_t key_policy;        /* p2p_key_policy (default P2P_TRUST_ON_FIRST_USE) */
    int32_t min_key_bits;      /* smallest RSA key accepted in a message (default 2048) */
    int64_t replay_window_ms;  /* how old a _timestamp may be; a negative value turns the
                                  timestamp and replay checks off (default 300000) */
    int64_t max_clock_skew_ms; /* how far ahead of our clock a _timestamp may be (default 60000) */
    int32_t max_pinned_keys;   /* keys pinned on first use at most (default 65536) */
    int32_t reserved;          /* zero */
} p2p_secure_config;

/*
 * Counters of a node (p2p_node_counters: the sums over every peer it has
 * had, and its connection management) or of one peer (p2p_peer_counters).
 * A message counts once per peer it is for (a broadcast to ten peers is
 * ten), and its bytes are its bytes on the wire, EOT included.
 *
 * Delivery is at most once per link, in order: a message accepted for a
 * peer (its send returned P2P_OK) is written to that peer's connection
 * once, after those accepted for it before, or dropped. Every accepted
 * message is in exactly one of written, a dropped_* counter, or queued:
 *     accepted == written + dropped_overflow + dropped_link_lost + dropped_stop + queued
 * and the same for the bytes (dropped_bytes for the three drops).
 * "Written" means handed whole to the operating system's socket: TCP does
 * not say whether the other side read it, so a message written just before
 * a link breaks may still be lost, and no counter can tell. A send that
 * fails did not accept its message; refused counts those of full queues.
 * The figures are read one by one while the node runs: the equation holds
 * exactly once the node (or the peer) is quiet.
 *
 * Issue 16 grew this struct from 24 to 160 bytes (the fields from accepted
 * on): build with this header.
 */
typedef struct p2p_counters {
    uint64_t sent;           /* messages accepted for peers (= accepted) */
    uint64_t received;       /* frames received */
    uint64_t receive_errors; /* frames that could not be decoded or were over a limit */
    uint64_t accepted, accepted_bytes;  /* what sends took */
    uint64_t written, written_bytes;    /* what was handed whole to the socket */
    uint64_t queued, queued_bytes;      /* what waits to be written now (or is being written) */
    uint64_t dropped_overflow;  /* the peer did not keep up: DROP_OLDEST, DISCONNECT, or stalled */
    uint64_t dropped_link_lost; /* still queued when the connection broke */
    uint64_t dropped_stop;      /* stop or disconnect could not write them within P2P_LIMIT_STOP_TIMEOUT_MS */
    uint64_t dropped_bytes;     /* the bytes of the three drops */
    uint64_t refused;           /* messages a send did not take because a queue was full */
    uint64_t received_bytes;    /* bytes of the frames received, EOT included */
    /* The node's connection management (on a peer: 1 if it happened to it, else 0). */
    uint64_t evicted;            /* established inbound peers whose slot went to a new peer */
    uint64_t handshakes_evicted; /* handshakes under way closed for newer ones (node only) */
    uint64_t rejected;           /* inbound connections closed: every slot taken, none evictable (node only) */
    uint64_t over_memory;        /* connections closed for P2P_LIMIT_MAX_PENDING_BYTES(_PER_ADDRESS) */
    uint64_t stalled;            /* peers disconnected for staying full without progress */
} p2p_counters;


/* ---- 0.3: library-owned buffers and sized structs ----------------------- */

/*
 * p2p_buf: bytes the library allocated and hands to the caller, who
 * releases them with p2p_buf_free (and with nothing else: not free()).
 * Every function that fills a p2p_buf *out:
 *   - needs out non-NULL (else P2P_EINVAL) and overwrites *out without
 *     reading or freeing what it held: start from P2P_BUF_INIT, or free
 *     the old contents first;
 *   - on success sets data to len bytes followed by one NUL byte that len
 *     does not count (so a text result is also a C string, and data is
 *     never NULL, even for len 0);
 *   - on failure leaves *out as {NULL, 0}: freeing it is then harmless.
 * A p2p_buf may be freed from any thread, and outlives the node that made
 * it. This struct is frozen: it will never grow.
 */
typedef struct p2p_buf {
    uint8_t *data; /* len bytes, then a NUL; NULL when empty of any allocation */
    size_t len;    /* bytes in data, the final NUL not counted */
} p2p_buf;

#define P2P_BUF_INIT {NULL, 0}

/*
 * A peer's facts (p2p_peer_facts), or one entry of a discovery answer
 * (p2p_ev.nodes). Sized: P2P_INIT before p2p_peer_facts.
 */
typedef struct p2p_peer {
    size_t size;        /* sizeof(p2p_peer) as the caller was built (P2P_INIT) */
    uint64_t peer;      /* the peer's handle (0 in a discovery answer's entry) */
    const char *id;     /* its node id, NUL-terminated (id_len bytes) */
    size_t id_len;
    const char *host;   /* its address, NUL-terminated (host_len bytes) */
    size_t host_len;
    int32_t port;       /* its listening port */
    int32_t direction;  /* P2P_INBOUND or P2P_OUTBOUND */
    p2p_buf mem;        /* p2p_peer_facts: the memory id and host live in; release it with
                           p2p_buf_free(&p.mem). In a discovery entry {NULL, 0}: the event owns it */
    /* 0.4 */
    int32_t encrypted;  /* 1: the native protocol (TLS 1.3, authenticated); 0: plaintext */
    uint8_t key[P2P_KEY_LEN]; /* the peer's ed25519 public key, proven in the TLS handshake;
                                 zeros when not encrypted (and in discovery entries) */
} p2p_peer;

/*
 * A sized event (0.3), delivered by p2p_node_set_handler's callback or
 * taken by p2p_node_next. The fields mean what p2p_event's of the same
 * name mean (see there: which are set for which type, who owns what and
 * for how long); the differences are size first, the string lengths, and
 * the discovery entries as sized p2p_peer (step through them with
 * P2P_EV_NODE(ev, i), as their size may differ from the caller's).
 */
typedef struct p2p_ev {
    size_t size;           /* p2p_node_next: events[0].size, set by the caller (P2P_INIT), is the
                              array's stride; the library writes each event's size. In a
                              callback: the size the library filled */
    int32_t type;          /* p2p_event_type */
    int32_t kind;          /* p2p_kind */
    p2p_node *node;        /* the node that raised it */
    uint64_t peer;         /* the peer's handle (0 for REQUEST_TO_STOP, RECONNECTION_ERROR) */
    const char *peer_id;   /* the peer's node id */
    size_t peer_id_len;
    const char *peer_host; /* the peer's address */
    size_t peer_host_len;
    int32_t peer_port;     /* the peer's listening port */
    int32_t direction;     /* p2p_direction */
    const uint8_t *data;   /* the message's bytes (NULL for events without one) */
    size_t data_len;
    int32_t compression;   /* p2p_compression it travelled with */
    int32_t port;          /* RECONNECTION_ERROR: the lost peer's port */
    const char *host;      /* RECONNECTION_ERROR: its host */
    int32_t trials;        /* RECONNECTION_ERROR: attempts so far, from 1 */
    int32_t reject;        /* MESSAGE_REJECTED: p2p_reject */
    const char *sender_id; /* secure events: the signer's (or claimed) node id */
    const char *msg_type;  /* SECURE_MESSAGE, DISCOVERY_ANSWER: _type */
    const char *reason;    /* MESSAGE_REJECTED: why, for people */
    const p2p_peer *nodes; /* DISCOVERY_ANSWER: n_nodes entries, NULL when none */
    size_t n_nodes;
    uint64_t dropped;       /* *_DISCONNECTED: accepted messages never written */
    uint64_t dropped_bytes; /* *_DISCONNECTED: their bytes on the wire */
    /* 0.4 */
    const char *topic;      /* TOPIC_MESSAGE: the topic, NUL-terminated ("" for other events) */
    size_t topic_len;
    const char *origin;     /* TOPIC_MESSAGE: the id of the node that published it */
    size_t origin_len;
} p2p_ev;

/* The i-th entry of a p2p_peer array in a p2p_buf (p2p_node_known_peers_buf), whatever size
 * the library's p2p_peer has. */
#define P2P_BUF_PEER(buf, i) \
    ((const p2p_peer *)(const void *)((buf)->data + (size_t)(i) * ((const p2p_peer *)(const void *)(buf)->data)->size))

/* The i-th discovery entry of a p2p_ev, whatever size the library's p2p_peer has. */
#define P2P_EV_NODE(ev, i) \
    ((const p2p_peer *)(const void *)((const char *)(ev)->nodes + (size_t)(i) * (ev)->nodes->size))

/*
 * The callback of p2p_node_set_handler: as p2p_event_fn (its thread, its
 * answer to RECONNECTION_ERROR, what it may call), with a p2p_ev.
 */
typedef int (*p2p_ev_fn)(void *user_data, const p2p_ev *ev);

/* p2p_counters, sized (p2p_node_stats, p2p_peer_stats): P2P_INIT, then the call. */
typedef struct p2p_stats {
    size_t size; /* sizeof(p2p_stats) as the caller was built (P2P_INIT) */
    uint64_t sent, received, receive_errors;
    uint64_t accepted, accepted_bytes;
    uint64_t written, written_bytes;
    uint64_t queued, queued_bytes;
    uint64_t dropped_overflow, dropped_link_lost, dropped_stop, dropped_bytes;
    uint64_t refused, received_bytes;
    uint64_t evicted, handshakes_evicted, rejected, over_memory, stalled;
} p2p_stats;

/* p2p_secure_config, sized (p2p_secure_node_create): P2P_INIT, set what you need; 0 = default. */
typedef struct p2p_secure_opts {
    size_t size;               /* sizeof(p2p_secure_opts) as the caller was built (P2P_INIT) */
    int32_t key_policy;        /* p2p_key_policy */
    int32_t min_key_bits;      /* default 2048 */
    int64_t replay_window_ms;  /* default 300000; negative: no timestamp or replay checks */
    int64_t max_clock_skew_ms; /* default 60000 */
    int32_t max_pinned_keys;   /* default 65536 */
    int32_t reserved;          /* zero */
} p2p_secure_opts;

#ifndef P2P_NO_PROTOTYPES

/* ---- Library ------------------------------------------------------------ */

/* p2p_version returns the library's version, "MAJOR.MINOR.PATCH" (static). */
const char *p2p_version(void);

/* p2p_strerror returns a static, constant description of a status code. */
const char *p2p_strerror(int code);

/*
 * p2p_errmsg returns the message of the last failed call made by this
 * thread. The string belongs to the library and stays valid until this
 * thread's next call into it.
 */
const char *p2p_errmsg(void);

/* ---- Node life ---------------------------------------------------------- */

/*
 * p2p_node_new creates a node and binds its listening socket on host:port,
 * so that p2p_node_port tells the port at once. host NULL or "" listens on
 * all interfaces; port 0 picks a free port. id NULL or "" generates an id as
 * p2pnetwork does (128 hex characters); a given id is copied and may be at
 * most P2P_MAX_ID_LEN - 6 bytes long ("<id>:<port>" must fit in the 4096
 * bytes a p2pnetwork peer reads of it). max_connections
 * limits inbound peers (0 = unlimited). The node neither accepts nor
 * delivers anything until p2p_node_start.
 * Returns P2P_OK and *out, or P2P_EINVAL, P2P_EBIND. Free *out with
 * p2p_node_free.
 */
int p2p_node_new(const char *host, int port, const char *id, int max_connections, p2p_node **out);

/*
 * p2p_node_set_callback registers the function that receives every event of
 * the node, with user_data handed back to it. Call it before p2p_node_start;
 * a node with no callback delivers its events through p2p_node_poll instead.
 * fn NULL returns the node to poll mode. This 0.2 callback, and
 * p2p_node_poll, never see P2P_EVENT_TOPIC_MESSAGE (0.4; p2p_event has no
 * field for its topic): use p2p_node_set_handler or p2p_node_next.
 * Returns P2P_OK, P2P_EHANDLE, or P2P_ESTATE once started.
 */
int p2p_node_set_callback(p2p_node *node, p2p_event_fn fn, void *user_data);

/*
 * p2p_node_set_limit sets one limit (see p2p_limit; value in the unit its
 * name gives; 0 restores the default). P2P_LIMIT_MAX_CONNECTIONS may change
 * at any time and applies to connections accepted from then on; the others
 * only before p2p_node_start. P2P_LIMIT_OVERFLOW_POLICY takes a
 * p2p_overflow_policy (0 is P2P_OVERFLOW_WAIT, the default). A value the
 * library cannot represent is refused, never cut: a _MS limit above
 * 9223372036854 (the milliseconds a 64-bit count of nanoseconds holds), a
 * count above what the library's int holds (INT32_MAX on a 32-bit target;
 * on 64-bit targets every non-negative int64_t fits), a policy above
 * P2P_OVERFLOW_DISCONNECT, a mode (P2P_LIMIT_ENCRYPTION, 0.4) above
 * P2P_ENCRYPTION_REQUIRED.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (unknown limit, negative or
 * unrepresentable value; the limit keeps its value), or P2P_ESTATE once
 * started.
 */
int p2p_node_set_limit(p2p_node *node, int limit, int64_t value);

/* p2p_node_get_limit reads a limit, defaults filled in. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL. */
int p2p_node_get_limit(p2p_node *node, int limit, int64_t *value);

/* p2p_node_set_debug turns debug lines ("DEBUG (<id>): ...", on standard
 * error) on (non-zero) or off. Any time. Returns P2P_OK or P2P_EHANDLE. */
int p2p_node_set_debug(p2p_node *node, int on);

/* p2p_node_get_debug reads the debug flag into *on. */
int p2p_node_get_debug(p2p_node *node, int *on);

/*
 * p2p_node_start starts accepting connections, delivering events and
 * reconnecting lost peers. Returns P2P_OK, P2P_EHANDLE, P2P_ESTATE (already
 * started) or P2P_ESTOPPED.
 */
int p2p_node_start(p2p_node *node);

/*
 * p2p_node_stop raises P2P_EVENT_REQUEST_TO_STOP (peers are still connected:
 * a last chance to send), then closes every peer after flushing what was
 * queued for it (for at most P2P_LIMIT_STOP_TIMEOUT_MS; what is not written
 * by then is dropped, counted in dropped_stop, and each disconnected event
 * carries its peer's share), delivers their disconnected events, and
 * returns when the node's threads are gone. Sends blocked on a full queue
 * return (P2P_ESTOPPED or P2P_ENOPEER). Idempotent. Called from inside the
 * node's own callback, or from the thread that polls the node, it starts
 * all that and returns at once; the rest follows when the callback returns (or as the
 * poller goes on polling, until P2P_ESTOPPED). In poll mode it waits for the
 * poller only while one is there (see p2p_node_poll): a node nobody polls
 * stops at once, its last events left queued for a poll before the free.
 * Returns P2P_OK or P2P_EHANDLE.
 */
int p2p_node_stop(p2p_node *node);

/*
 * p2p_node_request_stop starts stopping the node as p2p_node_stop does and
 * returns at once, from any thread: P2P_EVENT_REQUEST_TO_STOP, the closes and
 * the disconnected events follow, to the callback or to the poller (which
 * polls on until P2P_ESTOPPED). p2p_node_stop or p2p_node_free afterwards
 * wait for the end. Idempotent, and a no-op once the node is stopping.
 * Returns P2P_OK or P2P_EHANDLE.
 */
int p2p_node_request_stop(p2p_node *node);

/*
 * p2p_node_free stops the node (as p2p_node_stop) and releases it. No event
 * reaches the application once free is called (call p2p_node_stop first to
 * see the events of stopping), so the callback's user_data may be released as
 * soon as free returns - or, when free is called from inside the callback,
 * as soon as that callback returns. The handle is invalid afterwards: every
 * call with it returns P2P_EHANDLE, and a second free too. From inside the
 * callback free returns at once and the node's threads end in the
 * background; from anywhere else (the polling thread included) it returns
 * when they are gone. All the node's memory is released then (or when
 * the calls still under way on the handle return); the handle itself stays
 * reserved, a few bytes, so that it never comes back as another node.
 * Returns P2P_OK or P2P_EHANDLE.
 */
int p2p_node_free(p2p_node *node);

/* ---- Node facts --------------------------------------------------------- */

/* p2p_node_id_buf: the node's id into *out (see p2p_buf). Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL. */
int p2p_node_id_buf(p2p_node *node, p2p_buf *out);

/* p2p_node_host_buf: the host the node listens on (as given) into *out. */
int p2p_node_host_buf(p2p_node *node, p2p_buf *out);

/* p2p_node_port stores the port the node listens on in *port. */
int p2p_node_port(p2p_node *node, int *port);

/*
 * p2p_node_counters fills *out with the node's counters (see
 * p2p_counters). Any time, from any thread, also after stop. Stop drops
 * what it could not write within P2P_LIMIT_STOP_TIMEOUT_MS: compare the
 * counters before and after p2p_node_stop (dropped_stop, dropped_link_lost)
 * to learn how much, and each peer's disconnected event says its share.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (out NULL).
 */
int p2p_node_counters(p2p_node *node, p2p_counters *out);

/*
 * p2p_peer_counters fills *out with one peer's counters (see p2p_counters;
 * sent = accepted, and the node-only fields are 0). The handle works as
 * long as the peer's does, so inside (or, polling, after) its disconnected
 * event it gives the peer's final figures.
 * Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL (out NULL).
 */
int p2p_peer_counters(p2p_node *node, uint64_t peer, p2p_counters *out);

/*
 * p2p_node_peers_buf lists the handles of the node's peers of one
 * direction (P2P_INBOUND, P2P_OUTBOUND, or P2P_ALL: inbound then outbound)
 * into *out: out->len / 8 handles of type uint64_t, suitably aligned at
 * out->data. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL.
 */
int p2p_node_peers_buf(p2p_node *node, int direction, p2p_buf *out);

/* ---- Connections -------------------------------------------------------- */

/*
 * p2p_node_connect dials host:port and exchanges ids. With reconnect
 * non-zero the node re-dials the peer whenever the connection is lost,
 * raising P2P_EVENT_RECONNECTION_ERROR before each attempt; the callback's
 * answer decides. Raises P2P_EVENT_OUTBOUND_CONNECTED on success and stores
 * the peer's handle in *peer (peer may be NULL).
 * Blocks for the dial and the handshake (see the limits).
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_ESTATE (not started),
 * P2P_ESTOPPED, P2P_ESELF, P2P_EALREADY (*peer then names the existing
 * peer where there is one), P2P_ECONNECT, P2P_EHANDSHAKE.
 */
int p2p_node_connect(p2p_node *node, const char *host, int port, int reconnect, uint64_t *peer);

/*
 * p2p_node_disconnect closes the connection with a peer after flushing what
 * was queued for it. For an outbound peer P2P_EVENT_DISCONNECT_WITH_OUTBOUND
 * is raised first and handled before this returns (in poll mode: polled, and
 * the poller came back for more), except when called from the callback or
 * the polling thread, where it is delivered next; the peer is no longer
 * reconnected. The disconnected event follows.
 * Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER.
 */
int p2p_node_disconnect(p2p_node *node, uint64_t peer);

/* ---- Messages ----------------------------------------------------------- */

/*
 * p2p_node_send queues len bytes for one peer, compressed with compression
 * (p2p_compression). Any bytes may be sent, empty, holding 0x04 or not
 * UTF-8: they arrive exactly (payloads that raw framing cannot carry travel
 * zlib-compressed). To send what p2pnetwork calls a str, pass its UTF-8; a
 * dict, its JSON text. data may be NULL when len is 0. The bytes are copied;
 * the call returns once they are queued, and data is the caller's again (a
 * large payload, 1 MiB or more, sent raw under WAIT into an empty queue is
 * written, or to a native peer sealed, from data itself while the call
 * waits, until at most 1 MiB is left or the writer stalls for a few
 * milliseconds; the rest is copied). What it does
 * when the peer's queue is full is P2P_LIMIT_OVERFLOW_POLICY's (by default
 * it waits up to the send timeout for room, and returns at once when the
 * node stops or the peer goes). P2P_OK means accepted: the counters tell whether it was
 * written or dropped (see p2p_counters). A len over both P2P_LIMIT_MAX_FRAME_SIZE and
 * P2P_LIMIT_MAX_DECOMPRESSED_SIZE gets P2P_ETOOBIG at once, before a byte of
 * data is read (a longer payload that still fails the frame limit once
 * encoded gets it after the encoding).
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_ENOPEER (never was, or has
 * disconnected: also for a handle still valid in a polled event),
 * P2P_EFULL, P2P_ETOOBIG, P2P_ESTOPPED (the node stopped meanwhile).
 */
int p2p_node_send(p2p_node *node, uint64_t peer, const void *data, size_t len, int compression);

/*
 * p2p_node_broadcast sends to every peer except the n_exclude handles in
 * exclude (may be NULL when n_exclude is 0); the frame is encoded once.
 * It never waits on a full peer, whatever the overflow policy (see
 * p2p_overflow_policy): under WAIT and DROP_NEWEST that peer does not get
 * the message (its counters' refused counts it), under DROP_OLDEST the
 * oldest of its queue make room, under DISCONNECT it is disconnected.
 * The length is checked before a byte is read, as for p2p_node_send.
 * Returns P2P_OK, or the code of the first peer that could not take it
 * (the others have it queued), or P2P_EHANDLE, P2P_EINVAL, P2P_ETOOBIG.
 */
int p2p_node_broadcast(p2p_node *node, const void *data, size_t len, const uint64_t *exclude,
                       size_t n_exclude, int compression);

/*
 * p2p_node_send_batch queues count messages for one peer, in order, with one
 * call: the same as count calls of p2p_node_send with the same compression,
 * at a fraction of the cost per message. The payloads lie back to back in
 * data: message i is lens[i] bytes long and starts where message i-1 ended.
 * The bytes are copied; data may be NULL when they add up to 0. When the
 * peer's queue is full the call waits for room (up to the send timeout) as
 * p2p_node_send does, so a large batch streams at the speed of the peer.
 * *sent (sent may be NULL) receives how many messages were queued: count on
 * success; on failure those before the message that failed, whose code is
 * returned (the messages after it are not queued). Every length is checked
 * (as for p2p_node_send) before a byte of data is read: the batch is cut at
 * the first one over the limit, which gets P2P_ETOOBIG.
 * Returns P2P_OK (also for count 0), P2P_EHANDLE, P2P_EINVAL, P2P_ENOPEER,
 * P2P_EFULL, P2P_ETOOBIG.
 */
int p2p_node_send_batch(p2p_node *node, uint64_t peer, const void *data, const size_t *lens,
                        size_t count, int compression, size_t *sent);

/* ---- Peers -------------------------------------------------------------- */

/* A peer's id and address: p2p_peer_facts (below). */

/* p2p_peer_port stores a peer's listening port in *port. */
int p2p_peer_port(p2p_node *node, uint64_t peer, int *port);

/* p2p_peer_direction stores P2P_INBOUND or P2P_OUTBOUND in *direction. */
int p2p_peer_direction(p2p_node *node, uint64_t peer, int *direction);

/*
 * p2p_peer_set_info stores a copy of len bytes under key (NUL-terminated) in
 * the peer's own key/value store (p2pnetwork's set_info). The library
 * itself may store values there too (the secure node's "ping"). A value
 * longer than P2P_LIMIT_MAX_FRAME_SIZE gets P2P_ETOOBIG before it is read.
 * Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL, P2P_ETOOBIG.
 */
int p2p_peer_set_info(p2p_node *node, uint64_t peer, const char *key, const void *value, size_t len);

/*
 * p2p_peer_get_info_buf copies the value under key (NUL-terminated) into
 * *out. Returns P2P_OK, P2P_ENOTFOUND, P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL.
 */
int p2p_peer_get_info_buf(p2p_node *node, uint64_t peer, const char *key, p2p_buf *out);

/* ---- Polling: events without a callback --------------------------------- */

/*
 * p2p_node_poll takes up to max events of a node that has no callback. It
 * waits up to timeout_ms for the first (0: do not wait; negative: wait
 * until an event comes or the node stops), then takes what else is ready
 * without waiting, and stores how many it took in *count. What the events
 * point to stays valid until the next p2p_node_poll of this node or its free.
 * The events the node waits on - P2P_EVENT_REQUEST_TO_STOP,
 * P2P_EVENT_DISCONNECT_WITH_OUTBOUND and P2P_EVENT_RECONNECTION_ERROR - end
 * a batch, and the node holds until the next p2p_node_poll, which says that
 * the application has handled them (so a goodbye sent on REQUEST_TO_STOP
 * still reaches the peers). Answer a RECONNECTION_ERROR with p2p_node_reply
 * before polling again (unanswered, it counts as "yes").
 * The node holds for a poller only while one is there: a thread inside
 * p2p_node_poll, or one that returned from it less than a second ago. With
 * nobody polling, those events count as handled at once (a RECONNECTION_ERROR
 * as "yes") and stay queued for a later poll, and a stopping node no longer
 * waits for room in the queue: stop, disconnect and free never wait for a
 * poller that is not there.
 * Any max is valid; more than 1048576 events are never taken at once.
 * A peer's handle in a polled event stays valid (p2p_peer_facts and the like
 * answer, a send gets P2P_ENOPEER) until the poll after the one that
 * returned its disconnected event.
 * Poll from one thread at a time, and keep polling until P2P_ESTOPPED while
 * the node stops.
 * Returns P2P_OK (*count may be 0 on timeout), P2P_ESTOPPED once the node
 * has stopped and every event was taken, P2P_EHANDLE, P2P_EINVAL,
 * P2P_ESTATE (the node has a callback).
 */
int p2p_node_poll(p2p_node *node, p2p_event *events, size_t max, int timeout_ms, size_t *count);

/*
 * p2p_node_poll_batch is p2p_node_poll, and in addition lays the payloads of
 * the batch's MESSAGE events back to back, in event order, in one block that
 * starts at *data and is *data_len bytes long: events[i].data - *data is
 * where message i starts. A binding can so copy every payload of a batch
 * with one copy. *data is NULL and *data_len 0 when the batch holds no
 * message bytes. The block lives as long as the events do (until the next
 * poll of this node or its free). Everything else is as p2p_node_poll;
 * the two may be mixed on one node.
 * Returns what p2p_node_poll returns, and P2P_EINVAL for a NULL data or
 * data_len.
 */
int p2p_node_poll_batch(p2p_node *node, p2p_event *events, size_t max, int timeout_ms,
                        size_t *count, const uint8_t **data, size_t *data_len);

/*
 * p2p_node_reply answers the last polled P2P_EVENT_RECONNECTION_ERROR
 * (non-zero: dial again; 0: give up). Returns P2P_OK, P2P_EHANDLE,
 * P2P_ESTATE (no question is waiting).
 */
int p2p_node_reply(p2p_node *node, int answer);

/* ---- Secure node: signed JSON messages (p2psecure's SecureNode) --------- */

/*
 * A secure node is a node (every p2p_node_* function works on it) whose
 * messages are JSON objects signed with its RSA key and checked on receipt,
 * in the wire format of the Python package p2psecure: _mcs, _mcr, _id,
 * _timestamp, _message_id and _hash (SHA-512 of Python's
 * json.dumps(sort_keys=True)), _signature (RSASSA-PKCS1-v1_5, SHA-512) and
 * _public_key (PEM). It answers pings and discoveries itself. Every message
 * it receives arrives as P2P_EVENT_SECURE_MESSAGE (checked) or
 * P2P_EVENT_MESSAGE_REJECTED (with the reason; the connection stays up),
 * never as P2P_EVENT_MESSAGE. Beyond p2psecure's checks it pins the first
 * key seen per node id and rejects replayed or stale messages (see
 * p2p_secure_config). p2p_node_send and p2p_node_broadcast still send
 * unsigned bytes, which secure peers reject.
 *
 * The p2p_secure_* functions return P2P_EINVAL for a node made by
 * p2p_node_new. JSON passed in is UTF-8 text; "1.0", big integers and
 * Unicode survive signing exactly as Python would write them. JSON text
 * longer than both P2P_LIMIT_MAX_FRAME_SIZE and
 * P2P_LIMIT_MAX_DECOMPRESSED_SIZE gets P2P_ETOOBIG before it is read.
 */

/*
 * p2p_secure_node_new creates a secure node (see p2p_node_new for host,
 * port, id and max_connections). cfg may be NULL for the defaults; it is
 * copied. The node has no key yet: give it one with p2p_secure_key_generate
 * or p2p_secure_key_load before p2p_node_start, which otherwise fails with
 * P2P_EKEY. Returns P2P_OK and *out, or P2P_EINVAL (also for an unknown
 * key_policy, a negative min_key_bits, max_clock_skew_ms or
 * max_pinned_keys, or a replay_window_ms or max_clock_skew_ms beyond
 * +-9223372036854), P2P_EBIND. Free *out with p2p_node_free.
 */
int p2p_secure_node_new(const char *host, int port, const char *id, int max_connections,
                        const p2p_secure_config *cfg, p2p_node **out);

/*
 * p2p_secure_key_generate makes a new RSA key pair of bits bits (0: 4096,
 * as p2psecure; at least 2048) and makes it the node's key (p2psecure's
 * key_pair_generate). A 4096-bit key takes about a second, sometimes
 * several. Any time; what is signed from then on uses the new key, and peers
 * that pinned the old one reject it. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL.
 */
int p2p_secure_key_generate(p2p_node *node, int bits);

/*
 * p2p_secure_key_load reads a private key file and makes it the node's key
 * (p2psecure's key_pair_load): p2psecure's own format, ours (see
 * p2p_key_format), or a PEM file (PKCS#1 or PKCS#8, encrypted with password
 * or not). password may be NULL or "" for none.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_EKEY (cannot read, wrong
 * password, not a key).
 */
int p2p_secure_key_load(p2p_node *node, const char *path, const char *password);

/*
 * p2p_secure_key_save writes the node's private key to path with mode 0600,
 * in format (p2p_key_format), protected by password (NULL or "": none; the
 * P2PSECURE format, as p2psecure, needs one). Returns P2P_OK, P2P_EHANDLE,
 * P2P_EINVAL, P2P_EKEY (no key, or the file cannot be written).
 */
int p2p_secure_key_save(p2p_node *node, const char *path, const char *password, int format);

/*
 * p2p_secure_public_key_buf writes the node's public key, PEM
 * ("-----BEGIN PUBLIC KEY-----", as it travels in _public_key), into *out
 * (at most P2P_MAX_KEY_PEM_LEN bytes). Returns P2P_OK, P2P_EHANDLE,
 * P2P_EINVAL, P2P_EKEY (no key yet).
 */
int p2p_secure_public_key_buf(p2p_node *node, p2p_buf *out);

/*
 * p2p_secure_send_message signs {"_type": "message", "message": <json>} and
 * sends it to every peer (p2psecure's send_message). json is the text of any
 * JSON value, len bytes. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (not JSON),
 * P2P_EKEY, or the first failing peer's code (see p2p_node_broadcast).
 */
int p2p_secure_send_message(p2p_node *node, const char *json, size_t len);

/*
 * p2p_secure_send signs the JSON object json (len bytes; its underscore
 * fields are replaced) and sends it to one peer. Returns P2P_OK,
 * P2P_EHANDLE, P2P_EINVAL (not a JSON object), P2P_EKEY, P2P_ENOPEER,
 * P2P_EFULL, P2P_ETOOBIG.
 */
int p2p_secure_send(p2p_node *node, uint64_t peer, const char *json, size_t len);

/*
 * p2p_secure_broadcast signs the JSON object json once and sends it to every
 * peer except the n_exclude handles in exclude (p2psecure's
 * send_to_nodes(create_message(data))). Returns as p2p_secure_send, or the
 * first failing peer's code.
 */
int p2p_secure_broadcast(p2p_node *node, const char *json, size_t len, const uint64_t *exclude,
                         size_t n_exclude);

/*
 * p2p_secure_send_ping pings every peer. Each answers with a pong, and the
 * latency in seconds is then stored in that peer's info under "ping" as
 * JSON number text (read it with p2p_peer_get_info_buf). Returns P2P_OK,
 * P2P_EHANDLE, P2P_EKEY, or the first failing peer's code.
 */
int p2p_secure_send_ping(p2p_node *node);

/*
 * p2p_secure_send_discovery asks the network for its connections: every node
 * reached answers with its list of peers, relayed back along the way the
 * discovery came, and each answer arrives as P2P_EVENT_DISCOVERY_ANSWER.
 * Returns as p2p_secure_send_ping.
 */
int p2p_secure_send_discovery(p2p_node *node);

/*
 * p2p_secure_create_message_buf signs the JSON object json (len bytes) as
 * p2psecure's create_message does, with the node's id, key, counters and
 * clock, and writes the signed JSON text into *out. Each call signs anew
 * (another _timestamp). Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_EKEY.
 */
int p2p_secure_create_message_buf(p2p_node *node, const char *json, size_t len, p2p_buf *out);

/*
 * p2p_secure_check_message checks a signed message as p2psecure's
 * check_message does (signature, _hash, _message_id; plus that _id is a
 * string and _timestamp a number), without any node: no key pinning, no
 * replay check. *reject (reject may be NULL) receives 0 or the p2p_reject
 * code. Returns P2P_OK (the message is good), P2P_EREJECTED (the message
 * says why), P2P_EINVAL (json NULL with len > 0), P2P_ETOOBIG (len over
 * 64 MiB, the default frame limit; checked before a byte is read).
 */
int p2p_secure_check_message(const char *json, size_t len, int *reject);

/*
 * p2p_secure_pin sets the public key (PEM, NUL-terminated) accepted from
 * node id; pem NULL unpins the id, so that under P2P_TRUST_ON_FIRST_USE the
 * next key seen for it is pinned. Any time. Returns P2P_OK, P2P_EHANDLE,
 * P2P_EINVAL (id NULL, pem not an RSA public key).
 */
int p2p_secure_pin(p2p_node *node, const char *id, const char *pem);

/*
 * p2p_secure_pinned_key_buf writes the PEM of the key pinned for node id
 * into *out. Returns P2P_OK, P2P_ENOTFOUND (none pinned), P2P_EHANDLE,
 * P2P_EINVAL.
 */
int p2p_secure_pinned_key_buf(p2p_node *node, const char *id, p2p_buf *out);

/* ---- Secure node: delegating ping, pong and discovery ------------------- */

/*
 * p2p_secure_set_delegate sets which verified message types (p2p_delegate
 * bits, or-ed; 0, the default: none) the node hands to the application as
 * P2P_EVENT_SECURE_MESSAGE (msg_type "ping", "pong", "discovery" or
 * "discovery_answer", data the whole signed message) instead of handling
 * them itself: what a p2psecure subclass that overrides received_ping and
 * the like does. The application then does what it wants, and calls
 * p2p_secure_handle for the steps of the node's own handling it keeps.
 * Delegated discovery answers include the answers to our own
 * p2p_secure_send_discovery (its "id" is this node's id); no
 * P2P_EVENT_DISCOVERY_ANSWER is raised for them. Any time; it applies to
 * messages checked from then on.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (unknown bits, not a secure node).
 */
int p2p_secure_set_delegate(p2p_node *node, int types);

/*
 * p2p_secure_handle does one step (p2p_secure_step) of the node's own
 * handling of a message from peer: json (len bytes, a JSON object) is the
 * message as delegated (it is not checked again; what it claims is taken
 * as is), or for P2P_STEP_SEND_PONG any object with the ping's
 * "timestamp". The steps send what the node would (signed, to peer; a
 * failure to send is only logged: the peer may have gone) and are
 * p2psecure's methods: RECEIVED_PING received_ping, SEND_PONG send_pong,
 * RECEIVED_PONG received_pong, RECEIVED_DISCOVERY received_discovery
 * (= ROUTE_DISCOVERY then, for a new discovery, SEND_DISCOVERY_ANSWER),
 * SEND_DISCOVERY_ANSWER send_discovery_answer. RELAY_DISCOVERY_ANSWER is
 * what received_discovery_answer does for an answer that is not ours: the
 * answer goes on unchanged to the peer its discovery came from (peer is
 * not used and may be 0). Any thread.
 * Returns P2P_OK, P2P_EALREADY (ROUTE_DISCOVERY: seen before, our own, or
 * the routing table is full; nothing sent), P2P_ENOTFOUND
 * (RELAY_DISCOVERY_ANSWER: not a discovery this node forwarded, or our
 * own), P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL (unknown step, not a JSON
 * object, a field missing or of the wrong type).
 */
int p2p_secure_handle(p2p_node *node, uint64_t peer, int step, const char *json, size_t len);

/* ---- Secure node: p2psecure's helpers ----------------------------------- */

/*
 * The other methods of p2psecure's SecureNode, in its formats, so that
 * what one side encrypts or signs the other decrypts or verifies. They
 * hand variable-size results out in a p2p_buf (*out, released with
 * p2p_buf_free; the _buf functions); the lengths given with each function
 * say how long a result is. Input pointers may be NULL when their length
 * is 0. Any thread; a node, where one is taken, only lends its key.
 * The formats are weak where p2psecure's are (PKCS#1 v1.5 encryption;
 * AES-CBC without integrity, so a wrong key or password gives garbage, not
 * an error; PBKDF2 with 1000 rounds): use them to talk with p2psecure.
 */

/*
 * p2p_secure_private_key_buf writes the node's private key, PEM PKCS#1
 * ("-----BEGIN RSA PRIVATE KEY-----", without a final newline, as
 * p2psecure's get_private_key), into *out (at most
 * P2P_MAX_PRIVATE_KEY_PEM_LEN bytes). This is the secret key in clear: wipe
 * out->data, then p2p_buf_free it. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL,
 * P2P_EKEY (no key yet).
 */
int p2p_secure_private_key_buf(p2p_node *node, p2p_buf *out);

/*
 * p2p_secure_encrypt_buf encrypts len bytes of data to the RSA public key pem
 * (NUL-terminated; "PUBLIC KEY", "RSA PUBLIC KEY" or a private key's PEM)
 * with RSAES-PKCS1-v1_5 and writes the ciphertext in base64 (p2psecure's
 * encrypt): 4 * ceil(k / 3) bytes for a key of k bytes (684 for 4096
 * bits). data may hold at most k - 11 bytes.
 * Returns P2P_OK, P2P_EINVAL (pem not an RSA key, data too long).
 */
int p2p_secure_encrypt_buf(const char *pem, const void *data, size_t len, p2p_buf *out);

/*
 * p2p_secure_decrypt_buf decrypts the base64 ciphertext text (len bytes;
 * white space ignored) made by p2p_secure_encrypt_buf or p2psecure's encrypt
 * to this node's public key, writing the plaintext (at most k - 11 bytes
 * for a key of k bytes) to *out (p2psecure's decrypt).
 * Returns P2P_OK, P2P_EHANDLE, P2P_EKEY (no key yet),
 * P2P_EINVAL (not base64, not for this key).
 */
int p2p_secure_decrypt_buf(p2p_node *node, const char *text, size_t len, p2p_buf *out);

/*
 * p2p_secure_sign_buf signs the len bytes of text (p2psecure signs the
 * UTF-8 of a str) with the node's key, RSASSA-PKCS1-v1_5 over SHA-512, and
 * writes the base64 signature into *out (p2psecure's sign; sign_data is the
 * sign of p2p_secure_canonical_buf's text; 684 bytes for a 4096-bit key).
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_EKEY (no key yet).
 */
int p2p_secure_sign_buf(p2p_node *node, const char *text, size_t len, p2p_buf *out);

/*
 * p2p_secure_verify checks that signature (base64, NUL-terminated) is the
 * signature of the len bytes of text by the RSA public key pem
 * (NUL-terminated), as p2p_secure_sign_buf makes it (p2psecure's verify;
 * verify_data verifies p2p_secure_canonical_buf's text).
 * Returns P2P_OK (it verifies), P2P_EREJECTED (it does not, or is not
 * base64), P2P_EINVAL (pem not an RSA public key, a NULL argument).
 */
int p2p_secure_verify(const char *pem, const char *text, size_t len, const char *signature);

/*
 * p2p_secure_canonical_buf writes into *out the text that p2psecure hashes and signs for
 * the JSON value json (len bytes): Python's json.dumps(value,
 * sort_keys=True) (p2psecure's get_data_uniq_string), at most 6 times len
 * plus 2 bytes. Returns P2P_OK, P2P_EINVAL (not JSON).
 */
int p2p_secure_canonical_buf(const char *json, size_t len, p2p_buf *out);

/*
 * p2p_secure_derive_key writes key_len bytes (1 to 65536) of key derived
 * from password and salt (any bytes; p2psecure's str passwords are their
 * Latin-1 bytes) to key: PBKDF2-HMAC-SHA1, 1000 iterations, PyCryptodome's
 * defaults (p2psecure's encryption_key_from_password(salt, password,
 * key_len)). Returns P2P_OK, P2P_EINVAL.
 */
int p2p_secure_derive_key(const void *password, size_t password_len, const void *salt,
                          size_t salt_len, void *key, size_t key_len);

/*
 * p2p_secure_aes_pad_buf writes into *out data followed by 1 to 16 zero bytes, up to the
 * next multiple of 16 (len + 16 - len % 16 bytes; p2psecure's
 * encrypt_aes_pad). Returns P2P_OK, P2P_EINVAL.
 */
int p2p_secure_aes_pad_buf(const void *data, size_t len, p2p_buf *out);

/*
 * p2p_secure_aes_encrypt_buf encrypts data with AES-CBC under key (16, 24 or
 * 32 bytes): a random 16-byte iv, then the ciphertext of the zero-padded
 * data, 16 + len + 16 - len % 16 bytes (p2psecure's encrypt_aes), into
 * *out. Returns P2P_OK, P2P_EINVAL (key size).
 */
int p2p_secure_aes_encrypt_buf(const void *key, size_t key_len, const void *data, size_t len,
                               p2p_buf *out);

/*
 * p2p_secure_aes_decrypt_buf reverses p2p_secure_aes_encrypt_buf into
 * *out: data is iv +
 * ciphertext (16 + a multiple of 16 bytes); the plaintext, at most len -
 * 16 bytes, has every trailing zero byte stripped (so one that ended in
 * zero bytes does not come back whole: p2psecure's decrypt_aes).
 * Returns P2P_OK, P2P_EINVAL (key size, data length).
 */
int p2p_secure_aes_decrypt_buf(const void *key, size_t key_len, const void *data, size_t len,
                               p2p_buf *out);

/*
 * p2p_secure_aes_encrypt_pw_buf encrypts data under a password (any
 * bytes) into *out: a random 16-byte salt, then p2p_secure_aes_encrypt_buf
 * with the 32-byte key
 * p2p_secure_derive_key(password, salt) of the data zero-padded twice, as
 * p2psecure's encrypt_aes_pw does: 48 + len + 16 - len % 16 bytes.
 * Returns P2P_OK, P2P_EINVAL.
 */
int p2p_secure_aes_encrypt_pw_buf(const void *password, size_t password_len, const void *data,
                                  size_t len, p2p_buf *out);

/*
 * p2p_secure_aes_decrypt_pw_buf reverses p2p_secure_aes_encrypt_pw_buf
 * into *out (salt + iv
 * + ciphertext; the plaintext is at most len - 32 bytes, trailing zero
 * bytes stripped; p2psecure's decrypt_aes_pw). It also reads the outer
 * layer of p2psecure's key files. Returns P2P_OK, P2P_EINVAL
 * (data length).
 */
int p2p_secure_aes_decrypt_pw_buf(const void *password, size_t password_len, const void *data,
                                  size_t len, p2p_buf *out);

/*
 * p2p_secure_aes_encrypt_file writes what p2p_secure_aes_encrypt_buf makes of
 * data to the file path (NUL-terminated), replacing it atomically, mode
 * 0600 (p2psecure's encrypt_aes_file). Returns P2P_OK, P2P_EINVAL,
 * P2P_EKEY (the file cannot be written).
 */
int p2p_secure_aes_encrypt_file(const char *path, const void *key, size_t key_len, const void *data,
                                size_t len);

/*
 * p2p_secure_aes_decrypt_file_buf reads the file path and writes what
 * p2p_secure_aes_decrypt_buf makes of it to *out (at most its size - 16
 * bytes; p2psecure's decrypt_aes_file). Returns P2P_OK, P2P_EINVAL,
 * P2P_EKEY (the file cannot be read).
 */
int p2p_secure_aes_decrypt_file_buf(const char *path, const void *key, size_t key_len,
                                    p2p_buf *out);

/*
 * p2p_secure_aes_encrypt_file_pw is p2p_secure_aes_encrypt_file with
 * p2p_secure_aes_encrypt_pw_buf (p2psecure's encrypt_aes_file_pw).
 */
int p2p_secure_aes_encrypt_file_pw(const char *path, const void *password, size_t password_len,
                                   const void *data, size_t len);

/*
 * p2p_secure_aes_decrypt_file_pw_buf is p2p_secure_aes_decrypt_file_buf
 * with p2p_secure_aes_decrypt_pw_buf (at most the file's size - 32 bytes;
 * p2psecure's decrypt_aes_file_pw).
 */
int p2p_secure_aes_decrypt_file_pw_buf(const char *path, const void *password, size_t password_len,
                                       p2p_buf *out);


/* ---- 0.3: library-owned buffers ------------------------------------------ */

/*
 * p2p_buf_free releases what buf holds (nothing when data is NULL) and
 * sets it to {NULL, 0}; buf NULL is a no-op, and so is a second free of
 * the same buf. Any thread, also in a forked child; never fails.
 */
void p2p_buf_free(p2p_buf *buf);

/*
 * p2p_peer_facts fills *out (P2P_INIT it first) with the peer's handle,
 * id, host, port and direction in one call; id and host live in out->mem,
 * released with p2p_buf_free(&out->mem). It works as long as the
 * handle does. Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER,
 * P2P_EINVAL (out NULL, out->size too small; nothing allocated then).
 */
int p2p_peer_facts(p2p_node *node, uint64_t peer, p2p_peer *out);

/*
 * p2p_peer_ping stores in *seconds the latency a secure node measured for
 * the peer (its info "ping", p2p_secure_send_ping). Returns P2P_OK,
 * P2P_ENOTFOUND (no pong yet), P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL.
 */
int p2p_peer_ping(p2p_node *node, uint64_t peer, double *seconds);

/* ---- 0.3: sized structs --------------------------------------------------- */

/*
 * p2p_node_stats and p2p_peer_stats are p2p_node_counters and
 * p2p_peer_counters filling a sized p2p_stats (P2P_INIT it first).
 * Returns as those, and P2P_EINVAL for a size too small.
 */
int p2p_node_stats(p2p_node *node, p2p_stats *out);
int p2p_peer_stats(p2p_node *node, uint64_t peer, p2p_stats *out);

/*
 * p2p_secure_node_create is p2p_secure_node_new with a sized
 * p2p_secure_opts (NULL for the defaults; else P2P_INIT it first).
 */
int p2p_secure_node_create(const char *host, int port, const char *id, int max_connections,
                           const p2p_secure_opts *opts, p2p_node **out);

/*
 * p2p_node_set_handler is p2p_node_set_callback with a callback that gets
 * a sized p2p_ev. A node has at most one of the two: setting one replaces
 * the other; fn NULL returns the node to poll mode. Before p2p_node_start.
 * Returns P2P_OK, P2P_EHANDLE, P2P_ESTATE once started.
 */
int p2p_node_set_handler(p2p_node *node, p2p_ev_fn fn, void *user_data);

/*
 * p2p_node_next is p2p_node_poll_batch with sized events: the caller sets
 * events[0].size (P2P_INIT(&events[0]) or P2P_INIT_ARRAY), which is the
 * stride of the array, at least the 0.3 sizeof(p2p_ev); the library fills
 * each event's first size bytes. data and data_len may both be NULL when
 * the caller does not want the batch's payload block (else see
 * p2p_node_poll_batch). Every rule of p2p_node_poll holds (one poller,
 * lifetime of what the events point to, waiting events end a batch,
 * p2p_node_reply, P2P_ESTOPPED at the end); the two may be mixed. At most
 * 65536 events are taken at once.
 * Returns as p2p_node_poll_batch, and P2P_EINVAL for a size too small.
 */
int p2p_node_next(p2p_node *node, p2p_ev *events, size_t max, int timeout_ms, size_t *count,
                  const uint8_t **data, size_t *data_len);

/* ---- 0.3: names ------------------------------------------------------------ */

/*
 * p2p_event_name returns the name of an event type: the p2pnetwork event
 * method it stands for ("outbound_node_connected", "inbound_node_connected",
 * "outbound_node_disconnected", "inbound_node_disconnected", "node_message",
 * "node_disconnect_with_outbound_node", "node_request_to_stop",
 * "node_reconnection_error"), and for the secure events "secure_message",
 * "message_rejected", "discovery_answer"; "node_topic_message" (0.4). NULL for an unknown type. The
 * strings are static. Any thread; never enters the Go runtime.
 */
const char *p2p_event_name(int type);

/*
 * p2p_reject_name returns the name of a p2p_reject code: "none",
 * "malformed", "bad_signature", "bad_hash", "bad_message_id",
 * "key_mismatch", "untrusted_key", "weak_key", "replay", "stale",
 * "future"; NULL for an unknown code. Static strings, as p2p_event_name.
 */
const char *p2p_reject_name(int reject);

/*
 * p2p_kind_name returns the name of a p2p_kind: "json", "text", "bytes";
 * NULL for an unknown value. Static strings, as p2p_event_name.
 */
const char *p2p_kind_name(int kind);

/*
 * p2p_compression_name returns p2pnetwork's name of a p2p_compression:
 * "none", "zlib", "bzip2", "lzma"; NULL for an unknown value. Static.
 */
const char *p2p_compression_name(int compression);

/*
 * p2p_compression_from_name stores in *out the p2p_compression named name
 * (as p2p_compression_name gives them, ASCII case ignored; NULL and "" are
 * "none", as p2pnetwork's default). Returns P2P_OK, P2P_EINVAL (unknown
 * name, out NULL; *out untouched). Never enters the Go runtime.
 */
int p2p_compression_from_name(const char *name, int *out);

/* ---- 0.3: secure node ------------------------------------------------------ */

/*
 * p2p_secure_hash writes into *out the _hash p2psecure computes for the
 * JSON value json (len bytes): the SHA-512, in 128 lowercase hex digits, of
 * its canonical text (p2p_secure_canonical_buf; p2psecure's get_hash).
 * Returns P2P_OK, P2P_EINVAL (not JSON, out NULL), P2P_ETOOBIG (len over
 * 64 MiB).
 */
int p2p_secure_hash(const char *json, size_t len, p2p_buf *out);

/*
 * p2p_secure_password writes into *out the bytes a text password (UTF-8,
 * len bytes) stands for in p2psecure's formats: its Latin-1 bytes, as
 * PyCryptodome encodes a str, when every character is below U+0100; else
 * its UTF-8 (which p2psecure itself could not use). Give the result to
 * p2p_secure_derive_key, p2p_secure_aes_*_pw and p2p_secure_key_*_bytes.
 * Returns P2P_OK, P2P_EINVAL (not UTF-8, out NULL).
 */
int p2p_secure_password(const char *text, size_t len, p2p_buf *out);

/*
 * p2p_secure_key_load_bytes and p2p_secure_key_save_bytes are
 * p2p_secure_key_load and p2p_secure_key_save with the password given as
 * password_len bytes (NULL or 0 for none), as PyCryptodome takes bytes:
 * each byte is the Latin-1 character of its value, so that p2psecure's
 * format and PEM files derive from exactly those bytes (P2P_KEY_FORMAT_P2PNODE
 * from the UTF-8 of those characters). Returns as those.
 */
int p2p_secure_key_load_bytes(p2p_node *node, const char *path, const void *password,
                              size_t password_len);
int p2p_secure_key_save_bytes(p2p_node *node, const char *path, const void *password,
                              size_t password_len, int format);

/* ---- 0.4: names ------------------------------------------------------------ */

/*
 * p2p_encryption_name returns the name of a p2p_encryption: "preferred",
 * "off", "required" (Python's encryption= values); NULL for an unknown
 * value. Static strings, as p2p_event_name. p2p_encryption_from_name
 * stores in *out the mode named name (ASCII case ignored; NULL and "" are
 * "preferred", the default). Returns P2P_OK, P2P_EINVAL (unknown name, out
 * NULL; *out untouched). Neither enters the Go runtime.
 */
const char *p2p_encryption_name(int mode);
int p2p_encryption_from_name(const char *name, int *out);

/* ---- 0.4: the native protocol: identity and trust -------------------------- */

/*
 * Every node has an ed25519 identity key from p2p_node_new on (a new one,
 * generated there, unless one is set or loaded before p2p_node_start); its
 * native peers see the public half as p2p_peer.key. The private key, its
 * certificate and the mode (P2P_LIMIT_ENCRYPTION) are fixed once the node
 * starts: p2p_node_set_identity and p2p_node_identity_load return
 * P2P_ESTATE after p2p_node_start (the node keeps its key). Trust is kept
 * per node: the first key a native peer presents for its id is pinned (trust
 * on first use); a later connection with the same id must present the same
 * key, and may no longer come in plaintext (a downgrade). An allow-list, once
 * it holds anything, admits only the native peers it names. A refused peer
 * makes p2p_node_connect return P2P_EREFUSED; an inbound one is closed
 * without an event (the debug lines say why). Any thread, also inside the
 * event callback; the trust functions also while the node runs.
 */

/*
 * p2p_node_set_identity makes the PKCS#8 PEM ed25519 private key pem (len
 * bytes, "-----BEGIN PRIVATE KEY-----", as p2p_node_identity_buf and
 * p2p_node_identity_save write it) the node's identity. Before
 * p2p_node_start. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (pem NULL, not an
 * ed25519 PKCS#8 PEM, len over P2P_MAX_PRIVATE_KEY_PEM_LEN), P2P_ESTATE
 * (started).
 */
int p2p_node_set_identity(p2p_node *node, const uint8_t *pem, size_t len);

/*
 * p2p_node_identity_buf writes the node's private identity key, PKCS#8 PEM,
 * into *out. A secret in clear: wipe out->data, then p2p_buf_free it.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (out NULL).
 */
int p2p_node_identity_buf(p2p_node *node, p2p_buf *out);

/*
 * p2p_node_identity_load reads a PKCS#8 PEM ed25519 key file (as
 * p2p_node_identity_save writes it) and makes it the node's identity.
 * Before p2p_node_start. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (path NULL),
 * P2P_EKEY (the file cannot be read or holds no ed25519 key), P2P_ESTATE.
 */
int p2p_node_identity_load(p2p_node *node, const char *path);

/*
 * p2p_node_identity_save writes the node's identity key to path, PKCS#8
 * PEM, mode 0600, atomically (a temporary file renamed over path). Any
 * time. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (path NULL), P2P_EKEY (the
 * file cannot be written).
 */
int p2p_node_identity_save(p2p_node *node, const char *path);

/*
 * p2p_node_public_key_buf writes the node's public identity key, the
 * P2P_KEY_LEN raw ed25519 bytes its native peers see in p2p_peer.key, into
 * *out. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (out NULL).
 */
int p2p_node_public_key_buf(p2p_node *node, p2p_buf *out);

/*
 * p2p_node_pin pins the node id (id_len bytes) to key (key_len must be
 * P2P_KEY_LEN: raw ed25519): a native peer that claims id must present
 * key, and id may no longer connect in plaintext. Replaces an earlier pin.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (id or key NULL, key_len not
 * P2P_KEY_LEN, id_len over P2P_MAX_ID_LEN).
 */
int p2p_node_pin(p2p_node *node, const char *id, size_t id_len, const uint8_t *key, size_t key_len);

/*
 * p2p_node_pinned_key_buf writes the key pinned for id (P2P_KEY_LEN bytes)
 * into *out. Returns P2P_OK, P2P_ENOTFOUND (none pinned), P2P_EHANDLE,
 * P2P_EINVAL.
 */
int p2p_node_pinned_key_buf(p2p_node *node, const char *id, size_t id_len, p2p_buf *out);

/*
 * p2p_node_allow adds key (key_len must be P2P_KEY_LEN) to the node's
 * allow-list, for the node id id (id_len bytes) only, or for any id when id
 * is NULL (id_len ignored). Once the list holds anything, only native peers
 * it admits are accepted, and no plaintext peer at all. Returns P2P_OK,
 * P2P_EHANDLE, P2P_EINVAL.
 */
int p2p_node_allow(p2p_node *node, const char *id, size_t id_len, const uint8_t *key, size_t key_len);

/* ---- 0.4: the network layer: discovery and topic gossip --------------------- */

/*
 * Between p2pnode nodes in the native protocol (not with p2pnetwork peers,
 * nor with P2P_ENCRYPTION_OFF, which take part as plain direct peers only).
 * Any thread, also inside the event callback; after p2p_node_start unless
 * said otherwise.
 */

/*
 * p2p_node_discover makes the node keep at least target_peers (>= 1)
 * connections: it learns addresses from its native peers (peer exchange),
 * dials until it has target_peers links, replaces those it loses, and keeps
 * its degree between that and a high water mark without becoming a hub.
 * The peers it is connected to at the call are its seeds: connect to one
 * bootstrap node first. Calling it again changes the target. Returns
 * promptly. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (target_peers < 1),
 * P2P_ESTATE (not started), P2P_ESTOPPED.
 */
int p2p_node_discover(p2p_node *node, int target_peers);

/*
 * p2p_node_known_peers_buf lists the addresses the node knows (its address
 * book once discovering, its native links before): *out holds *count
 * p2p_peer entries, entry i at P2P_BUF_PEER(out, i) (the library's
 * sizeof(p2p_peer) apart: their size field), with their id and host
 * strings in the same buffer; one p2p_buf_free releases all. In each entry
 * peer is 0, direction P2P_OUTBOUND (an address to dial), encrypted 0, key
 * zeros and mem {NULL, 0}. *count 0 leaves out->len 0. Any time.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (out or count NULL).
 */
int p2p_node_known_peers_buf(p2p_node *node, p2p_buf *out, size_t *count);

/*
 * p2p_node_subscribe makes the node raise P2P_EVENT_TOPIC_MESSAGE for each
 * publish on topic (topic_len bytes, 1 to P2P_MAX_TOPIC_LEN, no NUL byte)
 * anywhere in the connected network, once per publish, never for its own.
 * Nodes relay every topic whether or not they subscribe.
 * p2p_node_unsubscribe stops them (the node still relays). Any time, also
 * before start; subscribing twice is subscribing once.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (topic NULL, empty, too long, with a NUL).
 */
int p2p_node_subscribe(p2p_node *node, const char *topic, size_t topic_len);
int p2p_node_unsubscribe(p2p_node *node, const char *topic, size_t topic_len);

/*
 * p2p_node_publish sends len bytes of data on topic to every subscriber in
 * the connected network, each exactly once and never back to this node
 * (eager push along a tree, lazy announcements on the other links, a
 * seen-cache and a hop limit). data may be NULL when len is 0; it is
 * copied. compression is reserved: pass 0 (P2P_COMPRESSION_NONE). A node
 * with no native peer publishes to nobody, successfully.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (topic as for subscribe, data
 * NULL with len > 0, compression not 0), P2P_ETOOBIG (over the frame
 * limits, checked before a byte is read), P2P_ESTATE (not started),
 * P2P_ESTOPPED.
 */
int p2p_node_publish(p2p_node *node, const char *topic, size_t topic_len, const void *data, size_t len,
                     int compression);

#endif /* P2P_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* P2PNODE_H */
