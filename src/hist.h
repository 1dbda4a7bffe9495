/* hist.h: a log-linear histogram of durations in bounded memory. */
#ifndef HIST_H
#define HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A histogram of durations in whole microseconds, laid out as
 * HdrHistogram lays out its buckets: values below 2^bits each have a
 * bucket of their own; above, every power of two is cut into 2^(bits-1)
 * buckets of equal width.  Each bucket stands for its middle, which is
 * within a relative 2^-bits of every value in it: 0.098% for 10 bits,
 * 3.1% for 5.  Values from HIST_MAX_US up share the last bucket.
 *
 * The memory is allocated once, by hist_new(), and never grows with the
 * number of values added.  Not thread-safe.
 */
struct hist;

/* The largest value with a bucket of its own: 2^36 us, about 19 hours. */
#define HIST_MAX_US	((uint64_t)1 << 36)

/*
 * Creates an empty histogram with the precision bits (from 2 to 16).
 * Returns NULL with errno set (EINVAL, ENOMEM).
 */
struct hist	*hist_new(int bits);

/* Frees h; NULL is a no-op. */
void		 hist_free(struct hist *h);

/* Empties h. */
void		 hist_reset(struct hist *h);

/* Adds one value, us microseconds. */
void		 hist_add(struct hist *h, uint64_t us);

/* How many values were added. */
uint64_t	 hist_count(const struct hist *h);

/* The smallest and largest values added, exactly; 0 when empty. */
uint64_t	 hist_min(const struct hist *h);
uint64_t	 hist_max(const struct hist *h);

/* The mean of the values added, exactly (to double's precision). */
double		 hist_mean(const struct hist *h);

/*
 * The q-quantile (0 < q <= 1) by nearest rank: the value ranked
 * ceil(q * count) from the smallest, within the relative error above.
 * 0 when empty.
 */
uint64_t	 hist_quantile(const struct hist *h, double q);

/*
 * Walks the nonempty buckets in increasing order: sets *us to the value
 * a bucket stands for and *n to its count, for the first nonempty bucket
 * at or after *pos, and moves *pos past it.  Start with *pos = 0.
 * Returns false once no bucket is left.
 */
bool		 hist_next(const struct hist *h, size_t *pos, uint64_t *us,
		    uint64_t *n);

/* The bytes h occupies: fixed by its precision. */
size_t		 hist_bytes(const struct hist *h);

#endif /* HIST_H */
