/*
 * dict_messages.c - the p2pnetwork example that sends dicts, in C. A dict
 * travels as its JSON text (as json.dumps writes it); the receiver is told
 * the payload is JSON (P2P_KIND_JSON), as a Python peer would get a dict.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "p2pnode.h"

static const char *const KINDS[] = {"json", "text", "bytes"};

typedef struct inbox {
    pthread_mutex_t mu;
    int count, json;
} inbox;

static int on_event(void *user, const p2p_event *ev) {
    inbox *in = user;
    if (ev->type == P2P_EVENT_MESSAGE) {
        printf("node_message from %s (%s): %.*s\n", ev->peer_id, KINDS[ev->kind], (int)ev->data_len,
               (const char *)ev->data);
        pthread_mutex_lock(&in->mu);
        in->count++;
        in->json += ev->kind == P2P_KIND_JSON;
        pthread_mutex_unlock(&in->mu);
    }
    return 1;
}

static int count_of(inbox *in) {
    pthread_mutex_lock(&in->mu);
    int n = in->count;
    pthread_mutex_unlock(&in->mu);
    return n;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
    inbox in = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    p2p_node *node_1 = NULL, *node_2 = NULL;
    int port = 0;
    uint64_t peer = 0;
    char json[256];
    if (p2p_node_new("127.0.0.1", 0, "node-1", 0, &node_1) != P2P_OK ||
        p2p_node_new("127.0.0.1", 0, "node-2", 0, &node_2) != P2P_OK) {
        fprintf(stderr, "dict_messages: %s\n", p2p_errmsg());
        return 1;
    }
    p2p_node_set_callback(node_2, on_event, &in);
    p2p_node_start(node_1);
    p2p_node_start(node_2);
    p2p_node_port(node_2, &port);
    if (p2p_node_connect(node_1, "127.0.0.1", port, 0, &peer) != P2P_OK) {
        fprintf(stderr, "dict_messages: connect: %s\n", p2p_errmsg());
        return 1;
    }
    /* {"message": "Hi there!", "number": i, "list": [1, 2, 3]}, json.dumps style */
    for (int i = 0; i < 3; i++) {
        int len = snprintf(json, sizeof json, "{\"message\": \"Hi there!\", \"number\": %d, \"list\": [1, 2, 3]}", i);
        p2p_node_send(node_1, peer, json, (size_t)len, P2P_COMPRESSION_NONE);
    }
    int64_t until = now_ms() + 10000;
    struct timespec nap = {0, 5 * 1000 * 1000};
    while (count_of(&in) < 3 && now_ms() < until) nanosleep(&nap, NULL);
    int ok = count_of(&in) == 3 && in.json == 3;

    p2p_node_free(node_1);
    p2p_node_free(node_2);
    printf("end test\n");
    return ok ? 0 : 1;
}
