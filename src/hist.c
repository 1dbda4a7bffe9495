/* hist.c: a log-linear histogram of durations in bounded memory. */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

struct hist {
	int		 bits;		/* Precision; see hist.h. */
	size_t		 nbuckets;
	uint64_t	 n;
	uint64_t	 min;
	uint64_t	 max;
	double		 sum;		/* For the mean. */
	uint64_t	 counts[];	/* nbuckets of them. */
};

/* The position of the highest bit set in v, which is not 0. */
static int
top_bit(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

/*
 * The bucket of us: below 2^bits the value itself; above, the number of
 * the power of two, times the half-buckets a power has, plus the value's
 * top bits, which count from 2^(bits-1) up.
 */
static size_t
bucket_of(const struct hist *h, uint64_t us)
{
	int shift;

	if (us >= HIST_MAX_US)
		us = HIST_MAX_US;
	if (us < ((uint64_t)1 << h->bits))
		return (size_t)us;
	shift = top_bit(us) - (h->bits - 1);
	return ((size_t)shift << (h->bits - 1)) + (size_t)(us >> shift);
}

/* The middle of bucket i, the value it stands for. */
static uint64_t
middle_of(const struct hist *h, size_t i)
{
	size_t half = (size_t)1 << (h->bits - 1);
	int shift;

	if (i < ((size_t)1 << h->bits))
		return i;
	shift = (int)(i / half) - 1;
	return ((uint64_t)(i - (size_t)shift * half) << shift) +
	    ((uint64_t)1 << (shift - 1));
}

struct hist *
hist_new(int bits)
{
	struct hist probe = { .bits = bits };
	struct hist *h;
	size_t n;

	if (bits < 2 || bits > 16) {
		errno = EINVAL;
		return NULL;
	}
	n = bucket_of(&probe, HIST_MAX_US) + 1;
	if ((h = calloc(1, sizeof(*h) + n * sizeof(h->counts[0]))) == NULL)
		return NULL;
	h->bits = bits;
	h->nbuckets = n;
	return h;
}

void
hist_free(struct hist *h)
{
	free(h);
}

void
hist_reset(struct hist *h)
{
	memset(h->counts, 0, h->nbuckets * sizeof(h->counts[0]));
	h->n = h->min = h->max = 0;
	h->sum = 0;
}

void
hist_add(struct hist *h, uint64_t us)
{
	h->counts[bucket_of(h, us)]++;
	if (h->n == 0 || us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->n++;
	h->sum += (double)us;
}

uint64_t
hist_count(const struct hist *h)
{
	return h->n;
}

uint64_t
hist_min(const struct hist *h)
{
	return h->min;
}

uint64_t
hist_max(const struct hist *h)
{
	return h->max;
}

double
hist_mean(const struct hist *h)
{
	return h->n == 0 ? 0 : h->sum / (double)h->n;
}

/* A bucket's middle, kept within the exact extremes. */
static uint64_t
clamped_middle(const struct hist *h, size_t i)
{
	uint64_t v = middle_of(h, i);

	return v < h->min ? h->min : v > h->max ? h->max : v;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	size_t i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->n);
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	for (i = 0; i < h->nbuckets; i++)
		if ((seen += h->counts[i]) >= rank)
			break;
	return clamped_middle(h, i);
}

bool
hist_next(const struct hist *h, size_t *pos, uint64_t *us, uint64_t *n)
{
	size_t i;

	for (i = *pos; i < h->nbuckets; i++)
		if (h->counts[i] != 0) {
			*us = clamped_middle(h, i);
			*n = h->counts[i];
			*pos = i + 1;
			return true;
		}
	*pos = i;
	return false;
}

size_t
hist_bytes(const struct hist *h)
{
	return sizeof(*h) + h->nbuckets * sizeof(h->counts[0]);
}
