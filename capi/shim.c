// The C half of the C ABI: what is best written in C (static strings, the
// per-thread error message, the call through the user's function pointer),
// kept out of the files with //export so that cgo's generated header does not
// clash with the hand-written one.
#include <stdio.h>
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

#if defined(_WIN32)
#include <windows.h>
P2P_INTERNAL uintptr_t p2p_thread_self_(void) { return (uintptr_t)GetCurrentThreadId(); }
#else
#include <pthread.h>
P2P_INTERNAL uintptr_t p2p_thread_self_(void) { return (uintptr_t)pthread_self(); }
#endif

P2P_INTERNAL void p2p_set_error_(const char *msg, size_t len) {
    if (len >= sizeof p2p_err_) len = sizeof p2p_err_ - 1;
    memcpy(p2p_err_, msg, len);
    p2p_err_[len] = 0;
}

P2P_INTERNAL int p2p_call_event_(p2p_callback_ *cb, const p2p_event *ev) {
    return cb->fn(cb->user_data, ev);
}

P2P_API const char *p2p_version(void) { return P2P_VERSION_STRING; }

P2P_API const char *p2p_errmsg(void) { return p2p_err_; }

P2P_API int p2p_last_error(char *buf, size_t len) {
    if (buf == NULL || len == 0) {
        static const char msg[] = "p2p_last_error: buf is NULL or len is 0";
        p2p_set_error_(msg, sizeof msg - 1);
        return P2P_EINVAL;
    }
    size_t n = strlen(p2p_err_);
    int rc = P2P_OK;
    if (n >= len) {
        n = len - 1;
        rc = P2P_ERANGE;
    }
    memcpy(buf, p2p_err_, n);
    buf[n] = 0;
    return rc;
}

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
    }
    return "unknown status code";
}
