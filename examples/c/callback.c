/*
 * callback.c - the p2pnetwork callback example in C: instead of a node type
 * of your own, one function receives every event of every node.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "p2pnode.h"

static const char *const EVENT_NAMES[] = {
    "", "outbound_node_connected", "inbound_node_connected", "outbound_node_disconnected",
    "inbound_node_disconnected", "node_message", "node_disconnect_with_outbound_node",
    "node_request_to_stop", "node_reconnection_error"};

static volatile int messages; /* written on node 2's event thread */

/* The callback: event, the node, the connected node, and the data. */
static int node_callback(void *user, const p2p_event *ev) {
    const char *name = user;
    switch (ev->type) {
    case P2P_EVENT_MESSAGE:
        printf("Event: %s from main node %s: connected node %s: %.*s\n", EVENT_NAMES[ev->type], name,
               ev->peer_id, (int)ev->data_len, (const char *)ev->data);
        __atomic_add_fetch(&messages, 1, __ATOMIC_SEQ_CST);
        break;
    case P2P_EVENT_REQUEST_TO_STOP:
        printf("Event: %s from main node %s\n", EVENT_NAMES[ev->type], name);
        break;
    case P2P_EVENT_RECONNECTION_ERROR:
        printf("Event: %s from main node %s: %s:%d, trial %d\n", EVENT_NAMES[ev->type], name, ev->host,
               ev->port, ev->trials);
        break;
    default:
        printf("Event: %s from main node %s: connected node %s\n", EVENT_NAMES[ev->type], name, ev->peer_id);
    }
    return 1;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
    p2p_node *node_1 = NULL, *node_2 = NULL;
    int port_2 = 0, ok = 1;
    uint64_t peer = 0;
    if (p2p_node_new("127.0.0.1", 0, "node-1", 0, &node_1) != P2P_OK ||
        p2p_node_new("127.0.0.1", 0, "node-2", 0, &node_2) != P2P_OK) {
        fprintf(stderr, "callback: %s\n", p2p_errmsg());
        return 1;
    }
    p2p_node_set_callback(node_1, node_callback, "node-1");
    p2p_node_set_callback(node_2, node_callback, "node-2");
    p2p_node_start(node_1);
    p2p_node_start(node_2);
    p2p_node_port(node_2, &port_2);

    if (p2p_node_connect(node_1, "127.0.0.1", port_2, 0, &peer) != P2P_OK) {
        fprintf(stderr, "callback: connect: %s\n", p2p_errmsg());
        ok = 0;
    }
    const char *hello = "Hi there, this is node 1!";
    p2p_node_send(node_1, peer, hello, strlen(hello), P2P_COMPRESSION_NONE);
    int64_t until = now_ms() + 10000;
    struct timespec nap = {0, 5 * 1000 * 1000};
    while (__atomic_load_n(&messages, __ATOMIC_SEQ_CST) < 1 && now_ms() < until) nanosleep(&nap, NULL);
    ok &= messages == 1;

    p2p_node_stop(node_1);
    p2p_node_stop(node_2);
    p2p_node_free(node_1);
    p2p_node_free(node_2);
    printf("end test\n");
    return ok ? 0 : 1;
}
