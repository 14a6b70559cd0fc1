// Internal declarations shared by shim.c and the cgo files. Not installed.
#ifndef P2P_SHIM_H
#define P2P_SHIM_H
#include <stddef.h>
#include <stdint.h>

// The registered callback and its user data, kept in C memory.
typedef struct p2p_callback_ {
    p2p_event_fn fn;
    void *user_data;
} p2p_callback_;

void p2p_set_error_(const char *msg, size_t len);
// The calling OS thread, to tell the thread that polls a node apart.
uintptr_t p2p_thread_self_(void);
// A constant "" for event fields that do not apply.
extern const char p2p_empty_[1];
int p2p_call_event_(p2p_callback_ *cb, const p2p_event *ev);
#endif
