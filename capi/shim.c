// The C half of the C ABI: what is best written in C (static strings, the
// per-thread error message, the call through the user's function pointer),
// kept out of the files with //export so that cgo's generated header does not
// clash with the hand-written one.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P2P_NO_PROTOTYPES
#include "p2pnode.h"
#include "shim.h"

#if defined(_MSC_VER)
#define P2P_THREAD_LOCAL __declspec(thread)
#else
#define P2P_THREAD_LOCAL _Thread_local
#endif

#if defined(_WIN32)
#define P2P_API __declspec(dllexport)
#define P2P_INTERNAL
#else
#define P2P_API __attribute__((visibility("default")))
#define P2P_INTERNAL __attribute__((visibility("hidden")))
#endif

static P2P_THREAD_LOCAL char p2p_err_[1024];

P2P_INTERNAL const char p2p_empty_[1] = "";

/* Node handles are never freed: a freed node's handle stays a tombstone, so
 * that its address cannot come back as another node. The Go side remembers
 * them in Go memory, which leak checkers (valgrind) do not scan; listed here
 * too, they are seen as reachable instead of lost. Called under the Go
 * side's lock. */
static void **p2p_handles_;
static size_t p2p_handles_n_, p2p_handles_cap_;

P2P_INTERNAL void p2p_keep_handle_(void *h) {
    if (p2p_handles_n_ == p2p_handles_cap_) {
        size_t cap = p2p_handles_cap_ ? 2 * p2p_handles_cap_ : 64;
        void **grown = realloc(p2p_handles_, cap * sizeof *grown);
        if (grown == NULL) return; /* only the leak checker's view suffers */
        p2p_handles_ = grown;
        p2p_handles_cap_ = cap;
    }
    p2p_handles_[p2p_handles_n_++] = h;
}

#if defined(_WIN32)
#include <windows.h>
P2P_INTERNAL uintptr_t p2p_thread_self_(void) { return (uintptr_t)GetCurrentThreadId(); }
P2P_INTERNAL volatile int p2p_forked_; /* Windows has no fork */
#else
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>
P2P_INTERNAL uintptr_t p2p_thread_self_(void) { return (uintptr_t)pthread_self(); }

/* Set in a child forked from the process that loaded the library: only the
 * forking thread lives on there, and the Go runtime's threads, which run
 * every node, are gone. Every call then fails with P2P_EFORK at once. */
P2P_INTERNAL volatile int p2p_forked_;

static void p2p_on_fork_child_(void) { p2p_forked_ = 1; }

__attribute__((constructor)) static void p2p_watch_fork_(void) {
    pthread_atfork(NULL, NULL, p2p_on_fork_child_);
}
#endif

/* A node's event thread is watched with a thread-specific value whose
 * destructor runs as the thread ends. On Windows stopping does not wait. */
struct p2p_thread_watch_ {
#if !defined(_WIN32)
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
    int watched, gone, orphan;
};

#if defined(_WIN32)
P2P_INTERNAL p2p_thread_watch_ *p2p_watch_new_(void) { return calloc(1, sizeof(p2p_thread_watch_)); }
P2P_INTERNAL void p2p_watch_this_thread_(p2p_thread_watch_ *w) { (void)w; }
P2P_INTERNAL int p2p_watch_wait_(p2p_thread_watch_ *w, int timeout_ms) { (void)w; (void)timeout_ms; return 1; }
P2P_INTERNAL void p2p_watch_release_(p2p_thread_watch_ *w) { free(w); }
#else
static pthread_key_t p2p_watch_key_;
static pthread_once_t p2p_watch_once_ = PTHREAD_ONCE_INIT;

static void p2p_watch_destroy_(p2p_thread_watch_ *w) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static void p2p_watch_gone_(void *arg) {
    p2p_thread_watch_ *w = arg;
    pthread_mutex_lock(&w->mu);
    w->gone = 1;
    int orphan = w->orphan;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (orphan) p2p_watch_destroy_(w);
}

static void p2p_watch_init_(void) { pthread_key_create(&p2p_watch_key_, p2p_watch_gone_); }

P2P_INTERNAL p2p_thread_watch_ *p2p_watch_new_(void) {
    p2p_thread_watch_ *w = calloc(1, sizeof *w);
    if (w != NULL) {
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
    }
    return w;
}

P2P_INTERNAL void p2p_watch_this_thread_(p2p_thread_watch_ *w) {
    pthread_once(&p2p_watch_once_, p2p_watch_init_);
    pthread_mutex_lock(&w->mu);
    w->watched = 1;
    pthread_mutex_unlock(&w->mu);
    pthread_setspecific(p2p_watch_key_, w);
}

P2P_INTERNAL int p2p_watch_wait_(p2p_thread_watch_ *w, int timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    while (w->watched && !w->gone && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
    int done = !w->watched || w->gone;
    pthread_mutex_unlock(&w->mu);
    return done;
}

P2P_INTERNAL void p2p_watch_release_(p2p_thread_watch_ *w) {
    pthread_mutex_lock(&w->mu);
    int later = w->watched && !w->gone;
    if (later) w->orphan = 1; /* the thread's destructor frees it */
    pthread_mutex_unlock(&w->mu);
    if (!later) p2p_watch_destroy_(w);
}
#endif

P2P_INTERNAL int p2p_fork_fail_(void) {
    static const char msg[] = "p2pnode cannot be used in a process forked from the one that loaded it "
                              "(its threads were not copied); use it in the parent, or exec a new program";
    p2p_set_error_(msg, sizeof msg - 1);
    return P2P_EFORK;
}

P2P_INTERNAL void p2p_set_error_(const char *msg, size_t len) {
    if (len >= sizeof p2p_err_) len = sizeof p2p_err_ - 1;
    memcpy(p2p_err_, msg, len);
    p2p_err_[len] = 0;
}

P2P_INTERNAL void p2p_ev_fill_(p2p_ev *out, size_t size, const p2p_event *ev, p2p_peer *nodes) {
    p2p_ev e;
    size_t i;
    memset(&e, 0, sizeof e);
    e.size = size < sizeof e ? size : sizeof e;
    e.type = ev->type;
    e.kind = ev->kind;
    e.node = ev->node;
    e.peer = ev->peer;
    e.peer_id = ev->peer_id;
    e.peer_id_len = strlen(ev->peer_id);
    e.peer_host = ev->peer_host;
    e.peer_host_len = strlen(ev->peer_host);
    e.peer_port = ev->peer_port;
    e.direction = ev->direction;
    e.data = ev->data;
    e.data_len = ev->data_len;
    e.compression = ev->compression;
    e.port = ev->port;
    e.host = ev->host;
    e.trials = ev->trials;
    e.reject = ev->reject;
    e.sender_id = ev->sender_id;
    e.msg_type = ev->msg_type;
    e.reason = ev->reason;
    e.dropped = ev->dropped;
    e.dropped_bytes = ev->dropped_bytes;
    e.topic = p2p_empty_;
    e.origin = p2p_empty_;
    if (ev->type == P2P_EVENT_TOPIC_MESSAGE) {
        /* The 0.2 record carries them in msg_type and sender_id (capi/gossip.go). */
        e.topic = ev->msg_type;
        e.topic_len = strlen(ev->msg_type);
        e.origin = ev->sender_id;
        e.origin_len = strlen(ev->sender_id);
        e.msg_type = p2p_empty_;
        e.sender_id = p2p_empty_;
    }
    if (ev->n_nodes > 0 && nodes != NULL) {
        for (i = 0; i < ev->n_nodes; i++) {
            p2p_peer *p = &nodes[i];
            memset(p, 0, sizeof *p);
            p->size = sizeof *p;
            p->id = ev->nodes[i].id;
            p->id_len = strlen(p->id);
            p->host = ev->nodes[i].host;
            p->host_len = strlen(p->host);
            p->port = ev->nodes[i].port;
            p->direction = ev->nodes[i].direction;
        }
        e.nodes = nodes;
        e.n_nodes = ev->n_nodes;
    }
    memcpy(out, &e, e.size);
    if (size > sizeof e) memset((char *)out + sizeof e, 0, size - sizeof e);
}

P2P_INTERNAL void *p2p_ev_convert_(const p2p_event *evs, size_t n, void *out, size_t stride) {
    size_t i, total = 0;
    p2p_peer *block = NULL, *next;
    for (i = 0; i < n; i++) total += evs[i].n_nodes;
    if (total > 0) block = (p2p_peer *)malloc(total * sizeof *block);
    next = block;
    for (i = 0; i < n; i++) {
        p2p_ev_fill_((p2p_ev *)(void *)((char *)out + i * stride), stride, &evs[i], block ? next : NULL);
        if (block) next += evs[i].n_nodes;
    }
    return block;
}

P2P_INTERNAL int p2p_call_event_(p2p_callback_ *cb, const p2p_event *ev) {
    if (cb->ev_fn != NULL) {
        p2p_ev e;
        p2p_peer small[8];
        p2p_peer *nodes = small;
        int rc;
        if (ev->n_nodes > sizeof small / sizeof small[0]) {
            nodes = (p2p_peer *)malloc(ev->n_nodes * sizeof *nodes);
            if (nodes == NULL) return 1; /* out of C memory: the event cannot be shown */
        }
        p2p_ev_fill_(&e, sizeof e, ev, nodes);
        rc = cb->ev_fn(cb->user_data, &e);
        if (nodes != small) free(nodes);
        return rc;
    }
    if (ev->type == P2P_EVENT_TOPIC_MESSAGE) return 1; /* not for the 0.2 callback */
    return cb->fn(cb->user_data, ev);
}

#if defined(_MSC_VER)
#define P2P_LOAD_GONE_(cb) (*(volatile int *)&(cb)->gone)
#define P2P_STORE_GONE_(cb) (*(volatile int *)&(cb)->gone = 1)
#else
#define P2P_LOAD_GONE_(cb) __atomic_load_n(&(cb)->gone, __ATOMIC_ACQUIRE)
#define P2P_STORE_GONE_(cb) __atomic_store_n(&(cb)->gone, 1, __ATOMIC_RELEASE)
#endif

P2P_INTERNAL void p2p_callback_gone_(p2p_callback_ *cb) { P2P_STORE_GONE_(cb); }

/* A batch of message events (capi/callback.go, onCoreBatch): one Go -> C
 * call for all of them. Each event is built on this stack from its item
 * and its peer's record (for the 0.3 handler, a sized p2p_ev whose string
 * lengths are measured once per peer record), afresh for every call. */
P2P_INTERNAL size_t p2p_call_batch_(p2p_callback_ *cb, const p2p_event *peers, const p2p_batch_item_ *items,
                                    size_t n) {
    size_t i;
    if (cb->ev_fn == NULL) {
        p2p_event ev;
        for (i = 0; i < n; i++) {
            const p2p_batch_item_ *it = &items[i];
            if (P2P_LOAD_GONE_(cb)) return i;
            ev = peers[it->peer];
            ev.data = it->data;
            ev.data_len = it->len;
            ev.kind = it->kind;
            ev.compression = it->compression;
            cb->fn(cb->user_data, &ev);
        }
        return n;
    }
    {
        p2p_ev tmpl, e;
        int cur = -1;
        for (i = 0; i < n; i++) {
            const p2p_batch_item_ *it = &items[i];
            if (P2P_LOAD_GONE_(cb)) return i;
            if (it->peer != cur) {
                /* The peer's record holds every string (empty ones too) and no nodes. */
                cur = it->peer;
                p2p_ev_fill_(&tmpl, sizeof tmpl, &peers[it->peer], NULL);
            }
            e = tmpl;
            e.data = it->data;
            e.data_len = it->len;
            e.kind = it->kind;
            e.compression = it->compression;
            cb->ev_fn(cb->user_data, &e);
        }
    }
    return n;
}

/* ---- 0.3: buffers and names (never enter the Go runtime) ---- */

P2P_API void p2p_buf_free(p2p_buf *buf) {
    if (buf == NULL) return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

P2P_API const char *p2p_event_name(int type) {
    switch (type) {
    case P2P_EVENT_OUTBOUND_CONNECTED: return "outbound_node_connected";
    case P2P_EVENT_INBOUND_CONNECTED: return "inbound_node_connected";
    case P2P_EVENT_OUTBOUND_DISCONNECTED: return "outbound_node_disconnected";
    case P2P_EVENT_INBOUND_DISCONNECTED: return "inbound_node_disconnected";
    case P2P_EVENT_MESSAGE: return "node_message";
    case P2P_EVENT_DISCONNECT_WITH_OUTBOUND: return "node_disconnect_with_outbound_node";
    case P2P_EVENT_REQUEST_TO_STOP: return "node_request_to_stop";
    case P2P_EVENT_RECONNECTION_ERROR: return "node_reconnection_error";
    case P2P_EVENT_SECURE_MESSAGE: return "secure_message";
    case P2P_EVENT_MESSAGE_REJECTED: return "message_rejected";
    case P2P_EVENT_DISCOVERY_ANSWER: return "discovery_answer";
    case P2P_EVENT_TOPIC_MESSAGE: return "node_topic_message";
    }
    return NULL;
}

P2P_API const char *p2p_reject_name(int reject) {
    switch (reject) {
    case P2P_REJECT_NONE: return "none";
    case P2P_REJECT_MALFORMED: return "malformed";
    case P2P_REJECT_BAD_SIGNATURE: return "bad_signature";
    case P2P_REJECT_BAD_HASH: return "bad_hash";
    case P2P_REJECT_BAD_MESSAGE_ID: return "bad_message_id";
    case P2P_REJECT_KEY_MISMATCH: return "key_mismatch";
    case P2P_REJECT_UNTRUSTED_KEY: return "untrusted_key";
    case P2P_REJECT_WEAK_KEY: return "weak_key";
    case P2P_REJECT_REPLAY: return "replay";
    case P2P_REJECT_STALE: return "stale";
    case P2P_REJECT_FUTURE: return "future";
    }
    return NULL;
}

static const char *const p2p_encryption_names_[] = {"preferred", "off", "required"};

P2P_API const char *p2p_encryption_name(int mode) {
    if (mode < P2P_ENCRYPTION_PREFERRED || mode > P2P_ENCRYPTION_REQUIRED) return NULL;
    return p2p_encryption_names_[mode];
}

P2P_API const char *p2p_kind_name(int kind) {
    switch (kind) {
    case P2P_KIND_JSON: return "json";
    case P2P_KIND_TEXT: return "text";
    case P2P_KIND_BYTES: return "bytes";
    }
    return NULL;
}

static const char *const p2p_compression_names_[] = {"none", "zlib", "bzip2", "lzma"};

P2P_API const char *p2p_compression_name(int compression) {
    if (compression < 0 || compression > P2P_COMPRESSION_LZMA) return NULL;
    return p2p_compression_names_[compression];
}

static int p2p_ascii_caseeq_(const char *a, const char *b) {
    for (; *a != 0 && *b != 0; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (x != y) return 0;
    }
    return *a == *b;
}

P2P_API int p2p_compression_from_name(const char *name, int *out) {
    int i;
    if (out == NULL) {
        static const char msg[] = "p2p_compression_from_name: out is NULL";
        p2p_set_error_(msg, sizeof msg - 1);
        return P2P_EINVAL;
    }
    if (name == NULL || name[0] == 0) {
        *out = P2P_COMPRESSION_NONE;
        return P2P_OK;
    }
    for (i = 0; i <= P2P_COMPRESSION_LZMA; i++) {
        if (p2p_ascii_caseeq_(name, p2p_compression_names_[i])) {
            *out = i;
            return P2P_OK;
        }
    }
    {
        static const char msg[] = "p2p_compression_from_name: unknown compression name (none, zlib, bzip2, lzma)";
        p2p_set_error_(msg, sizeof msg - 1);
    }
    return P2P_EINVAL;
}

P2P_API const char *p2p_version(void) { return P2P_VERSION_STRING; }

P2P_API const char *p2p_errmsg(void) { return p2p_err_; }

P2P_API const char *p2p_strerror(int code) {
    switch (code) {
    case P2P_OK: return "success";
    case P2P_EINVAL: return "invalid argument";
    case P2P_EHANDLE: return "unknown or freed node handle";
    case P2P_ESTATE: return "not allowed in the node's current state";
    case P2P_ESTOPPED: return "node is stopped";
    case P2P_ESELF: return "cannot connect with yourself";
    case P2P_EALREADY: return "already connected with this node";
    case P2P_ECONNECT: return "could not connect";
    case P2P_EHANDSHAKE: return "handshake failed";
    case P2P_ENOPEER: return "no such peer";
    case P2P_EFULL: return "send queue of the peer is full";
    case P2P_ETOOBIG: return "message is over the size limit";
    case P2P_ENOTFOUND: return "not found";
    case P2P_ERANGE: return "buffer too small; result truncated";
    case P2P_EBIND: return "could not listen on host and port";
    case P2P_EINTERNAL: return "internal error";
    case P2P_EKEY: return "no key, or a key file that cannot be read or written";
    case P2P_EREJECTED: return "the message failed its checks";
    case P2P_EFORK: return "the library cannot be used in a forked child process";
    case P2P_EREFUSED: return "the peer was refused (key, allow-list or encryption mode)";
    }
    return "unknown status code";
}

P2P_API int p2p_encryption_from_name(const char *name, int *out) {
    int i;
    if (out == NULL) {
        static const char msg[] = "p2p_encryption_from_name: out is NULL";
        p2p_set_error_(msg, sizeof msg - 1);
        return P2P_EINVAL;
    }
    if (name == NULL || name[0] == 0) {
        *out = P2P_ENCRYPTION_PREFERRED;
        return P2P_OK;
    }
    for (i = P2P_ENCRYPTION_PREFERRED; i <= P2P_ENCRYPTION_REQUIRED; i++) {
        if (p2p_ascii_caseeq_(name, p2p_encryption_names_[i])) {
            *out = i;
            return P2P_OK;
        }
    }
    {
        static const char msg[] = "p2p_encryption_from_name: unknown encryption mode (off, preferred, required)";
        p2p_set_error_(msg, sizeof msg - 1);
    }
    return P2P_EINVAL;
}
