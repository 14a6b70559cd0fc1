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
 * p2p_version and p2p_strerror, which return static strings. A failing call
 * also leaves a message for the calling thread, read with p2p_last_error or
 * p2p_errmsg. No argument, however bad (NULL, a freed node, an unknown peer, a
 * call after stop), crashes the process: it gets its code.
 *
 * Memory. Memory the caller passes in stays the caller's and is not kept
 * after the call returns. What the library returns is written into buffers
 * the caller provides. Strings out are NUL-terminated; when a buffer is too
 * small the call writes as much as fits (still NUL-terminated) and returns
 * P2P_ERANGE. Ids are at most P2P_MAX_ID_LEN bytes and hosts at most
 * P2P_MAX_HOST_LEN bytes, so buffers of those sizes plus one always suffice.
 *
 * Threads. Every function may be called from any thread, including from
 * inside the event callback (send, connect, disconnect and stop included),
 * without deadlock. Events of one node are delivered in order, one at a
 * time, on one thread that the library owns and ends when the node stops.
 *
 * Blocking. Calls return promptly except: p2p_node_connect (dial and
 * handshake, bounded by P2P_LIMIT_DIAL_TIMEOUT_MS and
 * P2P_LIMIT_HANDSHAKE_TIMEOUT_MS), sends to a peer whose queue is full
 * (bounded by P2P_LIMIT_SEND_TIMEOUT_MS), p2p_node_stop and p2p_node_free
 * (until the node's threads are gone; see there), and p2p_node_poll (its
 * timeout).
 *
 * Linking. Only one Go shared library can live in a process and it cannot be
 * unloaded. The library installs signal handlers of the Go runtime.
 */
#ifndef P2PNODE_H
#define P2PNODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define P2P_VERSION_MAJOR 0
#define P2P_VERSION_MINOR 1
#define P2P_VERSION_PATCH 0
#define P2P_VERSION_STRING "0.1.0"

/* Longest node id, and longest host name, in bytes (without the NUL). */
#define P2P_MAX_ID_LEN 4096
#define P2P_MAX_HOST_LEN 1024

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
#define P2P_EFULL -10      /* the peer's send queue stayed full for the send timeout */
#define P2P_ETOOBIG -11    /* the message is over the frame size limit */
#define P2P_ENOTFOUND -12  /* no info under that key */
#define P2P_ERANGE -13     /* the caller's buffer is too small; the result is truncated */
#define P2P_EBIND -14      /* could not listen on the host and port */
#define P2P_EINTERNAL -15  /* a bug in the library was caught; the message says more */

/* Events, named after the p2pnetwork event methods. */
typedef enum p2p_event_type {
    P2P_EVENT_OUTBOUND_CONNECTED = 1,       /* outbound_node_connected */
    P2P_EVENT_INBOUND_CONNECTED = 2,        /* inbound_node_connected */
    P2P_EVENT_OUTBOUND_DISCONNECTED = 3,    /* outbound_node_disconnected */
    P2P_EVENT_INBOUND_DISCONNECTED = 4,     /* inbound_node_disconnected */
    P2P_EVENT_MESSAGE = 5,                  /* node_message */
    P2P_EVENT_DISCONNECT_WITH_OUTBOUND = 6, /* node_disconnect_with_outbound_node */
    P2P_EVENT_REQUEST_TO_STOP = 7,          /* node_request_to_stop */
    P2P_EVENT_RECONNECTION_ERROR = 8        /* node_reconnection_error */
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
    P2P_LIMIT_MAX_PENDING_EVENTS = 9     /* messages waiting for the application (default 65536) */
} p2p_limit;

/* A node. Opaque; made by p2p_node_new, released by p2p_node_free. */
typedef struct p2p_node p2p_node;

/*
 * One event. Which fields are set depends on the type:
 *   - peer, peer_id, peer_host, peer_port, direction: every event but
 *     REQUEST_TO_STOP and RECONNECTION_ERROR (there peer is 0 and the
 *     strings are "").
 *   - data, data_len, kind, compression: MESSAGE only (data is NULL
 *     elsewhere; a message may be empty, data_len 0 with data non-NULL).
 *   - host, port, trials: RECONNECTION_ERROR only.
 * Everything the event points to is owned by the library and valid until the
 * callback returns (for p2p_node_poll: until the next poll of that node or
 * its free). Copy what you keep.
 */
typedef struct p2p_event {
    int32_t type;          /* p2p_event_type */
    int32_t kind;          /* p2p_kind of the message */
    p2p_node *node;        /* the node that raised the event */
    uint64_t peer;         /* the peer's handle, valid until its disconnected event has been delivered */
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
} p2p_event;

/*
 * The event callback. It runs on the node's event thread. For
 * P2P_EVENT_RECONNECTION_ERROR its result answers whether the lost peer is
 * dialled again (non-zero: yes, 0: give up and forget it); for every other
 * event it is ignored. It may call any p2p_ function.
 */
typedef int (*p2p_event_fn)(void *user_data, const p2p_event *ev);

/* Counters of a node. */
typedef struct p2p_counters {
    uint64_t sent;           /* frames queued to peers (a broadcast counts once per peer) */
    uint64_t received;       /* frames received */
    uint64_t receive_errors; /* frames that could not be decoded or were over a limit */
} p2p_counters;

#ifndef P2P_NO_PROTOTYPES

/* ---- Library ------------------------------------------------------------ */

/* p2p_version returns the library's version, "MAJOR.MINOR.PATCH" (static). */
const char *p2p_version(void);

/* p2p_strerror returns a static, constant description of a status code. */
const char *p2p_strerror(int code);

/*
 * p2p_last_error copies the message of the last failed call made by this
 * thread into buf (len bytes, NUL included); "" when there is none.
 * Returns P2P_OK, P2P_EINVAL for a NULL buf or len 0, or P2P_ERANGE.
 */
int p2p_last_error(char *buf, size_t len);

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
 * fn NULL returns the node to poll mode.
 * Returns P2P_OK, P2P_EHANDLE, or P2P_ESTATE once started.
 */
int p2p_node_set_callback(p2p_node *node, p2p_event_fn fn, void *user_data);

/*
 * p2p_node_set_limit sets one limit (see p2p_limit; value in the unit its
 * name gives; 0 restores the default). P2P_LIMIT_MAX_CONNECTIONS may change
 * at any time and applies to connections accepted from then on; the others
 * only before p2p_node_start.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL (unknown limit, negative value),
 * or P2P_ESTATE once started.
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
 * queued for it, delivers their disconnected events, and returns when the
 * node's threads are gone. Idempotent. Called from inside the node's own
 * callback, or from the thread that polls the node, it starts all that and
 * returns at once; the rest follows when the callback returns (or as the
 * poller goes on polling, until P2P_ESTOPPED). Returns P2P_OK or P2P_EHANDLE.
 */
int p2p_node_stop(p2p_node *node);

/*
 * p2p_node_free stops the node (as p2p_node_stop) and releases it. No event
 * reaches the application once free is called (call p2p_node_stop first to
 * see the events of stopping), so the callback's user_data may be released as
 * soon as free returns - or, when free is called from inside the callback,
 * as soon as that callback returns. The handle is invalid afterwards: every
 * call with it returns P2P_EHANDLE, and a second free too. From inside the
 * callback free returns at once and the node's threads end in the
 * background; from anywhere else (the polling thread included) it returns
 * when they are gone.
 * Returns P2P_OK or P2P_EHANDLE.
 */
int p2p_node_free(p2p_node *node);

/* ---- Node facts --------------------------------------------------------- */

/* p2p_node_id copies the node's id into buf. Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_ERANGE. */
int p2p_node_id(p2p_node *node, char *buf, size_t len);

/* p2p_node_host copies the host the node listens on (as given) into buf. */
int p2p_node_host(p2p_node *node, char *buf, size_t len);

/* p2p_node_port stores the port the node listens on in *port. */
int p2p_node_port(p2p_node *node, int *port);

/* p2p_node_counters fills *out with the node's message counters. */
int p2p_node_counters(p2p_node *node, p2p_counters *out);

/*
 * p2p_node_peers lists the handles of the node's peers of one direction
 * (P2P_INBOUND, P2P_OUTBOUND, or P2P_ALL: inbound then outbound) into
 * peers[0..cap). *count receives how many there are, even when more than
 * cap (then only cap are written and P2P_ERANGE is returned). peers may be
 * NULL with cap 0 to ask for the count.
 */
int p2p_node_peers(p2p_node *node, int direction, uint64_t *peers, size_t cap, size_t *count);

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
 * the call returns once they are queued. If the peer's queue is full it
 * waits up to the send timeout.
 * Returns P2P_OK, P2P_EHANDLE, P2P_EINVAL, P2P_ENOPEER, P2P_EFULL, P2P_ETOOBIG.
 */
int p2p_node_send(p2p_node *node, uint64_t peer, const void *data, size_t len, int compression);

/*
 * p2p_node_broadcast sends to every peer except the n_exclude handles in
 * exclude (may be NULL when n_exclude is 0); the frame is encoded once.
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
 * returned (the messages after it are not queued).
 * Returns P2P_OK (also for count 0), P2P_EHANDLE, P2P_EINVAL, P2P_ENOPEER,
 * P2P_EFULL, P2P_ETOOBIG.
 */
int p2p_node_send_batch(p2p_node *node, uint64_t peer, const void *data, const size_t *lens,
                        size_t count, int compression, size_t *sent);

/* ---- Peers -------------------------------------------------------------- */

/* p2p_peer_id copies a peer's node id into buf. Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL, P2P_ERANGE. */
int p2p_peer_id(p2p_node *node, uint64_t peer, char *buf, size_t len);

/* p2p_peer_host copies a peer's address into buf. */
int p2p_peer_host(p2p_node *node, uint64_t peer, char *buf, size_t len);

/* p2p_peer_port stores a peer's listening port in *port. */
int p2p_peer_port(p2p_node *node, uint64_t peer, int *port);

/* p2p_peer_direction stores P2P_INBOUND or P2P_OUTBOUND in *direction. */
int p2p_peer_direction(p2p_node *node, uint64_t peer, int *direction);

/*
 * p2p_peer_set_info stores a copy of len bytes under key (NUL-terminated) in
 * the peer's own key/value store (p2pnetwork's set_info). The library
 * itself may store values there too (the secure node's "ping").
 * Returns P2P_OK, P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL.
 */
int p2p_peer_set_info(p2p_node *node, uint64_t peer, const char *key, const void *value, size_t len);

/*
 * p2p_peer_get_info copies the value under key into buf[0..cap) and its
 * full length into *len (len may be NULL). buf may be NULL with cap 0 to ask
 * for the length. Returns P2P_OK, P2P_ENOTFOUND, P2P_ERANGE (truncated),
 * P2P_EHANDLE, P2P_ENOPEER, P2P_EINVAL.
 */
int p2p_peer_get_info(p2p_node *node, uint64_t peer, const char *key, void *buf, size_t cap, size_t *len);

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

#endif /* P2P_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* P2PNODE_H */
