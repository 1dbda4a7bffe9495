/* limit.c: limits on when requests start: a rate, and a cap per host. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"

#define HOSTS_BUCKETS	64	/* At first; doubles as hosts come. */

int
limit_rate_init(struct limit_rate *lr, double per_sec)
{
	int e;

	if (!(per_sec > 0)) {
		errno = EINVAL;
		return -1;
	}
	if ((e = pthread_mutex_init(&lr->mu, NULL)) != 0) {
		errno = e;
		return -1;
	}
	lr->interval = 1.0 / per_sec;
	lr->next = 0;
	lr->started = false;
	return 0;
}

double
limit_rate_reserve(struct limit_rate *lr, double now)
{
	double at;

	pthread_mutex_lock(&lr->mu);
	/* An idle spell is not saved up: the next start is now at best. */
	if (!lr->started || lr->next < now) {
		lr->next = now;
		lr->started = true;
	}
	at = lr->next;
	lr->next += lr->interval;
	pthread_mutex_unlock(&lr->mu);
	return at;
}

void
limit_rate_destroy(struct limit_rate *lr)
{
	pthread_mutex_destroy(&lr->mu);
}

struct host {
	struct host	*next;		/* In its bucket's chain. */
	chan_t		*slots;		/* Owned; one byte a request. */
	char		 name[];	/* Lower case. */
};

struct limit_hosts {
	pthread_mutex_t	  mu;		/* Guards the table, not the slots. */
	size_t		  per_host;
	struct host	**buckets;	/* Malloced; nbuckets chains. */
	size_t		  nbuckets;	/* A power of two. */
	size_t		  nhosts;
};

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the lower-case name. */
static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)lower(*s);
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
same_host(const char *lowered, const char *s)
{
	for (; *lowered != '\0' && *s != '\0'; lowered++, s++)
		if (*lowered != lower(*s))
			return false;
	return *lowered == *s;
}

struct limit_hosts *
limit_hosts_new(size_t per_host)
{
	struct limit_hosts *lh;
	int e;

	if (per_host == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((lh = calloc(1, sizeof(*lh))) == NULL)
		goto fail;
	lh->per_host = per_host;
	lh->nbuckets = HOSTS_BUCKETS;
	if ((lh->buckets = calloc(lh->nbuckets, sizeof(*lh->buckets))) ==
	    NULL) {
		errno = ENOMEM;
		goto fail_lh;
	}
	if ((e = pthread_mutex_init(&lh->mu, NULL)) != 0) {
		errno = e;
		goto fail_buckets;
	}
	return lh;

fail_buckets:
	free(lh->buckets);
fail_lh:
	free(lh);
fail:
	return NULL;
}

/* Doubles the table; on failure it stays as it is, only slower. */
static void
grow(struct limit_hosts *lh)
{
	struct host **nb, *h, *next;
	size_t n = lh->nbuckets * 2, i, b;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < lh->nbuckets; i++)
		for (h = lh->buckets[i]; h != NULL; h = next) {
			next = h->next;
			b = (size_t)(hash(h->name) & (n - 1));
			h->next = nb[b];
			nb[b] = h;
		}
	free(lh->buckets);
	lh->buckets = nb;
	lh->nbuckets = n;
}

/* host's slots, added on first use; NULL with ENOMEM. */
static chan_t *
slots_for(struct limit_hosts *lh, const char *host)
{
	struct host *h;
	chan_t *slots = NULL;
	size_t b, len, i;

	pthread_mutex_lock(&lh->mu);
	b = (size_t)(hash(host) & (lh->nbuckets - 1));
	for (h = lh->buckets[b]; h != NULL; h = h->next)
		if (same_host(h->name, host)) {
			slots = h->slots;
			goto out;
		}
	len = strlen(host);
	if ((h = malloc(sizeof(*h) + len + 1)) == NULL)
		goto out;
	if ((h->slots = chan_new(1, lh->per_host)) == NULL) {
		free(h);
		goto out;
	}
	for (i = 0; i <= len; i++)
		h->name[i] = lower(host[i]);
	h->next = lh->buckets[b];
	lh->buckets[b] = h;
	slots = h->slots;
	if (++lh->nhosts > lh->nbuckets)
		grow(lh);
out:
	pthread_mutex_unlock(&lh->mu);
	if (slots == NULL)
		errno = ENOMEM;
	return slots;
}

chan_t *
limit_hosts_acquire(struct limit_hosts *lh, const char *host, chan_t *done)
{
	struct chan_case cases[2];
	chan_t *slots;
	char token = 1;
	int i;

	if ((slots = slots_for(lh, host)) == NULL)
		return NULL;
	/* A run cancelled already takes no slot, even a free one. */
	if (chan_closed(done)) {
		errno = ECANCELED;
		return NULL;
	}
	cases[0] = (struct chan_case){ slots, CHAN_SEND, &token, false };
	cases[1] = (struct chan_case){ done, CHAN_RECV, NULL, false };
	if ((i = chan_select(cases, 2, -1)) < 0)
		return NULL;
	if (i == 0 && cases[0].ok)
		return slots;
	errno = ECANCELED;
	return NULL;
}

void
limit_hosts_release(chan_t *slot)
{
	/* The taker's byte is buffered: this never waits. */
	(void)chan_try_recv(slot, NULL);
}

void
limit_hosts_free(struct limit_hosts *lh)
{
	struct host *h, *next;
	size_t i;

	if (lh == NULL)
		return;
	for (i = 0; i < lh->nbuckets; i++)
		for (h = lh->buckets[i]; h != NULL; h = next) {
			next = h->next;
			chan_free(h->slots);
			free(h);
		}
	free(lh->buckets);
	pthread_mutex_destroy(&lh->mu);
	free(lh);
}
