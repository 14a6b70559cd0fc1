/*
 * compression.c - the p2pnetwork compression example in C: the same
 * message sent with each codec; the receiver learns which one it came with.
 * Any payload arrives exactly; a peer needs nothing to be told beforehand.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "p2pnode.h"

static const char *const CODECS[] = {"none", "zlib", "bzip2", "lzma"};

typedef struct inbox {
    pthread_mutex_t mu;
    int count;
    int ok; /* every message arrived exactly */
} inbox;

static const char TEXT[] =
    "p2pnode compresses like p2pnetwork: zlib, bzip2 and lzma, base64 on the wire. "
    "p2pnode compresses like p2pnetwork: zlib, bzip2 and lzma, base64 on the wire.";

static int on_event(void *user, const p2p_event *ev) {
    inbox *in = user;
    if (ev->type == P2P_EVENT_MESSAGE) {
        int exact = ev->data_len == sizeof TEXT - 1 && memcmp(ev->data, TEXT, ev->data_len) == 0;
        printf("received %zu bytes, compressed with %s, %s\n", ev->data_len, CODECS[ev->compression],
               exact ? "intact" : "DAMAGED");
        pthread_mutex_lock(&in->mu);
        in->count++;
        in->ok &= exact;
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
    inbox in = {PTHREAD_MUTEX_INITIALIZER, 0, 1};
    p2p_node *sender = NULL, *receiver = NULL;
    int port = 0;
    uint64_t peer = 0;
    if (p2p_node_new("127.0.0.1", 0, NULL, 0, &sender) != P2P_OK ||
        p2p_node_new("127.0.0.1", 0, NULL, 0, &receiver) != P2P_OK) {
        fprintf(stderr, "compression: %s\n", p2p_errmsg());
        return 1;
    }
    p2p_node_set_callback(receiver, on_event, &in);
    p2p_node_start(sender);
    p2p_node_start(receiver);
    p2p_node_port(receiver, &port);
    if (p2p_node_connect(sender, "127.0.0.1", port, 0, &peer) != P2P_OK) {
        fprintf(stderr, "compression: connect: %s\n", p2p_errmsg());
        return 1;
    }
    for (int c = P2P_COMPRESSION_NONE; c <= P2P_COMPRESSION_LZMA; c++) {
        int rc = p2p_node_send(sender, peer, TEXT, sizeof TEXT - 1, c);
        printf("sent with %s: %s\n", CODECS[c], p2p_strerror(rc));
    }
    int64_t until = now_ms() + 10000;
    struct timespec nap = {0, 5 * 1000 * 1000};
    while (count_of(&in) < 4 && now_ms() < until) nanosleep(&nap, NULL);
    int ok = count_of(&in) == 4 && in.ok;

    p2p_node_free(sender);
    p2p_node_free(receiver);
    printf("end test\n");
    return ok ? 0 : 1;
}
