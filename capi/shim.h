// Internal declarations shared by shim.c and the cgo files. Not installed.
#ifndef P2P_SHIM_H
#define P2P_SHIM_H
#include <stddef.h>
#include <stdint.h>

// The registered callback and its user data, kept in C memory.
// ev_fn set (p2p_node_set_handler): the event is handed over as a sized p2p_ev.
typedef struct p2p_callback_ {
    p2p_event_fn fn;
    void *user_data;
    p2p_ev_fn ev_fn;
    int gone; /* set by p2p_node_free (p2p_callback_gone_): a batch stops */
} p2p_callback_;

void p2p_set_error_(const char *msg, size_t len);
// The calling OS thread, to tell the thread that polls a node apart.
uintptr_t p2p_thread_self_(void);
// Watches a node's event thread so that stopping can wait until the thread
// is really gone (hosts such as mono wait at exit for threads that called
// into them). Zero-initialised memory is an unwatched record.
typedef struct p2p_thread_watch_ p2p_thread_watch_;
p2p_thread_watch_ *p2p_watch_new_(void);
void p2p_watch_this_thread_(p2p_thread_watch_ *w);
// Waits up to timeout_ms for the watched thread to end; 1 if it did (or
// was never watched), 0 on timeout.
int p2p_watch_wait_(p2p_thread_watch_ *w, int timeout_ms);
// Releases the record: at once if its thread is gone (or was never
// watched), otherwise when the thread ends.
void p2p_watch_release_(p2p_thread_watch_ *w);
// A constant "" for event fields that do not apply.
extern const char p2p_empty_[1];
int p2p_call_event_(p2p_callback_ *cb, const p2p_event *ev);
// A message of a batch: its payload, how it is presented, and its peer's
// record (an index into the batch's records).
typedef struct p2p_batch_item_ {
    const uint8_t *data;
    uint32_t len;
    uint8_t kind, compression;
    uint16_t peer;
} p2p_batch_item_;
// Calls the callback for each of n message events in order, on the calling
// (event) thread, each made of an item and its peer's record, and returns
// how many it called it for: n, or fewer when the node was freed meanwhile
// (p2p_callback_gone_).
size_t p2p_call_batch_(p2p_callback_ *cb, const p2p_event *peers, const p2p_batch_item_ *items, size_t n);
// Marks the callback's node freed, from any thread: a batch under way
// calls it for no further event.
void p2p_callback_gone_(p2p_callback_ *cb);
// Non-zero in a child forked from the process that loaded the library.
extern volatile int p2p_forked_;
// Sets the thread's message for a call in a forked child; returns P2P_EFORK.
int p2p_fork_fail_(void);
// Lists a node handle in C memory (handles live for the process).
void p2p_keep_handle_(void *h);
// Fills the first size bytes of *out (zeroing any beyond the library's
// sizeof(p2p_ev)) from ev; the discovery entries go to nodes (ev->n_nodes
// p2p_peer, the caller's memory). size is at least sizeof(p2p_ev) of 0.3.
void p2p_ev_fill_(p2p_ev *out, size_t size, const p2p_event *ev, p2p_peer *nodes);
// Converts n polled events into the caller's array of stride bytes; the
// discovery entries of all of them go into one malloc'd block, returned
// (NULL when none), which the caller frees.
void *p2p_ev_convert_(const p2p_event *evs, size_t n, void *out, size_t stride);
#endif
