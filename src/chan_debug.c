/* chan_debug.c: libchan's diagnostics, and chan_go(). */

/*
 * Blocked operations, the deadlock detector, the leak report at exit, and
 * chan_go(), which counts the threads the detector knows.
 */

#include "chan_impl.h"

atomic_bool		 chanp_dbg_on;	/* Read with DBG_ON(). */

static pthread_mutex_t	 dbg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct blocked	*dbg_head;		/* Guarded by dbg_mu. */
static size_t		 dbg_known_alive = 1;	/* Main, and chan_go()'s. */
static atomic_ulong	 dbg_next_thread = 2;	/* Main is thread 1. */
static pthread_t	 dbg_main;
static pthread_once_t	 dbg_once = PTHREAD_ONCE_INIT;
static _Thread_local unsigned long dbg_thread;	/* 0: unknown. */

static double
elapsed_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static unsigned long
dbg_self(void)
{
	if (dbg_thread == 0 && pthread_equal(pthread_self(), dbg_main))
		dbg_thread = 1;
	return dbg_thread;
}

/* A select's cases listed in a report: the first few tell enough. */
#define DBG_CASES	8

/* "channel 0x... (4-byte values, cap 0)", or "nil channel" for NULL. */
static void
dbg_print_chan(FILE *fp, const chan_t *ch)
{
	if (ch == NULL)
		fputs("nil channel", fp);
	else
		fprintf(fp, "channel %p (%zu-byte values, cap %zu)",
		    (const void *)ch, ch->elem_size, ch->cap);
}

static void
dbg_print(FILE *fp, const struct blocked *b)
{
	size_t i;

	if (b->thread != 0)
		fprintf(fp, "thread %lu%s [%s", b->thread,
		    b->thread == 1 ? " (main)" : "", b->what);
	else
		fprintf(fp, "thread ? [%s", b->what);
	fputs("]: ", fp);
	if (b->cases == NULL)
		dbg_print_chan(fp, b->ch);
	else {
		fprintf(fp, "%zu cases", b->ncases);
		for (i = 0; i < b->ncases && i < DBG_CASES; i++) {
			fputs(i == 0 ? " (" : ", ", fp);
			fputs(b->cases[i].op == CHAN_SEND ? "send on " :
			    "receive on ", fp);
			dbg_print_chan(fp, b->cases[i].ch);
		}
		if (b->ncases > DBG_CASES)
			fputs(", ...", fp);
		if (b->ncases > 0)
			fputc(')', fp);
	}
	fprintf(fp, ", blocked %.2fs%s\n", elapsed_since(&b->since),
	    b->timed ? " with a timeout" : "");
}

/*
 * Counts the process's threads; 0 when it cannot tell.  The kernel's own
 * count: a listing of /proc/self/task can skip threads while others exit,
 * and a deadlock was once declared so with a sender still to come.
 */
static size_t
dbg_tasks(void)
{
	char line[128];
	size_t n = 0;
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "Threads:", 8) == 0) {
			n = strtoul(line + 8, NULL, 10);
			break;
		}
	fclose(fp);
	return n;
}


/*
 * ThreadSanitizer runs a thread of its own once a program has started one,
 * which must not count as a thread that could wake anybody.
 */
#if defined(__SANITIZE_THREAD__)
#define RUNTIME_THREADS	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUNTIME_THREADS	1
#endif
#endif
#ifndef RUNTIME_THREADS
#define RUNTIME_THREADS	0
#endif

/*
 * Ends the process if every known thread is parked for good.  exiting is
 * 1 when called by a known thread on its way out.  Called under dbg_mu.
 */
static void
dbg_check_deadlock(size_t exiting)
{
	const struct blocked *b;
	size_t asleep = 0, tasks;

	for (b = dbg_head; b != NULL; b = b->next)
		if (b->known && !b->timed)
			asleep++;
	if (asleep == 0 || asleep < dbg_known_alive)
		return;
	/* Without a count, no verdict. */
	tasks = dbg_tasks();
	if (tasks == 0 || tasks > dbg_known_alive + exiting + RUNTIME_THREADS)
		return;
	fprintf(stderr, "fatal error: all threads are asleep - deadlock!\n\n");
	for (b = dbg_head; b != NULL; b = b->next)
		dbg_print(stderr, b);
	abort();
}

void
chanp_blocked_link(struct blocked *b, struct parker *p, const char *what,
    const chan_t *ch, const struct chan_case *cases, size_t ncases,
    bool timed)
{
	b->what = what;
	b->ch = ch;
	b->cases = cases;
	b->ncases = ncases;
	b->thread = dbg_self();
	b->known = b->thread != 0;
	b->timed = timed;
	clock_gettime(CLOCK_MONOTONIC, &b->since);
	pthread_mutex_lock(&dbg_mu);
	b->prev = NULL;
	b->next = dbg_head;
	if (dbg_head != NULL)
		dbg_head->prev = b;
	dbg_head = b;
	b->linked = true;
	pthread_mutex_unlock(&dbg_mu);
	p->rec = b;
}

/*
 * Ends the process if the thread of b, still blocked, now waits with every
 * other known thread for good.  Called once the operation has had its last
 * chance to complete without parking (chanp_settle_locked()): until then
 * a value in the ring may be for it, from a sender that has gone since.
 */
void
chanp_blocked_check(const struct blocked *b)
{
	pthread_mutex_lock(&dbg_mu);
	if (b->linked && b->known && !b->timed)
		dbg_check_deadlock(0);
	pthread_mutex_unlock(&dbg_mu);
}

static void
blocked_unlink(struct blocked *b)
{
	pthread_mutex_lock(&dbg_mu);
	if (b->linked) {
		if (b->prev != NULL)
			b->prev->next = b->next;
		else
			dbg_head = b->next;
		if (b->next != NULL)
			b->next->prev = b->prev;
		b->linked = false;
	}
	pthread_mutex_unlock(&dbg_mu);
}

/*
 * After the wait: unlinks, and charges the time blocked to ch.  The
 * thread that completes a wait does this, under ch's lock, since the
 * thread that waited may find ch freed by then.
 */
void
chanp_blocked_done(struct blocked *b, chan_t *ch)
{
	blocked_unlink(b);
	/* Relaxed: a statistic, read by chan_stats(); no order needed. */
	if (ch != NULL)
		atomic_fetch_add_explicit(&ch->blocked_ns,
		    (unsigned long long)(elapsed_since(&b->since) * 1e9),
		    memory_order_relaxed);
}

static void
dbg_atexit(void)
{
	const struct blocked *b;
	size_t n = 0;

	/* Switched off since: no report.  Seq_cst, as chan_debug()'s. */
	if (!atomic_load(&chanp_dbg_on))
		return;
	pthread_mutex_lock(&dbg_mu);
	for (b = dbg_head; b != NULL; b = b->next)
		n++;
	if (n > 0) {
		fprintf(stderr, "chan: %zu thread%s still blocked at exit "
		    "(leaked):\n", n, n == 1 ? "" : "s");
		for (b = dbg_head; b != NULL; b = b->next) {
			fputs("chan:   ", stderr);
			dbg_print(stderr, b);
		}
	}
	pthread_mutex_unlock(&dbg_mu);
}

static void
dbg_register_atexit(void)
{
	atexit(dbg_atexit);
}

void
chan_debug(bool on)
{
	if (on)
		pthread_once(&dbg_once, dbg_register_atexit);
	/*
	 * Seq_cst, as chan_debug_enabled()'s load: the switch pairs with
	 * nothing, but a thread that switches and then asks gets its answer.
	 * The operations read it relaxed (DBG_ON()).
	 */
	atomic_store(&chanp_dbg_on, on);
}

bool
chan_debug_enabled(void)
{
	return atomic_load(&chanp_dbg_on);
}

void
chan_debug_report(FILE *fp)
{
	const struct blocked *b;

	pthread_mutex_lock(&dbg_mu);
	for (b = dbg_head; b != NULL; b = b->next)
		dbg_print(fp, b);
	pthread_mutex_unlock(&dbg_mu);
}

/* Reads CHAN_DEBUG and notes the main thread before main() runs. */
__attribute__((constructor)) static void
dbg_init(void)
{
	const char *v = getenv("CHAN_DEBUG");

	dbg_main = pthread_self();
	if (v != NULL && *v != '\0' && strcmp(v, "0") != 0)
		chan_debug(true);
}

struct go_start {
	void		(*fn)(void *);
	void		*arg;
	unsigned long	 thread;
};

/*
 * Counts a chan_go() thread out, however it ends: returning from its
 * function, pthread_exit() or cancellation.
 */
static void
go_exit(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&dbg_mu);
	dbg_known_alive--;
	if (DBG_ON())
		dbg_check_deadlock(1);
	pthread_mutex_unlock(&dbg_mu);
}

static void *
go_main(void *arg)
{
	struct go_start st = *(struct go_start *)arg;

	free(arg);
	dbg_thread = st.thread;
	pthread_cleanup_push(go_exit, NULL);
	st.fn(st.arg);
	pthread_cleanup_pop(1);
	return NULL;
}

int
chan_go(void (*fn)(void *), void *arg)
{
	struct go_start *st;
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((st = malloc(sizeof(*st))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	st->fn = fn;
	st->arg = arg;
	/* Only distinct numbers matter: the order of seq_cst is unused. */
	st->thread = atomic_fetch_add_explicit(&dbg_next_thread, 1,
	    memory_order_relaxed);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Counted before it runs, so that it is never missed. */
	pthread_mutex_lock(&dbg_mu);
	dbg_known_alive++;
	pthread_mutex_unlock(&dbg_mu);
	err = pthread_create(&tid, &attr, go_main, st);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		pthread_mutex_lock(&dbg_mu);
		dbg_known_alive--;
		pthread_mutex_unlock(&dbg_mu);
		free(st);
		errno = err;
		return -1;
	}
	return 0;
}
