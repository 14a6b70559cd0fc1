/* fault_tests.h - the hostile-call and fault tests (test_faults.c), listed
 * for the table of test_capi.c: X(name, subset) for each, subset marking
 * those that run under valgrind too. */
#ifndef P2P_FAULT_TESTS_H
#define P2P_FAULT_TESTS_H

#define FAULT_TESTS(X)                              \
    X(stop_nobody_polls, 1)                         \
    X(stop_nobody_polls_full_queue, 1)              \
    X(disconnect_nobody_polls, 1)                   \
    X(huge_lengths_not_read, 1)                     \
    X(limit_value_ranges, 1)                        \
    X(poll_max_any_size, 1)                         \
    X(poll_handles_outlive_peer, 1)                 \
    X(freed_nodes_leave_little, 0) /* 12,000 cycles: minutes under valgrind */ \
    X(forked_child_fails_fast, 0) /* a forked child's valgrind would share the log */ \
    X(free_while_polling, 1)                        \
    X(counters_add_up, 1)                           \
    X(overflow_drop_newest, 1)                      \
    X(overflow_drop_oldest, 1)                      \
    X(overflow_disconnect, 1)                       \
    X(stop_reports_undelivered, 1)                  \
    X(stop_wakes_blocked_send, 1)                   \
    X(any_capacity_and_copy_limits, 1)

#define FAULT_DECLARE_(name, subset) void test_##name(void);
FAULT_TESTS(FAULT_DECLARE_)
#undef FAULT_DECLARE_

#endif
