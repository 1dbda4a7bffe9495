/* main.c: the test runner, every suite in suites.h under Check. */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "suites.h"

/* Unit tests first, then the stress tests, then the programs. */
static Suite *(*const main_suites[])(void) = {
	chan_suite, chan_close_suite, chan_null_suite, chan_timeout_suite,
	chan_select_suite, chan_order_suite, chan_mem_suite,
	cli_suite, cli_http_suite, urls_suite, output_suite, limit_suite,
	fetch_suite, shard_suite, hist_suite, stats_suite, body_suite,
	chan_go_suite, chan_stress_suite,
	e2e_output_suite, e2e_options_suite, e2e_errors_suite,
	e2e_exit_suite, e2e_usage_suite, e2e_signal_suite, e2e_stream_suite,
	http_records_suite, http_order_suite, http_options_suite,
	http_retry_suite, http_limits_suite, http_progress_suite,
	e2e_tls_suite, e2e_data_suite, e2e_proxy_suite, e2e_resp_suite,
	e2e_stats_suite, faults_suite, conn_suite, shard_e2e_suite,
	body_e2e_suite, examples_suite, install_suite,
};

/*
 * Usage: run_tests [suite [tcase]].  With no arguments every suite runs,
 * or those CK_RUN_SUITE and CK_RUN_CASE name.  Each test runs in a
 * process of its own; Check prints a summary line, then each failure.
 * After the chan_stress suite alone, a line counts the channel operations
 * it did.  Exits 0 only if every test passed.
 */
int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	const char *only;
	SRunner *sr;
	size_t i;
	int failed;

	/* A process of the diagnostics' tests: see test_chan_go.c. */
	if (argc == 3 && strcmp(argv[1], CHAN_DIAG_CHILD) == 0)
		return chan_diag_child(argv[2]);
	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: run_tests [suite [tcase]]\n");
		return 2;
	}
	sr = srunner_create(main_suites[0]());
	for (i = 1; i < sizeof(main_suites) / sizeof(main_suites[0]); i++)
		srunner_add_suite(sr, main_suites[i]());
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	srunner_run(sr, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL,
	    CK_NORMAL);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	failed = srunner_ntests_failed(sr);
	only = argc > 1 ? argv[1] : getenv("CK_RUN_SUITE");
	if (failed == 0 && srunner_ntests_run(sr) > 0 && only != NULL &&
	    strcmp(only, "chan_stress") == 0 &&
	    chan_stress_report((double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9) == -1)
		failed = 1;
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
