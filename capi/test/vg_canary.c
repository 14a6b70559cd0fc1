/*
 * vg_canary.c - proves that the valgrind run still sees errors in C code
 * once the Go runtime's noise is suppressed: with a node running (so the Go
 * runtime is busy) it writes one byte past a heap block, once from the main
 * thread and once from inside the event callback, on the library's thread.
 * The Makefile expects valgrind to report both, in this file. Run without
 * valgrind it exits 0 (the writes land in malloc's slack).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "p2pnode.h"

static volatile int called;

static int on_event(void *user, const p2p_event *ev) {
    (void)user;
    if (ev->type == P2P_EVENT_MESSAGE) {
        char *p = malloc(16);
        p[16] = 'c'; /* deliberate: invalid write of size 1, in the callback */
        free(p);
        __atomic_store_n(&called, 1, __ATOMIC_SEQ_CST);
    }
    return 1;
}

int main(void) {
    p2p_node *a = NULL, *b = NULL;
    int port = 0;
    uint64_t peer = 0;
    if (p2p_node_new("127.0.0.1", 0, NULL, 0, &a) || p2p_node_new("127.0.0.1", 0, NULL, 0, &b)) return 2;
    p2p_node_set_callback(a, on_event, NULL);
    p2p_node_set_callback(b, on_event, NULL);
    p2p_node_start(a);
    p2p_node_start(b);
    p2p_node_port(b, &port);
    if (p2p_node_connect(a, "127.0.0.1", port, 0, &peer) != P2P_OK) return 2;
    p2p_node_send(a, peer, "canary", 6, P2P_COMPRESSION_NONE);
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 4000 && !__atomic_load_n(&called, __ATOMIC_SEQ_CST); i++) nanosleep(&nap, NULL);
    char *q = malloc(32);
    q[32] = 'm'; /* deliberate: invalid write of size 1, on the main thread */
    free(q);
    p2p_node_free(a);
    p2p_node_free(b);
    puts(called ? "canary: callback ran" : "canary: callback never ran");
    return called ? 0 : 2;
}
