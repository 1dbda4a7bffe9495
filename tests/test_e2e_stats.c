/* test_e2e_stats.c: end-to-end tests of --stats against the fixture. */

#define _POSIX_C_SOURCE 200809L

#include <check.h>

Suite *
e2e_stats_suite(void)
{
	Suite *s = suite_create("e2e_stats");
	TCase *tc = tcase_create("e2e_stats");

	suite_add_tcase(s, tc);
	return s;
}
