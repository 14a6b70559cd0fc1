/*
 * chat.c - a chat over a topic: every line you type is published to the
 * topic, and every line anyone in the network publishes to it is printed,
 * once. Nodes find each other from one bootstrap address (discovery), and
 * the links between p2pnode nodes are encrypted (the native protocol).
 *
 *     chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]
 *
 * The first node of a network needs no bootstrap; the others give the
 * address of any node already in it. <name> is the node id (unique in the
 * network); the node listens on 127.0.0.1 and a free port unless told
 * otherwise. End with Ctrl-D (end of input).
 *
 *     $ chat alice lobby                  * alice listening on 127.0.0.1:40123, topic lobby
 *     $ chat bob lobby 127.0.0.1:40123    * bob listening on 127.0.0.1:40555, topic lobby
 *     hello                               (alice prints "<bob> hello")
 *
 * Topic messages come only to p2p_node_set_handler's callback (or
 * p2p_node_next), which get the sized p2p_ev with the topic and origin.
 */
#define _POSIX_C_SOURCE 200809L
#include <p2pnode.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NEIGHBOURS = 3 }; /* connections discovery keeps for each node */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER; /* events print from the node's thread */

static void say(const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static int on_event(void *user, const p2p_ev *ev) {
    (void)user;
    switch (ev->type) {
    case P2P_EVENT_TOPIC_MESSAGE:
        say("<%.*s> %.*s", (int)ev->origin_len, ev->origin, (int)ev->data_len, (const char *)ev->data);
        break;
    case P2P_EVENT_OUTBOUND_CONNECTED:
    case P2P_EVENT_INBOUND_CONNECTED: {
        p2p_peer facts; /* the link: native and encrypted, or plaintext */
        P2P_INIT(&facts);
        int encrypted = p2p_peer_facts(ev->node, ev->peer, &facts) == P2P_OK && facts.encrypted;
        p2p_buf_free(&facts.mem);
        say("* connected with %s (%s)", ev->peer_id, encrypted ? "encrypted" : "plaintext");
        break;
    }
    case P2P_EVENT_OUTBOUND_DISCONNECTED:
    case P2P_EVENT_INBOUND_DISCONNECTED:
        say("* %s left", ev->peer_id);
        break;
    }
    return 1; /* RECONNECTION_ERROR: keep trying (the chat dials without reconnect) */
}

/* address splits "host:port" into host (a buffer of size cap) and *port; 0 when it is not one. */
static int address(const char *s, char *host, size_t cap, int *port) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= cap) return 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535) return 0;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return 1;
}

/* check reports a failed call; returns rc. */
static int check(int rc, const char *what) {
    if (rc != P2P_OK) fprintf(stderr, "chat: %s: %s (%s)\n", what, p2p_errmsg(), p2p_strerror(rc));
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]\n");
        return 2;
    }
    const char *name = argv[1], *topic = argv[2];
    char boot_host[256] = "", host[256] = "127.0.0.1";
    int boot_port = 0, port = 0;
    if ((argc > 3 && !address(argv[3], boot_host, sizeof boot_host, &boot_port)) ||
        (argc > 4 && !address(argv[4], host, sizeof host, &port))) {
        fprintf(stderr, "chat: an address is <host>:<port>\n");
        return 2;
    }

    p2p_node *node = NULL;
    if (check(p2p_node_new(host, port, name, 0, &node), "new node") != P2P_OK) return 1;
    int rc = check(p2p_node_set_handler(node, on_event, NULL), "handler");
    if (rc == P2P_OK) rc = check(p2p_node_subscribe(node, topic, strlen(topic)), "subscribe");
    if (rc == P2P_OK) rc = check(p2p_node_start(node), "start");
    if (rc == P2P_OK) rc = check(p2p_node_port(node, &port), "port");
    if (rc == P2P_OK) say("* %s listening on %s:%d, topic %s", name, host, port, topic);
    if (rc == P2P_OK && argc > 3) rc = check(p2p_node_connect(node, boot_host, boot_port, 0, NULL), "join");
    /* Learn the network from the peers and keep that many connections. */
    if (rc == P2P_OK) rc = check(p2p_node_discover(node, NEIGHBOURS), "discover");

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (rc == P2P_OK && (n = getline(&line, &cap, stdin)) != -1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n > 0) rc = check(p2p_node_publish(node, topic, strlen(topic), line, (size_t)n, 0), "publish");
    }
    free(line);
    p2p_node_stop(node); /* its events are delivered before it returns */
    p2p_node_free(node);
    return rc == P2P_OK ? 0 : 1;
}
