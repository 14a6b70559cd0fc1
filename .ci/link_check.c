/* Link check for the Windows DLL (make test-dll): calls every function of the
 * header once, so that linking fails if the DLL lacks one. Also runnable on
 * Linux against libp2pnode.so. */
#include <stdio.h>
#include "p2pnode.h"

static int on_event(void *user, const p2p_event *ev) { (void)user; (void)ev; return 1; }

int main(void) {
    p2p_node *node = NULL;
    int port = 0, on = 0, dir = 0;
    int64_t limit = 0;
    size_t count = 0, len = 0;
    p2p_counters counters;
    p2p_event events[4];
    printf("p2pnode %s\n", p2p_version());
    if (p2p_node_new("127.0.0.1", 0, NULL, 0, &node) != P2P_OK) {
        fprintf(stderr, "p2p_node_new: %s\n", p2p_errmsg());
        return 1;
    }
    p2p_node_set_callback(node, on_event, NULL);
    p2p_node_set_callback(node, NULL, NULL);
    p2p_node_set_limit(node, P2P_LIMIT_MAX_FRAME_SIZE, 1 << 20);
    p2p_node_get_limit(node, P2P_LIMIT_MAX_FRAME_SIZE, &limit);
    p2p_node_set_debug(node, 0);
    p2p_node_get_debug(node, &on);
    p2p_node_start(node);
    p2p_node_port(node, &port);
    p2p_node_counters(node, &counters);
    p2p_peer_counters(node, 1, &counters);
    p2p_node_connect(node, "127.0.0.1", port, 0, NULL);
    p2p_node_disconnect(node, 1);
    p2p_node_send(node, 1, "x", 1, P2P_COMPRESSION_NONE);
    p2p_node_broadcast(node, "x", 1, NULL, 0, P2P_COMPRESSION_ZLIB);
    p2p_peer_port(node, 1, &port);
    p2p_peer_direction(node, 1, &dir);
    p2p_peer_set_info(node, 1, "k", "v", 1);
    p2p_node_poll(node, events, 4, 0, &count);
    const uint8_t *data = NULL;
    size_t lens[1] = {1};
    p2p_node_poll_batch(node, events, 4, 0, &count, &data, &len);
    p2p_node_send_batch(node, 1, "x", lens, 1, P2P_COMPRESSION_NONE, &count);
    p2p_node_reply(node, 1);
    printf("last error: %s (%s)\n", p2p_errmsg(), p2p_strerror(P2P_ENOPEER));
    p2p_node_request_stop(node);
    p2p_node_stop(node);
    if (p2p_node_free(node) != P2P_OK) return 1;

    /* the secure node */
    p2p_secure_config cfg = {0};
    char pem[P2P_MAX_KEY_PEM_LEN + 1] = "";
    int reject = 0;
    if (p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &node) != P2P_OK) {
        fprintf(stderr, "p2p_secure_node_new: %s\n", p2p_errmsg());
        return 1;
    }
    p2p_secure_key_generate(node, 2048);
    p2p_secure_key_load(node, "no-such.key", NULL);
    p2p_secure_key_save(node, "", NULL, P2P_KEY_FORMAT_P2PNODE);
    p2p_node_start(node);
    p2p_secure_send_message(node, "1", 1);
    p2p_secure_send(node, 1, "{}", 2);
    p2p_secure_broadcast(node, "{}", 2, NULL, 0);
    p2p_secure_send_ping(node);
    p2p_secure_send_discovery(node);
    p2p_secure_check_message(pem, len, &reject);
    p2p_secure_pin(node, "id", NULL);
    /* p2psecure's helpers and delegation */
    unsigned char key[32];
    p2p_secure_set_delegate(node, P2P_DELEGATE_PING);
    p2p_secure_handle(node, 1, P2P_STEP_SEND_PONG, "{\"timestamp\": 1}", 16);
    p2p_secure_verify(pem, "x", 1, pem);
    p2p_secure_derive_key("pw", 2, "salt", 4, key, sizeof key);
    p2p_secure_aes_encrypt_file("", key, sizeof key, "x", 1);
    p2p_secure_aes_encrypt_file_pw("", "pw", 2, "x", 1);
    /* 0.3 */
    {
        p2p_buf b = P2P_BUF_INIT;
        p2p_peer facts;
        p2p_stats stats;
        p2p_secure_opts opts;
        p2p_ev evs[2];
        p2p_node *sn = NULL;
        double secs = 0;
        int comp = 0;
        const uint8_t *data = NULL;
        size_t data_len = 0;
        P2P_INIT(&facts);
        P2P_INIT(&stats);
        P2P_INIT(&opts);
        P2P_INIT_ARRAY(evs, 2);
        printf("%s %s %s\n", p2p_event_name(P2P_EVENT_MESSAGE), p2p_reject_name(P2P_REJECT_REPLAY),
               p2p_compression_name(P2P_COMPRESSION_ZLIB));
        p2p_compression_from_name("lzma", &comp);
        printf("%s\n", p2p_kind_name(P2P_KIND_JSON));
        p2p_node_id_buf(node, &b);
        p2p_buf_free(&b);
        p2p_node_host_buf(node, &b);
        p2p_buf_free(&b);
        p2p_node_peers_buf(node, P2P_ALL, &b);
        p2p_buf_free(&b);
        p2p_peer_get_info_buf(node, 1, "k", &b);
        p2p_peer_facts(node, 1, &facts);
        p2p_peer_ping(node, 1, &secs);
        p2p_node_stats(node, &stats);
        p2p_peer_stats(node, 1, &stats);
        p2p_node_set_handler(node, NULL, NULL);
        p2p_node_next(node, evs, 2, 0, &count, &data, &data_len);
        if (p2p_secure_node_create("127.0.0.1", 0, NULL, 0, &opts, &sn) == P2P_OK) p2p_node_free(sn);
        p2p_secure_hash("{}", 2, &b);
        p2p_buf_free(&b);
        p2p_secure_password("pw", 2, &b);
        p2p_buf_free(&b);
        p2p_secure_key_load_bytes(node, "", "pw", 2);
        p2p_secure_key_save_bytes(node, "", "pw", 2, P2P_KEY_FORMAT_P2PSECURE);
        p2p_secure_public_key_buf(node, &b);
        p2p_secure_private_key_buf(node, &b);
        p2p_secure_pinned_key_buf(node, "id", &b);
        p2p_secure_create_message_buf(node, "{}", 2, &b);
        p2p_secure_canonical_buf("{}", 2, &b);
        p2p_buf_free(&b);
        p2p_secure_sign_buf(node, "x", 1, &b);
        p2p_secure_encrypt_buf("", "x", 1, &b);
        p2p_secure_decrypt_buf(node, "", 0, &b);
        p2p_secure_aes_pad_buf("x", 1, &b);
        p2p_buf_free(&b);
        p2p_secure_aes_encrypt_buf(key, sizeof key, "x", 1, &b);
        p2p_buf_free(&b);
        p2p_secure_aes_decrypt_buf(key, sizeof key, "x", 1, &b);
        p2p_secure_aes_encrypt_pw_buf("pw", 2, "x", 1, &b);
        p2p_buf_free(&b);
        p2p_secure_aes_decrypt_pw_buf("pw", 2, "x", 1, &b);
        p2p_secure_aes_decrypt_file_buf("", key, sizeof key, &b);
        p2p_secure_aes_decrypt_file_pw_buf("", "pw", 2, &b);
        p2p_buf_free(&b);
    }
    printf("secure node: check_message %d\n", reject);
    return p2p_node_free(node) == P2P_OK ? 0 : 1;
}
