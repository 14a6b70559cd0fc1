/*
 * my_own_p2p_application.c - the p2pnetwork example "MyOwnPeer2PeerNode"
 * in C: three nodes of your own kind in a ring exchange messages.
 *
 * In p2pnetwork you derive a class from Node and override its event
 * methods. In C, a node of your own is a struct (here my_node) holding the
 * library's node and your state, plus one function per event; the event
 * callback dispatches to them. Ports are 0 (free ports) and the program waits
 * on conditions instead of sleeping, so it ends by itself in a moment.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "p2pnode.h"

typedef struct my_node {
    p2p_node *node;
    int number;
    char id[P2P_MAX_ID_LEN + 1];
    int port;
    pthread_mutex_t mu; /* events come on the library's thread */
    int message_count_recv;
} my_node;

/* The event methods of MyOwnPeer2PeerNode. */
static void outbound_node_connected(my_node *self, const p2p_event *ev) {
    printf("outbound_node_connected (%s): %s\n", self->id, ev->peer_id);
}
static void inbound_node_connected(my_node *self, const p2p_event *ev) {
    printf("inbound_node_connected: (%s): %s\n", self->id, ev->peer_id);
}
static void inbound_node_disconnected(my_node *self, const p2p_event *ev) {
    printf("inbound_node_disconnected: (%s): %s\n", self->id, ev->peer_id);
}
static void outbound_node_disconnected(my_node *self, const p2p_event *ev) {
    printf("outbound_node_disconnected: (%s): %s\n", self->id, ev->peer_id);
}
static void node_message(my_node *self, const p2p_event *ev) {
    printf("node_message (%s) from %s: %.*s\n", self->id, ev->peer_id, (int)ev->data_len, (const char *)ev->data);
    pthread_mutex_lock(&self->mu);
    self->message_count_recv++;
    pthread_mutex_unlock(&self->mu);
}
static void node_disconnect_with_outbound_node(my_node *self, const p2p_event *ev) {
    printf("node wants to disconnect with other outbound node: (%s): %s\n", self->id, ev->peer_id);
}
static void node_request_to_stop(my_node *self) { printf("node is requested to stop (%s): \n", self->id); }

static int on_event(void *user, const p2p_event *ev) {
    my_node *self = user;
    switch (ev->type) {
    case P2P_EVENT_OUTBOUND_CONNECTED: outbound_node_connected(self, ev); break;
    case P2P_EVENT_INBOUND_CONNECTED: inbound_node_connected(self, ev); break;
    case P2P_EVENT_OUTBOUND_DISCONNECTED: outbound_node_disconnected(self, ev); break;
    case P2P_EVENT_INBOUND_DISCONNECTED: inbound_node_disconnected(self, ev); break;
    case P2P_EVENT_MESSAGE: node_message(self, ev); break;
    case P2P_EVENT_DISCONNECT_WITH_OUTBOUND: node_disconnect_with_outbound_node(self, ev); break;
    case P2P_EVENT_REQUEST_TO_STOP: node_request_to_stop(self); break;
    }
    return 1; /* RECONNECTION_ERROR: keep trying, as p2pnetwork's Node does */
}

static int my_node_init(my_node *self, int number) {
    char id[16];
    memset(self, 0, sizeof *self);
    self->number = number;
    pthread_mutex_init(&self->mu, NULL);
    snprintf(id, sizeof id, "%d", number);
    if (p2p_node_new("127.0.0.1", 0, id, 0, &self->node) != P2P_OK) {
        fprintf(stderr, "node %d: %s\n", number, p2p_errmsg());
        return -1;
    }
    p2p_buf idb = P2P_BUF_INIT;
    if (p2p_node_id_buf(self->node, &idb) == P2P_OK)
        snprintf(self->id, sizeof self->id, "%.*s", (int)idb.len, (const char *)idb.data);
    p2p_buf_free(&idb);
    p2p_node_port(self->node, &self->port);
    p2p_node_set_callback(self->node, on_event, self);
    printf("MyPeer2PeerNode: Started\n");
    return 0;
}

static int received(my_node *self) {
    pthread_mutex_lock(&self->mu);
    int n = self->message_count_recv;
    pthread_mutex_unlock(&self->mu);
    return n;
}

static size_t peers(my_node *self) {
    p2p_buf list = P2P_BUF_INIT;
    size_t n = p2p_node_peers_buf(self->node, P2P_ALL, &list) == P2P_OK ? list.len / sizeof(uint64_t) : 0;
    p2p_buf_free(&list);
    return n;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_until(cond): true once cond holds, false after 10 s. */
#define wait_until(cond)                                            \
    __extension__({                                                 \
        int64_t until_ = now_ms() + 10000;                          \
        struct timespec nap_ = {0, 5 * 1000 * 1000};                \
        while (!(cond) && now_ms() < until_) nanosleep(&nap_, NULL); \
        !!(cond);                                                   \
    })

static void send_to_nodes(my_node *self, const char *text) {
    p2p_node_broadcast(self->node, text, strlen(text), NULL, 0, P2P_COMPRESSION_NONE);
}

int main(void) {
    my_node node_1, node_2, node_3;
    int ok = 1;
    if (my_node_init(&node_1, 1) || my_node_init(&node_2, 2) || my_node_init(&node_3, 3)) return 1;

    p2p_node_start(node_1.node);
    p2p_node_start(node_2.node);
    p2p_node_start(node_3.node);

    p2p_node_connect(node_1.node, "127.0.0.1", node_2.port, 0, NULL);
    p2p_node_connect(node_2.node, "127.0.0.1", node_3.port, 0, NULL);
    p2p_node_connect(node_3.node, "127.0.0.1", node_1.port, 0, NULL);
    ok &= wait_until(peers(&node_1) == 2 && peers(&node_2) == 2 && peers(&node_3) == 2);

    send_to_nodes(&node_1, "message: Hi there!");
    ok &= wait_until(received(&node_2) == 1 && received(&node_3) == 1);

    printf("node 1 is stopping..\n");
    p2p_node_stop(node_1.node);
    ok &= wait_until(peers(&node_2) == 1 && peers(&node_3) == 1);

    for (int i = 0; i < 3; i++) send_to_nodes(&node_2, "message: Hi there node 2!");
    for (int i = 0; i < 3; i++) send_to_nodes(&node_3, "message: Hi there node 3!");
    ok &= wait_until(received(&node_2) == 4 && received(&node_3) == 4);

    p2p_node_stop(node_2.node);
    p2p_node_stop(node_3.node);
    p2p_node_free(node_1.node);
    p2p_node_free(node_2.node);
    p2p_node_free(node_3.node);
    printf("end test\n");
    if (!ok) fprintf(stderr, "my_own_p2p_application: a condition was not met in time\n");
    return ok ? 0 : 1;
}
