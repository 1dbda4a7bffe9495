/* suites.h: the Check test suites that tests/main.c runs. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

/*
 * Each function builds one suite of freshly allocated test cases; the
 * runner in main.c takes ownership.  A suite's name is the one that
 * CK_RUN_SUITE selects; the suites of tests/test_X.c are named X or
 * X_..., so that the name says which file holds them.  Check runs every
 * test in a process of its own (fork mode), so a test may leave static
 * state and file descriptors behind, and a failed assertion ends only
 * that test.
 */

/* test_chan.c: the channel contract in chan.h. */
Suite	*chan_suite(void);
Suite	*chan_close_suite(void);
Suite	*chan_null_suite(void);
Suite	*chan_timeout_suite(void);
Suite	*chan_select_suite(void);
Suite	*chan_order_suite(void);
Suite	*chan_mem_suite(void);

/* test_chan_go.c: Go's channel and select tests, ported. */
Suite	*chan_go_suite(void);

/* test_chan_stress.c: channels under contention. */
Suite	*chan_stress_suite(void);
/* After chan_stress alone passed: prints the operations it did; 0 or -1. */
int	 chan_stress_report(double);

/*
 * The diagnostics' tests of test_chan_go.c run each case in a process of
 * its own, run_tests CHAN_DIAG_CHILD NAME: a fresh process, as a forked
 * one is not under ThreadSanitizer, whose threads then count twice.
 * Runs case NAME and exits.
 */
#define CHAN_DIAG_CHILD	"--chan-diag-child"
int	 chan_diag_child(const char *name);

/* test_cli.c and test_cli_http.c: the option parser, cli.h. */
Suite	*cli_suite(void);
Suite	*cli_http_suite(void);

/* test_urls.c, test_output.c, test_limit.c, test_fetch.c: the other modules. */
Suite	*urls_suite(void);
Suite	*output_suite(void);
Suite	*limit_suite(void);
Suite	*fetch_suite(void);

/* test_e2e_stream.c: streaming input, stopping, --records, --resume. */
Suite	*e2e_stream_suite(void);

/* test_shard.c: shard.h, then fetch_urls --shard against the fixture. */
Suite	*shard_suite(void);
Suite	*shard_e2e_suite(void);

/* test_hist.c and test_stats.c: --stats's histogram and report. */
Suite	*hist_suite(void);
Suite	*stats_suite(void);

/* test_e2e_stats.c: --stats against the fixture. */
Suite	*e2e_stats_suite(void);

/* test_e2e.c: the fetch_urls binary against the fixture. */
Suite	*e2e_output_suite(void);
Suite	*e2e_options_suite(void);
Suite	*e2e_errors_suite(void);
Suite	*e2e_exit_suite(void);
Suite	*e2e_usage_suite(void);
Suite	*e2e_signal_suite(void);

/* test_http.c: output formats, HTTP options, limits, progress. */
Suite	*http_records_suite(void);
Suite	*http_order_suite(void);
Suite	*http_options_suite(void);
Suite	*http_retry_suite(void);
Suite	*http_limits_suite(void);
Suite	*http_progress_suite(void);

/* test_e2e_tls.c: TLS and name resolution (issue 16). */
Suite	*e2e_tls_suite(void);

/* test_e2e_data.c: request bodies and tokens (issue 16). */
Suite	*e2e_data_suite(void);

/* test_e2e_proxy.c: proxies and HTTP versions (issue 16). */
Suite	*e2e_proxy_suite(void);

/* test_e2e_resp.c: --compressed and --max-filesize (issue 16). */
Suite	*e2e_resp_suite(void);

/* test_faults.c: the fault matrix and security defaults of issue 5. */
Suite	*faults_suite(void);

/* test_conn.c: connection reuse and HTTP/2, against the fixture and nginx. */
Suite	*conn_suite(void);

/* test_examples.c: the example programs. */
Suite	*examples_suite(void);

/* test_install.c: make install and uninstall, and libchan used installed. */
Suite	*install_suite(void);

/* test_body.c: body.h, and bodies saved with -o and -O end to end. */
Suite	*body_suite(void);
Suite	*body_e2e_suite(void);

#endif /* SUITES_H */
